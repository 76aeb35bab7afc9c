// Integration tests of the production error policy on the real broker: an output larger
// than its topic's max.message.bytes is refused by the BROKER (MSG_SIZE_TOO_LARGE, a
// permanent error). With dead_letter the dead letter is written, the service goes on,
// commits, and a restart does not stop again; with fail it stops naming the topic. In
// exactly_once, a record the client refuses at produce() is dead-lettered inside the
// transaction, and one the broker refuses stops the service.

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

struct topics {
  std::string in = eddy::test::unique_name("pol-in");
  std::string out = eddy::test::unique_name("pol-out");
  std::string dlq = eddy::test::unique_name("pol-dlq");
  std::string group = eddy::test::unique_name("pol-group");
};

/// Input of one partition, an output whose broker limit is 1000 bytes per batch.
topics make_topics() {
  topics t;
  auto bootstrap = eddy::test::broker_bootstrap();
  eddy::test::create_topic(bootstrap, t.in, 1);
  eddy::test::create_topic(bootstrap, t.out, 1, {{"max.message.bytes", "1000"}});
  return t;
}

eddy::config base_config(const topics& t, const std::string& guarantee = "at_least_once") {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", t.group)
    .set("eddy.dead.letter.topic", t.dlq)
    .set("eddy.commit.interval.ms", "200")
    .set("eddy.processing.guarantee", guarantee)
    // One record per produce batch: the broker refuses whole batches, and librdkafka
    // does not split them, so a large record would take its batch-mates with it.
    .set("producer.batch.num.messages", "1");
  return cfg;
}

std::string key_of(std::int64_t i) {
  return "k" + std::to_string(i);
}

std::string value_of(std::int64_t i) {
  return std::to_string(i);
}

/// Copies each record to `out`; the record with value "5" becomes `big` bytes.
eddy::handler copy_big(const std::string& out, std::size_t big = 5000) {
  return [out, big](const eddy::record& r, eddy::context& ctx) {
    ctx.emit(out, r.key, r.value == "5" ? std::string(big, 'x') : r.value,
             {{"trace", "t" + r.value}});
  };
}

const std::string& header(const eddy::record& r, const std::string& name) {
  static const std::string none = "<none>";
  auto* value = r.find_header(name);
  return value ? *value : none;
}

} // namespace

TEST_CASE("an output the broker refuses for good is dead-lettered, the service goes on, and "
          "a restart does not stop again") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto t = make_topics();
  eddy::test::produce(bootstrap, t.in, 20, key_of, value_of);
  {
    eddy::service svc{"pol-it", base_config(t)};
    svc.consume(t.in, copy_big(t.out));
    eddy::test::service_thread running{svc};
    REQUIRE(eddy::test::eventually(
      [&] { return eddy::test::committed_total(bootstrap, t.group, t.in, 1) == 20; }, 60s));
    CHECK(svc.state() == eddy::service_state::running);
    REQUIRE(running.stop_and_join());
    CHECK(svc.stats().production_errors == 1);
    CHECK(svc.stats().dead_letters == 1);
  }
  auto dead = eddy::test::consume(bootstrap, t.dlq, 1, 5s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].key == "k5");
  CHECK(dead[0].value == std::string(5000, 'x'));
  CHECK(header(dead[0], "trace") == "t5");
  CHECK(header(dead[0], "eddy.error.moment") == "production");
  CHECK(header(dead[0], "eddy.error.code") == "MSG_SIZE_TOO_LARGE");
  CHECK(header(dead[0], "eddy.output.topic") == t.out);
  CHECK(header(dead[0], "eddy.source.topic") == t.in);
  CHECK(header(dead[0], "eddy.source.offset") == "5");
  CHECK(header(dead[0], "eddy.service") == "pol-it");
  CHECK(eddy::test::consume(bootstrap, t.out, 19, 5s).size() == 19);

  // Restarted, the service neither meets the refused record again nor stops.
  eddy::test::produce(bootstrap, t.in, 5, key_of, value_of, 20);
  eddy::service again{"pol-it", base_config(t)};
  again.consume(t.in, copy_big(t.out));
  eddy::test::service_thread running{again};
  REQUIRE(eddy::test::eventually(
    [&] { return eddy::test::committed_total(bootstrap, t.group, t.in, 1) == 25; }, 60s));
  CHECK(again.state() == eddy::service_state::running);
  REQUIRE(running.stop_and_join());
  CHECK(again.stats().records_handled == 5);
  CHECK(again.stats().production_errors == 0);
  CHECK(eddy::test::consume(bootstrap, t.out, 24, 5s).size() == 24);
}

TEST_CASE("with production=fail an output the broker refuses stops the service naming the "
          "topic") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto t = make_topics();
  eddy::test::produce(bootstrap, t.in, 20, key_of, value_of);
  auto cfg = base_config(t);
  cfg.set("eddy.errors.production", "fail");
  eddy::service svc{"pol-it-fail", cfg};
  svc.consume(t.in, copy_big(t.out));
  eddy::test::service_thread running{svc};
  REQUIRE(
    eddy::test::eventually([&] { return svc.state() == eddy::service_state::failed; }, 60s));
  auto outcome = running.stop_and_join();
  REQUIRE(!outcome);
  CHECK(outcome.error_value().code == eddy::errc::delivery_failed);
  CHECK_THAT(outcome.error_value().message, Catch::Contains(t.out));
  CHECK(eddy::test::committed_total(bootstrap, t.group, t.in, 1) <= 5);
  CHECK(eddy::test::consume(bootstrap, t.dlq, 0, 2s).empty());
}

TEST_CASE("in exactly_once a record refused at produce() is dead-lettered in the transaction; "
          "one the broker refuses stops the service") {
  auto bootstrap = eddy::test::broker_bootstrap();
  SECTION("refused by the client") {
    auto t = make_topics();
    eddy::test::produce(bootstrap, t.in, 20, key_of, value_of);
    auto cfg = base_config(t, "exactly_once");
    cfg.set("producer.message.max.bytes", "10000");
    eddy::service svc{"pol-it-eos", cfg};
    svc.consume(t.in, copy_big(t.out, 20000));
    eddy::test::service_thread running{svc};
    REQUIRE(eddy::test::eventually(
      [&] { return eddy::test::committed_total(bootstrap, t.group, t.in, 1) == 20; }, 60s));
    REQUIRE(running.stop_and_join());
    auto dead = eddy::test::consume(bootstrap, t.dlq, 1, 5s, true);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].key == "k5");
    CHECK(header(dead[0], "eddy.value.dropped") == "true");
    CHECK(eddy::test::consume(bootstrap, t.out, 19, 5s, true).size() == 19);
  }
  SECTION("refused by the broker") {
    auto t = make_topics();
    eddy::test::produce(bootstrap, t.in, 20, key_of, value_of);
    eddy::service svc{"pol-it-eos-broker", base_config(t, "exactly_once")};
    svc.consume(t.in, copy_big(t.out));
    eddy::test::service_thread running{svc};
    REQUIRE(
      eddy::test::eventually([&] { return svc.state() == eddy::service_state::failed; }, 60s));
    auto outcome = running.stop_and_join();
    REQUIRE(!outcome);
    CHECK_THAT(outcome.error_value().message, Catch::Contains(t.out));
    CHECK(eddy::test::committed_total(bootstrap, t.group, t.in, 1) <= 5);
    CHECK(eddy::test::consume(bootstrap, t.out, 0, 2s, true).empty());
  }
}
