// Integration test of event-sourced state on the real broker: a service folds its own
// journal into per-partition SQLite stores; a restart continues from the stores, and a
// deleted store is rebuilt from the journal before any input is handled.

#include <filesystem>
#include <map>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int keys = 50;

/// A counter per key: each input record emits the key's next count as an event.
std::unique_ptr<eddy::service> counter(const std::string& in, const std::string& journal,
                                       const std::string& group, const std::string& state_dir,
                                       const std::string& guarantee, bool snapshots = false,
                                       bool small_fetch_queue = false) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", group)
    .set("eddy.state.dir", state_dir)
    .set("eddy.commit.interval.ms", "200")
    .set("eddy.processing.guarantee", guarantee);
  // A queue that fills every few hundred records: the consumers wake their fetchers all
  // the time (fetch_waker), also at the journal's end, behind its last commit marker.
  if (small_fetch_queue)
    cfg.set("consumer.queued.min.messages", "500");
  auto svc = std::make_unique<eddy::service>("counter-it", cfg);
  svc->journal(
    journal, 4,
    [](const eddy::record& event, eddy::state_view state) {
      state.put(event.key, event.value);
    },
    eddy::journal_options{snapshots});
  svc->consume(in, [](const eddy::record& r, eddy::context& ctx) {
    auto current = ctx.state().get(r.key);
    ctx.emit_event(r.key, std::to_string((current ? std::stoll(*current) : 0) + 1));
  });
  return svc;
}

/// Runs `svc` until the group has committed `offsets` input offsets, then stops it;
/// returns how many journal events it replayed while restoring.
std::int64_t run_until_committed(eddy::service& svc, const std::string& group,
                                 const std::string& in, std::int64_t offsets) {
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually(
    [&] {
      std::this_thread::sleep_for(200ms);
      return eddy::test::committed_total(eddy::test::broker_bootstrap(), group, in, 4)
             == offsets;
    },
    90s));
  REQUIRE(running.stop_and_join());
  return svc.stats().events_restored;
}

/// The last count the journal holds for each key, and how many events it holds.
std::pair<std::map<std::string, std::int64_t>, std::size_t>
journal_counts(const std::string& journal, std::int64_t expected) {
  std::map<std::string, std::int64_t> last;
  auto events =
    eddy::test::consume(eddy::test::broker_bootstrap(), journal, expected, 10s, true);
  for (auto& e : events)
    last[e.key] = std::stoll(e.value);
  return {last, events.size()};
}

} // namespace

TEST_CASE(
  "event-sourced state survives a restart and a deleted store rebuilds from the journal") {
  auto guarantee = GENERATE(as<std::string>{}, "at_least_once", "exactly_once");
  INFO("processing.guarantee=" << guarantee);
  auto in = eddy::test::unique_name("counter-in");
  auto journal = eddy::test::unique_name("counter-journal");
  auto group = eddy::test::unique_name("counter-group");
  auto state_dir =
    (std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-state")).string();
  auto key_of = [](std::int64_t i) { return "key-" + std::to_string(i % keys); };
  auto value_of = [](std::int64_t) { return std::string{"+1"}; };
  eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 4);

  eddy::test::produce(eddy::test::broker_bootstrap(), in, 20000, key_of, value_of);
  CHECK(
    run_until_committed(*counter(in, journal, group, state_dir, guarantee), group, in, 20000)
    == 0);

  // A restart continues from the stores: counts go on where they stopped.
  eddy::test::produce(eddy::test::broker_bootstrap(), in, 10000, key_of, value_of, 20000);
  // The stores are up to date: nothing to replay past their checkpoints.
  CHECK(
    run_until_committed(*counter(in, journal, group, state_dir, guarantee), group, in, 30000)
    == 0);
  auto [after_restart, events] = journal_counts(journal, 30000);
  CHECK(events == 30000);
  REQUIRE(after_restart.size() == keys);
  for (auto& [key, count] : after_restart)
    CHECK(count == 30000 / keys);

  // Without any store the state is rebuilt from the journal before the next input.
  std::filesystem::remove_all(state_dir);
  eddy::test::produce(eddy::test::broker_bootstrap(), in, keys, key_of, value_of, 30000);
  CHECK(run_until_committed(*counter(in, journal, group, state_dir, guarantee, false, true),
                            group, in, 30000 + keys)
        == 30000);
  auto [rebuilt, all_events] = journal_counts(journal, 30000 + keys);
  CHECK(all_events == 30000 + keys);
  for (auto& [key, count] : rebuilt)
    CHECK(count == 30000 / keys + 1);
  std::filesystem::remove_all(state_dir);
}

TEST_CASE("a deleted store restores from the snapshot topic instead of the whole journal") {
  auto guarantee = GENERATE(as<std::string>{}, "at_least_once", "exactly_once");
  INFO("processing.guarantee=" << guarantee);
  auto in = eddy::test::unique_name("snap-in");
  auto journal = eddy::test::unique_name("snap-journal");
  auto group = eddy::test::unique_name("snap-group");
  auto state_dir =
    (std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-state")).string();
  auto key_of = [](std::int64_t i) { return "key-" + std::to_string(i % keys); };
  auto value_of = [](std::int64_t) { return std::string{"+1"}; };
  eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 4);

  eddy::test::produce(eddy::test::broker_bootstrap(), in, 20000, key_of, value_of);
  CHECK(run_until_committed(*counter(in, journal, group, state_dir, guarantee, true), group, in,
                            20000)
        == 0);
  // The snapshot topic is compacted and holds the latest count of every key.
  CHECK(eddy::test::topic_config(eddy::test::broker_bootstrap(), journal + "-snapshots",
                                 "cleanup.policy")
        == "compact");

  std::filesystem::remove_all(state_dir);
  eddy::test::produce(eddy::test::broker_bootstrap(), in, keys, key_of, value_of, 20000);
  // The snapshot covers the whole journal: nothing is left to replay from it.
  CHECK(run_until_committed(*counter(in, journal, group, state_dir, guarantee, true), group, in,
                            20000 + keys)
        == 0);
  auto [counts, events] = journal_counts(journal, 20000 + keys);
  CHECK(events == 20000 + keys);
  REQUIRE(counts.size() == keys);
  for (auto& [key, count] : counts)
    CHECK(count == 20000 / keys + 1);
  std::filesystem::remove_all(state_dir);
}
