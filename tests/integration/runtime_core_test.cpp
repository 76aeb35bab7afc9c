// Integration tests of the runtime core on the real broker: a restore runs off the
// rebalance callback, so one longer than max.poll.interval.ms keeps the member in its
// group; and an exactly_once transaction stays small enough to commit well inside
// transaction.timeout.ms however slow the handler, so a slow service over a large backlog
// is never fenced and emits each record once.

#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

std::string key_of(std::int64_t i) {
  return "key-" + std::to_string(i % 50);
}

std::string one(std::int64_t) {
  return "1";
}

std::string number(std::int64_t i) {
  return std::to_string(i);
}

/// Adds the event's value to its key's row: doubled or lost events show in the sums.
void add(const eddy::record& event, eddy::state_view state) {
  auto sum = state.get(event.key);
  state.put(event.key, std::to_string((sum ? std::stoll(*sum) : 0) + std::stoll(event.value)));
}

} // namespace

TEST_CASE("a restore longer than max.poll.interval.ms keeps the member in its group") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("slow-restore-in");
  auto out = eddy::test::unique_name("slow-restore-out");
  auto journal = eddy::test::unique_name("slow-restore-journal");
  auto group = eddy::test::unique_name("slow-restore-group");
  auto state_dir =
    std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-state");
  const std::int64_t journaled = 8000;
  const std::int64_t inputs = 200;
  eddy::test::create_topic(bootstrap, in, 2);
  eddy::test::create_topic(bootstrap, journal, 2,
                           {{"retention.ms", "-1"}, {"retention.bytes", "-1"}});
  // A history the service has never seen: its store is empty, so it replays all of it.
  eddy::test::produce(bootstrap, journal, journaled, key_of, one);
  eddy::test::produce(bootstrap, in, inputs, key_of, number);

  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap)
    .set("group.id", group)
    .set("eddy.state.dir", state_dir.string())
    .set("max.poll.interval.ms", "6000")
    .set("session.timeout.ms", "6000");
  eddy::service svc{"slow-restore", cfg};
  std::atomic<bool> restoring{true};
  svc.topic(out, 2);
  svc.journal(journal, 2, [&](const eddy::record& event, eddy::state_view state) {
    if (restoring.load())
      std::this_thread::sleep_for(1ms); // ~8 s of restore: longer than max.poll.interval.ms
    add(event, state);
  });
  std::mutex mtx;
  std::map<std::string, std::int64_t> last_sum;
  svc.consume(in, [&](const eddy::record& r, eddy::context& ctx) {
    restoring.store(false);
    ctx.emit_event(r.key, "1");
    auto sum = ctx.state().get(r.key);
    std::lock_guard<std::mutex> guard{mtx};
    last_sum[r.key] = std::stoll(*sum);
  });
  auto started = std::chrono::steady_clock::now();
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled >= inputs; }, 90s));
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(running.stop_and_join());
  std::filesystem::remove_all(state_dir);

  INFO("restore and handling took " << std::chrono::duration<double>(took).count() << " s");
  CHECK(took > 6s);
  CHECK(svc.stats().partitions_lost == 0);
  CHECK(svc.stats().events_restored == journaled);
  CHECK(svc.stats().records_handled == inputs);
  // Every key's sum is its journaled events plus its inputs: nothing doubled or lost.
  for (auto& [key, sum] : last_sum)
    CHECK(sum == journaled / 50 + inputs / 50);
  CHECK(last_sum.size() == 50);
}

TEST_CASE("exactly_once: a 2 ms handler over a 100 000-record backlog is never fenced and "
          "emits each record exactly once") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("eos-slow-in");
  auto out = eddy::test::unique_name("eos-slow-out");
  auto group = eddy::test::unique_name("eos-slow-group");
  const std::int64_t n = 100000;
  eddy::test::create_topic(bootstrap, in, 8);
  eddy::test::produce(bootstrap, in, n, key_of, number);
  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap)
    .set("group.id", group)
    .set("eddy.processing.guarantee", "exactly_once")
    .set("eddy.scheduler.threads", "8")
    .set("eddy.state.dir", (std::filesystem::temp_directory_path() / group).string());
  eddy::service svc{"eos-slow", cfg};
  svc.topic(out, 8);
  svc.consume(in, [out](const eddy::record& r, eddy::context& ctx) {
    std::this_thread::sleep_for(2ms);
    ctx.emit(out, r.key, r.value);
  });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually(
    [&] {
      std::this_thread::sleep_for(500ms);
      return svc.state() == eddy::service_state::failed
             || eddy::test::committed_total(bootstrap, group, in, 8) == n;
    },
    240s));
  auto outcome = running.stop_and_join();
  std::string how = outcome ? std::string{"stopped cleanly"} : outcome.error_value().what();
  INFO(how);
  REQUIRE(outcome);
  auto stats = svc.stats();
  WARN("slow exactly_once: " << stats.commits << " transactions committed, "
                             << stats.transactions_aborted << " aborted");
  std::map<std::string, int> counts;
  for (auto& r : eddy::test::consume(bootstrap, out, n, 20s, true))
    ++counts[r.value];
  CHECK(static_cast<std::int64_t>(counts.size()) == n);
  std::int64_t repeated = 0;
  for (auto& [value, count] : counts)
    repeated += count - 1;
  CHECK(repeated == 0);
}
