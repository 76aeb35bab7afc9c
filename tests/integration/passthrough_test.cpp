// Integration tests on the real local broker: throughput path, consumer groups, restarts.

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

std::string key_of(std::int64_t i) {
  return "key-" + std::to_string(i % 1000);
}

std::string value_of(std::int64_t i) {
  return std::to_string(i);
}

struct topics {
  std::string in = eddy::test::unique_name("it-in");
  std::string out = eddy::test::unique_name("it-out");
  std::string group = eddy::test::unique_name("it-group");
};

eddy::config service_config(const topics& t) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", t.group)
    .set("eddy.commit.interval.ms", "200")
    .set("eddy.dead.letter.topic", t.out + "-dlq");
  return cfg;
}

/// A passthrough service over `t` that counts what this instance handled.
std::unique_ptr<eddy::service> passthrough(const topics& t,
                                           std::atomic<std::int64_t>* handled = nullptr) {
  auto svc = std::make_unique<eddy::service>("passthrough-it", service_config(t));
  svc->topic(t.in, 4).topic(t.out, 4);
  svc->consume(t.in, [out = t.out, handled](const eddy::record& r, eddy::context& ctx) {
    ctx.emit(out, r.key, r.value);
    if (handled)
      ++*handled;
  });
  return svc;
}

/// What came out: every value's count, and whether each key's values came out in the
/// order they went in (repeats, which at-least-once allows after a rebalance, ignored).
struct output_check {
  std::map<std::int64_t, int> seen;
  std::int64_t duplicates = 0;
  std::map<std::string, std::vector<std::int64_t>> per_key;

  explicit output_check(const std::vector<eddy::record>& records) {
    for (auto& r : records) {
      auto v = std::stoll(r.value);
      if (++seen[v] > 1) {
        ++duplicates;
        continue;
      }
      per_key[r.key].push_back(v);
    }
  }

  /// True if, for every key, the values came out in the same order as in `input`.
  bool same_per_key_order(const std::vector<eddy::record>& input) const {
    output_check in{input};
    return in.per_key == per_key;
  }

  /// True if every value 0..n-1 came out; otherwise WARNs how many are missing.
  bool complete(std::int64_t n) const {
    std::int64_t missing = 0;
    for (std::int64_t v = 0; v < n; ++v)
      missing += seen.count(v) == 0;
    if (missing > 0 || static_cast<std::int64_t>(seen.size()) != n)
      WARN(missing << " of " << n << " values missing, " << seen.size() << " distinct seen");
    return missing == 0 && static_cast<std::int64_t>(seen.size()) == n;
  }
};

} // namespace

TEST_CASE("100 000 records across 4 partitions all come out with per-key order kept") {
  topics t;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.in, 4);
  eddy::test::produce(eddy::test::broker_bootstrap(), t.in, 100000, key_of, value_of);
  auto svc = passthrough(t);
  eddy::test::service_thread running{*svc};
  REQUIRE(eddy::test::eventually([&] { return svc->stats().records_handled >= 100000; }, 120s));
  REQUIRE(running.stop_and_join());
  auto out = eddy::test::consume(eddy::test::broker_bootstrap(), t.out, 100000);
  output_check check{out};
  CHECK(out.size() == 100000);
  CHECK(check.complete(100000));
  CHECK(check.same_per_key_order(
    eddy::test::consume(eddy::test::broker_bootstrap(), t.in, 100000)));
  CHECK(eddy::test::committed_total(eddy::test::broker_bootstrap(), t.group, t.in, 4)
        == 100000);
}

TEST_CASE("two instances split the partitions and a third joining mid-stream loses nothing") {
  topics t;
  const std::int64_t n = 200000;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.in, 4);
  std::atomic<std::int64_t> a_handled{0}, b_handled{0}, c_handled{0};
  auto a = passthrough(t, &a_handled);
  auto b = passthrough(t, &b_handled);
  auto c = passthrough(t, &c_handled);
  eddy::test::service_thread run_a{*a};
  eddy::test::service_thread run_b{*b};
  REQUIRE(eddy::test::eventually(
    [&] { return a->stats().assigned_partitions == 2 && b->stats().assigned_partitions == 2; },
    60s));
  // Records keep arriving while the group changes: 20 chunks over several seconds.
  std::thread producer{[&] {
    const std::int64_t chunk = n / 20;
    for (std::int64_t first = 0; first < n; first += chunk) {
      eddy::test::produce(eddy::test::broker_bootstrap(), t.in, chunk, key_of, value_of, first);
      std::this_thread::sleep_for(400ms);
    }
  }};
  // A failed REQUIRE below must report, not std::terminate on a joinable thread.
  struct join_on_exit {
    std::thread& thread;
    ~join_on_exit() {
      if (thread.joinable())
        thread.join();
    }
  } producer_joiner{producer};
  REQUIRE(eddy::test::eventually([&] { return a_handled + b_handled >= n / 4; }, 60s));
  CHECK(a_handled > 0);
  CHECK(b_handled > 0);
  eddy::test::service_thread run_c{*c};
  producer.join();
  // Done when the group has committed every input offset (counts include repeats).
  REQUIRE(eddy::test::eventually(
    [&] {
      std::this_thread::sleep_for(200ms);
      return eddy::test::committed_total(eddy::test::broker_bootstrap(), t.group, t.in, 4) == n;
    },
    120s));
  CHECK(c_handled > 0);
  REQUIRE(run_c.stop_and_join());
  REQUIRE(run_b.stop_and_join());
  REQUIRE(run_a.stop_and_join());
  auto out = eddy::test::consume(eddy::test::broker_bootstrap(), t.out, n + 1, 5s);
  output_check check{out};
  CHECK(check.complete(n));
  CHECK(check.same_per_key_order(eddy::test::consume(eddy::test::broker_bootstrap(), t.in, n)));
  WARN("third member joined mid-stream: handled a=" << a_handled << " b=" << b_handled
                                                    << " c=" << c_handled
                                                    << " duplicates=" << check.duplicates);
}

TEST_CASE("a graceful stop commits and a restart resumes where the stop left off") {
  topics t;
  const std::int64_t n = 60000;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.in, 4);
  eddy::test::produce(eddy::test::broker_bootstrap(), t.in, n, key_of, value_of);
  std::atomic<std::int64_t> first{0}, second{0};
  {
    // A small credit window, so the stop finds most of the backlog not yet handed out.
    auto svc = std::make_unique<eddy::service>(
      "passthrough-it", service_config(t).set("eddy.credit.window", "2000"));
    svc->topic(t.in, 4).topic(t.out, 4);
    svc->consume(t.in, [&, out = t.out](const eddy::record& r, eddy::context& ctx) {
      std::this_thread::sleep_for(20us); // slow enough to stop mid-stream
      ctx.emit(out, r.key, r.value);
      ++first;
    });
    eddy::test::service_thread running{*svc};
    REQUIRE(eddy::test::eventually([&] { return first >= n / 4; }, 60s));
    REQUIRE(running.stop_and_join());
  }
  REQUIRE(first < n);
  // Everything handled before the stop is committed: nothing is left in flight.
  auto committed =
    eddy::test::committed_total(eddy::test::broker_bootstrap(), t.group, t.in, 4);
  CHECK(committed == first);
  auto svc = passthrough(t, &second);
  eddy::test::service_thread running{*svc};
  REQUIRE(eddy::test::eventually([&] { return first + second >= n; }, 60s));
  REQUIRE(running.stop_and_join());
  auto out = eddy::test::consume(eddy::test::broker_bootstrap(), t.out, n + 1, 5s);
  output_check check{out};
  CHECK(check.complete(n));
  // Reprocessed records are bounded by what was in flight at the stop; a graceful stop
  // drains everything, so the bound is zero.
  auto reprocessed = first + second - n;
  CHECK(reprocessed == 0);
  CHECK(check.duplicates == reprocessed);
  CHECK(eddy::test::committed_total(eddy::test::broker_bootstrap(), t.group, t.in, 4) == n);
}

TEST_CASE(
  "a failed delivery stops the service with delivery_failed and commits nothing past it") {
  topics t;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.in, 1);
  eddy::test::produce(eddy::test::broker_bootstrap(), t.in, 10, key_of, value_of);
  auto cfg = service_config(t);
  cfg.set("producer.message.timeout.ms", "2000");
  eddy::service svc{"passthrough-it", cfg};
  // The broker does not auto-create topics, so every delivery to this one fails.
  auto missing = eddy::test::unique_name("it-missing");
  svc.consume(t.in, [missing](const eddy::record& r, eddy::context& ctx) {
    ctx.emit(missing, r.key, r.value);
  });
  eddy::test::service_thread running{svc};
  REQUIRE(
    eddy::test::eventually([&] { return svc.state() == eddy::service_state::failed; }, 30s));
  auto outcome = running.stop_and_join();
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error_value().code == eddy::errc::delivery_failed);
  CHECK(outcome.error_value().message.find(missing) != std::string::npos);
  CHECK(eddy::test::committed_total(eddy::test::broker_bootstrap(), t.group, t.in, 1) == 0);
}

TEST_CASE("a declared topic that exists with another partition count fails the start") {
  topics t;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.in, 4);
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.out, 2);
  auto svc = passthrough(t); // declares t.out with 4 partitions
  auto outcome = svc->run(false);
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error_value().code == eddy::errc::topic_error);
  CHECK(outcome.error_value().message.find(t.out + "' has 2 partitions") != std::string::npos);
  CHECK(svc->state() == eddy::service_state::failed);
}

TEST_CASE("a declared topic is created with the configs given, e.g. compacted") {
  topics t;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), t.in, 4);
  auto snapshots = eddy::test::unique_name("it-snapshots");
  eddy::service svc{"passthrough-it", service_config(t)};
  svc.topic(snapshots, 4, -1, {{"cleanup.policy", "compact"}});
  svc.consume(t.in, [](const eddy::record&, eddy::context&) {});
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(4));
  REQUIRE(running.stop_and_join());
  CHECK(eddy::test::topic_config(eddy::test::broker_bootstrap(), snapshots, "cleanup.policy")
        == "compact");
  CHECK(eddy::test::topic_config(eddy::test::broker_bootstrap(), t.in, "cleanup.policy")
        == "delete");
}
