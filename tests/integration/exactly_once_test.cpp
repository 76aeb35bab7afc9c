// Integration tests of processing.guarantee=exactly_once on the real broker (the mock
// cluster does not emulate transactions): outputs and input offsets commit together, a
// SIGKILLed service restarted repeatedly emits every record exactly once, and a second
// instance with the same transactional.id fences the first, and a zombie instance (stopped
// mid-transaction while another took its partitions) is fenced when it wakes.

#include <csignal>
#include <filesystem>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "child_process.hpp"
#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

std::string key_of(std::int64_t i) {
  return "key-" + std::to_string(i % 500);
}

std::string value_of(std::int64_t i) {
  return std::to_string(i);
}

/// How often each input value appears among `records`.
std::map<std::string, int> value_counts(const std::vector<eddy::record>& records) {
  std::map<std::string, int> counts;
  for (auto& r : records)
    ++counts[r.value];
  return counts;
}

std::int64_t duplicates_of(const std::map<std::string, int>& counts) {
  std::int64_t result = 0;
  for (auto& [value, count] : counts)
    result += count - 1;
  return result;
}

/// Feeds `n` records to passthrough processes, SIGKILLs the running one `kills` times at
/// random moments (restarting it each time), then lets the last one finish. Returns the
/// output as a read_committed reader sees it.
std::vector<eddy::record> run_with_kills(const std::string& guarantee, std::int64_t n,
                                         int kills) {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("kill-in");
  auto out = eddy::test::unique_name("kill-out");
  auto group = eddy::test::unique_name("kill-group");
  eddy::test::create_topic(bootstrap, in, 4);
  eddy::test::produce(bootstrap, in, n, key_of, value_of);
  std::vector<std::string> args{"-X", "bootstrap.servers=" + bootstrap, "-X", "app.input=" + in,
                                "-X", "app.output=" + out, "-X", "group.id=" + group, "-X",
                                "eddy.processing.guarantee=" + guarantee, "-X",
                                "app.handler.delay.us=20",
                                // A killed member's partitions return to the group quickly.
                                "-X", "session.timeout.ms=6000"};
  REQUIRE(eddy::test::run_with_kills(EDDY_PASSTHROUGH_BINARY, args, kills, [&] {
    return eddy::test::committed_total(bootstrap, group, in, 4) == n;
  }));
  // A killed instance's open transaction holds read_committed readers back until it
  // times out (transaction.timeout.ms, 10 s by Eddy's default).
  return eddy::test::consume(bootstrap, out, n, 30s, true);
}

} // namespace

TEST_CASE("exactly_once: outputs reach a read_committed reader once, with the offsets") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("eos-in");
  auto out = eddy::test::unique_name("eos-out");
  auto group = eddy::test::unique_name("eos-group");
  const std::int64_t n = 50000;
  eddy::test::create_topic(bootstrap, in, 4);
  eddy::test::produce(bootstrap, in, n, key_of, value_of);
  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap)
    .set("group.id", group)
    .set("eddy.processing.guarantee", "exactly_once");
  eddy::service svc{"eos-it", cfg};
  svc.topic(out, 4);
  svc.consume(
    in, [out](const eddy::record& r, eddy::context& ctx) { ctx.emit(out, r.key, r.value); });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually(
    [&] {
      std::this_thread::sleep_for(200ms);
      return eddy::test::committed_total(bootstrap, group, in, 4) == n;
    },
    60s));
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().commits > 1);
  auto counts = value_counts(eddy::test::consume(bootstrap, out, n, 10s, true));
  CHECK(static_cast<std::int64_t>(counts.size()) == n);
  CHECK(duplicates_of(counts) == 0);
}

TEST_CASE(
  "exactly_once: SIGKILLed and restarted 5 times, every record comes out exactly once") {
  const std::int64_t n = 100000;
  auto counts = value_counts(run_with_kills("exactly_once", n, 5));
  CHECK(static_cast<std::int64_t>(counts.size()) == n);
  CHECK(duplicates_of(counts) == 0);
}

TEST_CASE("at_least_once: SIGKILLed and restarted 5 times, nothing is missing") {
  const std::int64_t n = 100000;
  auto counts = value_counts(run_with_kills("at_least_once", n, 5));
  CHECK(static_cast<std::int64_t>(counts.size()) == n);
  WARN("at_least_once after 5 SIGKILLs: " << duplicates_of(counts) << " duplicates in " << n
                                          << " records");
}

TEST_CASE("exactly_once: a second instance with the same transactional.id fences the first") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("fence-in");
  auto out = eddy::test::unique_name("fence-out");
  auto id = eddy::test::unique_name("fence-txn");
  eddy::test::create_topic(bootstrap, in, 1);
  eddy::test::produce(bootstrap, in, 5000, key_of, value_of);
  auto make = [&](const std::string& group) {
    eddy::config cfg;
    cfg.set("bootstrap.servers", bootstrap)
      .set("group.id", group)
      .set("eddy.processing.guarantee", "exactly_once")
      .set("eddy.transactional.id", id);
    auto svc = std::make_unique<eddy::service>("fence-it", cfg);
    svc->topic(out, 1);
    svc->consume(in, [out](const eddy::record& r, eddy::context& ctx) {
      std::this_thread::sleep_for(1ms); // still busy when the second instance starts
      ctx.emit(out, r.key, r.value);
    });
    return svc;
  };
  auto zombie = make(eddy::test::unique_name("fence-a"));
  eddy::test::service_thread run_zombie{*zombie};
  REQUIRE(eddy::test::eventually([&] { return zombie->stats().records_handled > 100; }, 30s));
  auto successor = make(eddy::test::unique_name("fence-b"));
  eddy::test::service_thread run_successor{*successor};
  REQUIRE(eddy::test::eventually([&] { return zombie->state() == eddy::service_state::failed; },
                                 30s));
  auto outcome = run_zombie.stop_and_join();
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error_value().code == eddy::errc::fenced);
  CHECK(run_successor.stop_and_join());
}

TEST_CASE("exactly_once: a zombie instance resumed after its partitions moved on is fenced "
          "and stops; every record comes out once") {
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("zombie-in");
  auto out = eddy::test::unique_name("zombie-out");
  auto group = eddy::test::unique_name("zombie-group");
  const std::int64_t n = 20000;
  eddy::test::create_topic(bootstrap, in, 4);
  eddy::test::produce(bootstrap, in, n, key_of, value_of);
  auto args = [&](const std::string& instance) {
    return std::vector<std::string>{
      "-X",
      "bootstrap.servers=" + bootstrap,
      "-X",
      "app.input=" + in,
      "-X",
      "app.output=" + out,
      "-X",
      "group.id=" + group,
      "-X",
      "eddy.processing.guarantee=exactly_once",
      "-X",
      "app.handler.delay.us=500",
      "-X",
      "session.timeout.ms=6000",
      "-X",
      "eddy.state.dir="
        + (std::filesystem::temp_directory_path() / (group + instance)).string()};
  };
  eddy::test::child_process a{EDDY_PASSTHROUGH_BINARY, args("-a")};
  REQUIRE(eddy::test::eventually(
    [&] { return eddy::test::committed_total(bootstrap, group, in, 4) > 1000; }, 60s));
  a.signal(SIGSTOP); // mid-transaction: A handles records all the time
  eddy::test::child_process b{EDDY_PASSTHROUGH_BINARY, args("-b")};
  // B takes A's partitions once A's session times out, and finishes the input.
  REQUIRE(eddy::test::eventually(
    [&] {
      std::this_thread::sleep_for(200ms);
      return eddy::test::committed_total(bootstrap, group, in, 4) == n;
    },
    120s));
  a.signal(SIGCONT);
  auto a_code = a.wait(60s);
  INFO("instance A's output:\n" << a.output());
  REQUIRE(a_code);
  CHECK(*a_code != 0);
  CHECK(a.output().find("fenced") != std::string::npos);
  b.signal(SIGTERM);
  auto b_code = b.wait(60s);
  REQUIRE(b_code);
  CHECK(*b_code == 0);
  auto counts = value_counts(eddy::test::consume(bootstrap, out, n, 30s, true));
  CHECK(static_cast<std::int64_t>(counts.size()) == n);
  CHECK(duplicates_of(counts) == 0);
}
