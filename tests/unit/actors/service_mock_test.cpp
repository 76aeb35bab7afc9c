// Unit tests of the runtime on librdkafka's in-process mock cluster (no broker, no Java):
// the poll loop, credit and pause, commit bookkeeping, and dead letters.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>
#include <eddy/testing/mock_cluster.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

eddy::config mock_config(const eddy::testing::mock_cluster& cluster) {
  return eddy::test::mock_service_config(cluster.bootstrap());
}

std::string key_of(std::int64_t i) {
  return "k" + std::to_string(i % 97);
}

std::string value_of(std::int64_t i) {
  return std::to_string(i);
}

} // namespace

TEST_CASE("the poll loop hands every record to the handler in per-partition order") {
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("in", 4);
  cluster.create_topic("out", 4);
  cluster.create_topic("copy-dlq", 1);
  eddy::test::produce(cluster.bootstrap(), "in", 20000, key_of, value_of);

  eddy::service svc{"copy", mock_config(cluster)};
  std::mutex mtx;
  std::map<std::int32_t, std::int64_t> last_offset;
  bool ordered = true;
  svc.consume("in", [&](const eddy::record& r, eddy::context& ctx) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto [it, fresh] = last_offset.emplace(r.partition, r.offset);
      if (!fresh) {
        ordered = ordered && r.offset == it->second + 1;
        it->second = r.offset;
      }
    }
    ctx.emit("out", r.key, r.value);
  });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled >= 20000; }, 30s));
  REQUIRE(running.stop_and_join());
  CHECK(ordered);
  CHECK(svc.stats().records_handled == 20000);
  CHECK(svc.stats().records_emitted == 20000);
  CHECK(svc.state() == eddy::service_state::stopped);
  auto out = eddy::test::consume(cluster.bootstrap(), "out", 20000, 3s);
  CHECK(out.size() == 20000);
  CHECK(eddy::test::committed_total(cluster.bootstrap(), "copy", "in", 4) == 20000);
}

TEST_CASE("a task out of credit gets its partition paused until credit returns") {
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("slow-in", 1);
  cluster.create_topic("slow-dlq", 1);
  eddy::test::produce(cluster.bootstrap(), "slow-in", 5000, key_of, value_of);

  auto cfg = mock_config(cluster);
  cfg.set("eddy.credit.window", "500").set("eddy.batch.max.records", "50");
  eddy::service svc{"slow", cfg};
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;
  std::atomic<std::int64_t> handled{0};
  svc.consume("slow-in", [&](const eddy::record&, eddy::context&) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return open; });
    ++handled;
  });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().paused_partitions == 1; }, 10s));
  // Blocked handler: nothing handled, and the source stops handing out records.
  std::this_thread::sleep_for(300ms);
  CHECK(handled == 0);
  {
    std::lock_guard<std::mutex> guard{mtx};
    open = true;
  }
  cv.notify_all();
  REQUIRE(eddy::test::eventually([&] { return handled == 5000; }, 30s));
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().paused_partitions == 0);
  CHECK(svc.stats().pauses >= 1);
}

TEST_CASE("waking a fetcher left idle by a full queue loses and repeats no record") {
  // A tiny queue limit and credit window: the loop wakes fetchers and resumes paused
  // partitions by seeking, over and over, while every offset must arrive once and in order.
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("wake-in", 2);
  cluster.create_topic("wake-dlq", 1);
  constexpr std::int64_t total = 20000;
  eddy::test::produce(cluster.bootstrap(), "wake-in", total, key_of, value_of);

  auto cfg = mock_config(cluster);
  cfg.set("consumer.queued.min.messages", "200")
    .set("eddy.credit.window", "1000")
    .set("eddy.batch.max.records", "100");
  eddy::service svc{"wake", cfg};
  std::mutex mtx;
  std::map<std::int32_t, std::int64_t> next_offset;
  std::int64_t out_of_order = 0;
  svc.consume("wake-in", [&](const eddy::record& r, eddy::context&) {
    std::lock_guard<std::mutex> guard{mtx};
    auto& next = next_offset[r.partition];
    if (r.offset != next)
      ++out_of_order;
    next = r.offset + 1;
  });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled >= total; }, 60s));
  REQUIRE(running.stop_and_join());
  auto stats = svc.stats();
  CHECK(out_of_order == 0);
  CHECK(stats.records_handled == total);
  CHECK(next_offset[0] + next_offset[1] == total);
  CHECK(stats.fetch_wakeups > 0);
  CHECK(stats.pauses > 0);
}

TEST_CASE(
  "a record whose handler throws goes to the dead-letter topic and the service goes on") {
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("dl-in", 2);
  cluster.create_topic("dl-out", 2);
  cluster.create_topic("dl-dlq", 1);
  eddy::test::produce(cluster.bootstrap(), "dl-in", 100, key_of, value_of);

  eddy::service svc{"dl", mock_config(cluster)};
  svc.consume("dl-in", [](const eddy::record& r, eddy::context& ctx) {
    if (r.value == "42")
      throw std::runtime_error{"cannot handle 42"};
    ctx.emit("dl-out", r.key, r.value);
  });
  eddy::test::service_thread running{svc};
  bool all_handled =
    eddy::test::eventually([&] { return svc.stats().records_handled >= 100; }, 30s);
  auto seen = svc.stats();
  INFO("handled=" << seen.records_handled << " emitted=" << seen.records_emitted
                  << " handler_errors=" << seen.handler_errors << " dead_letters="
                  << seen.dead_letters << " assigned=" << seen.assigned_partitions
                  << " paused=" << seen.paused_partitions << " commits=" << seen.commits
                  << " lost=" << seen.partitions_lost);
  REQUIRE(all_handled);
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().records_handled == 100);
  CHECK(svc.stats().handler_errors == 1);
  auto dead = eddy::test::consume(cluster.bootstrap(), "dl-dlq", 1, 3s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].value == "42");
  CHECK(*dead[0].find_header("eddy.error") == "cannot handle 42");
  CHECK(*dead[0].find_header("eddy.source.topic") == "dl-in");
  CHECK(*dead[0].find_header("eddy.service") == "dl");
  CHECK(eddy::test::consume(cluster.bootstrap(), "dl-out", 99, 3s).size() == 99);
}
