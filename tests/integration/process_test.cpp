// Integration tests of a whole service process (the passthrough sample): bad configuration
// fails fast and clearly, and a slow handler over a large backlog keeps memory bounded.

#include <csignal>

#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

const std::string passthrough_binary = EDDY_PASSTHROUGH_BINARY;

} // namespace

TEST_CASE("an unknown librdkafka property fails at start with its name and exit code 2") {
  eddy::test::child_process svc{
    passthrough_binary, {"-X", "bootstrap.servers=127.0.0.1:1", "-X", "no.such.thing=1"}};
  auto code = svc.wait(10s);
  REQUIRE(code);
  CHECK(*code == 2);
  CHECK(svc.output().find("no.such.thing") != std::string::npos);
}

TEST_CASE("an unreachable broker fails within the start-up timeout, not a hang") {
  auto started = std::chrono::steady_clock::now();
  eddy::test::child_process svc{
    passthrough_binary,
    {"-X", "bootstrap.servers=127.0.0.1:1", "-X", "eddy.startup.timeout.ms=3000"}};
  auto code = svc.wait(15s);
  REQUIRE(code);
  CHECK(*code == 1);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK(svc.output().find("broker_unreachable") != std::string::npos);
  CHECK(svc.output().find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("a slow handler over a 1 000 000-record backlog keeps peak memory bounded") {
  // Bound: librdkafka's prefetch (queued.max.messages.kbytes = 16 MiB by Eddy's default),
  // the credit window (30 000 records per task x 4 tasks, ~300 B each) and the process's
  // fixed cost. Without credit the source would move the whole backlog into the tasks'
  // mailboxes: far over 250 MiB for 1 000 000 records.
  const long bound_kib = 160 * 1024;
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("bp-in");
  auto out = eddy::test::unique_name("bp-out");
  eddy::test::create_topic(bootstrap, in, 4);
  std::string payload(100, 'x');
  eddy::test::produce(
    bootstrap, in, 1000000, [](std::int64_t i) { return std::to_string(i % 5000); },
    [&](std::int64_t) { return payload; });
  eddy::test::child_process svc{passthrough_binary,
                                {"-X", "bootstrap.servers=" + bootstrap, "-X",
                                 "app.input=" + in, "-X", "app.output=" + out, "-X",
                                 "group.id=" + in, "-X", "app.handler.delay.us=50"}};
  long peak = 0;
  for (int i = 0; i < 80 && !svc.wait(100ms); ++i)
    peak = std::max(peak, svc.peak_rss_kib());
  svc.signal(SIGTERM);
  auto code = svc.wait(60s);
  REQUIRE(code);
  CHECK(*code == 0);
  WARN("peak RSS " << peak / 1024 << " MiB with a 1 000 000-record backlog (bound "
                   << bound_kib / 1024 << " MiB)");
  CHECK(peak > 0);
  CHECK(peak < bound_kib);
  CHECK(svc.output().find("level=error") == std::string::npos);
}
