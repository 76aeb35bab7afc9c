// Unit tests of the error policies on librdkafka's in-process mock cluster: a record that
// does not decode, a handler that throws, and an output refused for good, each with
// fail (the service stops at the record), continue (skipped and counted) and dead_letter
// (the dead-letter topic gets the record with headers naming source, moment and error).

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include <catch2/catch.hpp>

#include <eddy/error_policy.hpp>
#include <eddy/service.hpp>
#include <eddy/testing/mock_cluster.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

eddy::config mock_config(const eddy::testing::mock_cluster& cluster) {
  auto cfg = eddy::test::mock_service_config(cluster.bootstrap());
  cfg.set("eddy.batch.max.records", "10");
  return cfg;
}

/// A one-partition input of 100 records with values "0".."99" (keys "k0".."k99"), an
/// output and the dead-letter topic of service `name`.
void make_topics(eddy::testing::mock_cluster& cluster, const std::string& name) {
  cluster.create_topic(name + "-in", 1);
  cluster.create_topic(name + "-out", 1);
  cluster.create_topic(name + "-dlq", 1);
  eddy::test::produce(
    cluster.bootstrap(), name + "-in", 100,
    [](std::int64_t i) { return "k" + std::to_string(i); },
    [](std::int64_t i) { return std::to_string(i); });
}

/// Copies records to `<name>-out`; value "42" does not decode, value "7" makes it throw.
eddy::handler copy_to(const std::string& out) {
  return [out](const eddy::record& r, eddy::context& ctx) {
    if (r.value == "42")
      throw eddy::decode_error{"cannot parse 42"};
    if (r.value == "7")
      throw std::runtime_error{"cannot handle 7"};
    ctx.emit(out, r.key, r.value);
  };
}

const std::string& header(const eddy::record& r, const std::string& name) {
  static const std::string none = "<none>";
  auto* value = r.find_header(name);
  return value ? *value : none;
}

} // namespace

TEST_CASE("by default a record that does not decode and one whose handler throws are "
          "dead-lettered apart") {
  eddy::testing::mock_cluster cluster;
  make_topics(cluster, "pol-dl");
  eddy::service svc{"pol-dl", mock_config(cluster)};
  svc.consume("pol-dl-in", copy_to("pol-dl-out"));
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled == 100; }, 30s));
  REQUIRE(eddy::test::eventually(
    [&] {
      return eddy::test::committed_total(cluster.bootstrap(), "pol-dl", "pol-dl-in", 1) == 100;
    },
    10s));
  REQUIRE(running.stop_and_join());
  auto stats = svc.stats();
  CHECK(stats.decode_errors == 1);
  CHECK(stats.handler_errors == 1);
  CHECK(stats.dead_letters == 2);
  CHECK(stats.errors_skipped == 0);
  auto dead = eddy::test::consume(cluster.bootstrap(), "pol-dl-dlq", 2, 3s);
  REQUIRE(dead.size() == 2);
  std::sort(dead.begin(), dead.end(), [](auto& a, auto& b) { return a.value < b.value; });
  CHECK(dead[0].value == "42");
  CHECK(dead[0].key == "k42");
  CHECK(header(dead[0], "eddy.error.moment") == "decode");
  CHECK(header(dead[0], "eddy.error") == "cannot parse 42");
  CHECK(header(dead[0], "eddy.source.topic") == "pol-dl-in");
  CHECK(header(dead[0], "eddy.source.partition") == "0");
  CHECK(header(dead[0], "eddy.source.offset") == "42");
  CHECK(header(dead[0], "eddy.service") == "pol-dl");
  CHECK(dead[1].value == "7");
  CHECK(header(dead[1], "eddy.error.moment") == "handler");
  CHECK(header(dead[1], "eddy.error") == "cannot handle 7");
  CHECK(eddy::test::consume(cluster.bootstrap(), "pol-dl-out", 98, 3s).size() == 98);
}

TEST_CASE("decode=continue skips and counts the record; the handler policy is separate") {
  eddy::testing::mock_cluster cluster;
  make_topics(cluster, "pol-skip");
  auto cfg = mock_config(cluster);
  cfg.set("eddy.errors.decode", "continue");
  eddy::service svc{"pol-skip", cfg};
  svc.consume("pol-skip-in", copy_to("pol-skip-out"));
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled == 100; }, 30s));
  REQUIRE(eddy::test::eventually(
    [&] {
      return eddy::test::committed_total(cluster.bootstrap(), "pol-skip", "pol-skip-in", 1)
             == 100;
    },
    10s));
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().decode_errors == 1);
  CHECK(svc.stats().errors_skipped == 1);
  CHECK(svc.stats().dead_letters == 1);
  auto dead = eddy::test::consume(cluster.bootstrap(), "pol-skip-dlq", 1, 3s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].value == "7"); // the handler's failure only
}

TEST_CASE("decode=fail stops the service at the record and commits nothing past it") {
  eddy::testing::mock_cluster cluster;
  make_topics(cluster, "pol-fail");
  auto cfg = mock_config(cluster);
  cfg.set("eddy.errors.decode", "fail");
  eddy::service svc{"pol-fail", cfg};
  std::atomic<std::int64_t> last_seen{-1};
  auto copy = copy_to("pol-fail-out");
  svc.consume("pol-fail-in", [&](const eddy::record& r, eddy::context& ctx) {
    last_seen.store(std::max(last_seen.load(), r.offset));
    copy(r, ctx);
  });
  eddy::test::service_thread running{svc};
  REQUIRE(
    eddy::test::eventually([&] { return svc.state() == eddy::service_state::failed; }, 30s));
  auto outcome = running.stop_and_join();
  REQUIRE(!outcome);
  CHECK(outcome.error_value().code == eddy::errc::record_failed);
  CHECK_THAT(outcome.error_value().message,
             Catch::Contains("pol-fail-in[0]@42") && Catch::Contains("cannot parse 42"));
  CHECK(last_seen.load() == 42);
  CHECK(eddy::test::committed_total(cluster.bootstrap(), "pol-fail", "pol-fail-in", 1) <= 42);
  CHECK(svc.stats().decode_errors == 1);
  auto dead = eddy::test::consume(cluster.bootstrap(), "pol-fail-dlq", 1, 1s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].value == "7"); // the handler's failure before it; 42 itself is not there
}

TEST_CASE("a handler policy set in code wins over the setting and sees the record") {
  eddy::testing::mock_cluster cluster;
  make_topics(cluster, "pol-code");
  auto cfg = mock_config(cluster);
  cfg.set("eddy.errors.handler", "continue");
  eddy::service svc{"pol-code", cfg};
  std::mutex mtx;
  std::vector<std::string> seen;
  svc.on_handler_error([&](const eddy::processing_error& err) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.push_back(std::string{eddy::to_string(err.moment)} + ":" + err.input.value + ":"
                   + std::string{err.message});
    return eddy::error_response::fail;
  });
  svc.consume("pol-code-in", copy_to("pol-code-out"));
  eddy::test::service_thread running{svc};
  REQUIRE(
    eddy::test::eventually([&] { return svc.state() == eddy::service_state::failed; }, 30s));
  auto outcome = running.stop_and_join();
  REQUIRE(!outcome);
  CHECK_THAT(outcome.error_value().message, Catch::Contains("pol-code-in[0]@7"));
  std::lock_guard<std::mutex> guard{mtx};
  CHECK(seen == std::vector<std::string>{"handler:7:cannot handle 7"});
  CHECK(eddy::test::committed_total(cluster.bootstrap(), "pol-code", "pol-code-in", 1) <= 7);
}

TEST_CASE("an output the client refuses goes to the dead-letter topic, its value dropped "
          "when too large there too, and the service goes on") {
  eddy::testing::mock_cluster cluster;
  make_topics(cluster, "pol-big");
  auto cfg = mock_config(cluster);
  // produce() refuses a record above the client's message.max.bytes at once.
  cfg.set("producer.message.max.bytes", "10000");
  eddy::service svc{"pol-big", cfg};
  svc.consume("pol-big-in", [](const eddy::record& r, eddy::context& ctx) {
    auto value = r.value == "5" ? std::string(20000, 'x') : r.value;
    ctx.emit("pol-big-out", r.key, value, {{"trace", "t" + r.value}});
  });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually(
    [&] {
      return eddy::test::committed_total(cluster.bootstrap(), "pol-big", "pol-big-in", 1)
             == 100;
    },
    30s));
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().production_errors == 2); // the output, then its too large dead letter
  CHECK(svc.stats().dead_letters == 1);
  auto dead = eddy::test::consume(cluster.bootstrap(), "pol-big-dlq", 1, 3s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].key == "k5");
  CHECK(dead[0].value.empty());
  CHECK_FALSE(dead[0].value_null);
  CHECK(header(dead[0], "trace") == "t5");
  CHECK(header(dead[0], "eddy.error.moment") == "production");
  CHECK(header(dead[0], "eddy.error.code") == "MSG_SIZE_TOO_LARGE");
  CHECK(header(dead[0], "eddy.output.topic") == "pol-big-out");
  CHECK(header(dead[0], "eddy.source.topic") == "pol-big-in");
  CHECK(header(dead[0], "eddy.source.offset") == "5");
  CHECK(header(dead[0], "eddy.value.dropped") == "true");
  CHECK(header(dead[0], "eddy.value.size") == "20000");
  CHECK(eddy::test::consume(cluster.bootstrap(), "pol-big-out", 99, 3s).size() == 99);
}

TEST_CASE("production=fail stops the service with an error naming the refused topic") {
  eddy::testing::mock_cluster cluster;
  make_topics(cluster, "pol-pfail");
  auto cfg = mock_config(cluster);
  cfg.set("producer.message.max.bytes", "10000").set("eddy.errors.production", "fail");
  eddy::service svc{"pol-pfail", cfg};
  svc.consume("pol-pfail-in", [](const eddy::record& r, eddy::context& ctx) {
    ctx.emit("pol-pfail-out", r.key, r.value == "5" ? std::string(20000, 'x') : r.value);
  });
  eddy::test::service_thread running{svc};
  REQUIRE(
    eddy::test::eventually([&] { return svc.state() == eddy::service_state::failed; }, 30s));
  auto outcome = running.stop_and_join();
  REQUIRE(!outcome);
  CHECK(outcome.error_value().code == eddy::errc::delivery_failed);
  CHECK_THAT(outcome.error_value().message, Catch::Contains("pol-pfail-out"));
  CHECK(eddy::test::committed_total(cluster.bootstrap(), "pol-pfail", "pol-pfail-in", 1) <= 5);
  CHECK(eddy::test::consume(cluster.bootstrap(), "pol-pfail-dlq", 0, 1s).empty());
}
