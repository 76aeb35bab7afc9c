// Unit tests of a restore pass through a fake log reader: it replays exactly what a store
// lacks, and it fails loudly — never completing on part of the history — when the journal
// lost events, the offsets cannot be read, or the end is not reached.

#include <catch2/catch.hpp>

#include "restore_pass.hpp"
#include "runtime_fakes.hpp"
#include "state_registry.hpp"

using namespace std::chrono_literals;
using eddy::detail::log_read;

namespace {

/// A log of a few partitions held in memory; offsets below `low` are gone.
class fake_log final : public eddy::detail::log_reader {
public:
  using expected_watermarks = eddy::expected<std::pair<std::int64_t, std::int64_t>>;

  struct partition {
    std::int64_t low = 0;
    std::vector<eddy::record> records; // records[i] has offset i
    /// Reads stop here (an open transaction of a crashed instance, say).
    std::int64_t readable_end = -1;
  };

  expected_watermarks watermarks(const std::string& topic, std::int32_t p) override {
    ++watermark_queries;
    if (watermarks_fail)
      return eddy::error{eddy::errc::kafka_error, "Local: Timed out"};
    auto& log = logs[{topic, p}];
    return std::make_pair(log.low, static_cast<std::int64_t>(log.records.size()));
  }

  void assign(const std::vector<eddy::detail::partition_offset>& from) override {
    cursors.clear();
    for (auto& at : from)
      cursors[{at.topic, at.partition}] = at.offset;
  }

  void next(log_read& into, std::chrono::milliseconds) override {
    for (auto& [key, next] : cursors) {
      auto& log = logs[key];
      auto end = log.readable_end >= 0 ? log.readable_end
                                       : static_cast<std::int64_t>(log.records.size());
      if (next < end) {
        into.what = log_read::kind::record;
        into.rec = log.records[static_cast<std::size_t>(next)];
        into.rec.topic = key.first;
        into.rec.partition = key.second;
        into.rec.offset = next++;
        return;
      }
    }
    into.what = log_read::kind::nothing;
  }

  std::int64_t position(const std::string& topic, std::int32_t p) override {
    return cursors[{topic, p}];
  }

  void unassign() override { cursors.clear(); }

  /// Appends an event adding `amount` to `key`.
  void add(const std::string& topic, std::int32_t p, const std::string& key, int amount) {
    eddy::record r;
    r.key = key;
    r.value = std::to_string(amount);
    logs[{topic, p}].records.push_back(r);
  }

  std::map<std::pair<std::string, std::int32_t>, partition> logs;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> cursors;
  bool watermarks_fail = false;
  int watermark_queries = 0;
};

eddy::detail::restore_settings quick() {
  eddy::detail::restore_settings settings;
  settings.watermark_attempts = 3;
  settings.retry_delay = 0ms;
  settings.patience = 50ms;
  settings.progress = false;
  return settings;
}

} // namespace

TEST_CASE("a restore folds every journal event past the checkpoint, once") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  for (int i = 0; i < 100; ++i)
    log.add("journal", 0, "k" + std::to_string(i % 3), 1);

  auto restored = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});

  REQUIRE(restored);
  auto& store = (*restored)[0]->store;
  CHECK(store.get("k0") == "34");
  CHECK(store.get("k1") == "33");
  CHECK(store.get("k2") == "33");
  CHECK(store.checkpoint("journal", 0) == 100);
  CHECK(env.rt.journal->delivered_next[0].load() == 100);

  // Opened again, the store replays only what came after its checkpoint.
  log.add("journal", 0, "k0", 1);
  auto again = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});
  REQUIRE(again);
  CHECK((*again)[0]->store.get("k0") == "35");
  CHECK((*again)[0]->store.get("k1") == "33");
}

TEST_CASE("a failed watermark query fails the restore instead of counting as nothing to "
          "replay") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  log.add("journal", 0, "k", 1);
  log.watermarks_fail = true;

  auto restored = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});

  REQUIRE_FALSE(restored);
  CHECK(restored.error_value().code == eddy::errc::restore_failed);
  CHECK_THAT(restored.error_value().message, Catch::Contains("'journal' partition 0"));
  CHECK(log.watermark_queries == 3);
}

TEST_CASE("a journal that lost events a fresh store needs fails the restore loudly") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  for (int i = 0; i < 10; ++i)
    log.add("journal", 0, "k", 1);
  log.logs[{"journal", 0}].low = 4; // offsets 0-3 deleted by retention

  auto restored = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});

  REQUIRE_FALSE(restored);
  CHECK(restored.error_value().code == eddy::errc::restore_failed);
  CHECK_THAT(restored.error_value().message, Catch::Contains("begins at offset 4"));
  CHECK_THAT(restored.error_value().message, Catch::Contains("from offset 0"));
  CHECK_THAT(restored.error_value().message, Catch::Contains("retention.ms=-1"));
}

TEST_CASE("a journal that lost events past a store's checkpoint fails the restore loudly") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  for (int i = 0; i < 10; ++i)
    log.add("journal", 0, "k", 1);
  REQUIRE(eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {}));
  for (int i = 0; i < 10; ++i)
    log.add("journal", 0, "k", 1);
  log.logs[{"journal", 0}].low = 15; // the store has 0-9; 10-14 are gone

  auto restored = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});

  REQUIRE_FALSE(restored);
  CHECK_THAT(restored.error_value().message, Catch::Contains("begins at offset 15"));
  CHECK_THAT(restored.error_value().message, Catch::Contains("from offset 10"));
}

TEST_CASE("a restore that cannot reach the end it saw does not complete") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  for (int i = 0; i < 10; ++i)
    log.add("journal", 0, "k", 1);
  log.logs[{"journal", 0}].readable_end = 6;

  auto restored = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});

  REQUIRE_FALSE(restored);
  CHECK(restored.error_value().code == eddy::errc::restore_failed);
  CHECK_THAT(restored.error_value().message, Catch::Contains("stopped at offset 6"));
  CHECK_THAT(restored.error_value().message, Catch::Contains("end 10"));
}

TEST_CASE("a cancelled restore fails with `cancelled` and keeps what it read") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  for (int i = 0; i < 10; ++i)
    log.add("journal", 0, "k", 1);
  int reads = 0;

  auto restored = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(),
                                                   [&] { return ++reads > 3; });

  REQUIRE_FALSE(restored);
  CHECK(restored.error_value().message == "cancelled");
  auto reopened = states.open(0);
  REQUIRE(reopened);
  // Asked once before the offsets are read, then before each read: two records got in.
  CHECK((*reopened)->store.checkpoint("journal", 0) == std::optional<std::int64_t>{2});
  CHECK((*reopened)->store.get("k") == std::optional<std::string>{"2"});
}

TEST_CASE("a journal event the applier rejects fails the restore unless told to skip it") {
  eddy::test::test_runtime env;
  env.add_journal(1);
  auto adds = env.rt.journal->apply;
  env.rt.journal->apply = [adds](const eddy::record& event, eddy::state_view store) {
    adds(event, store); // staged first: the rejection must undo it
    if (event.value == "13")
      throw std::runtime_error{"unlucky"};
  };
  eddy::detail::state_registry states{env.rt};
  fake_log log;
  for (int i = 0; i < 10; ++i)
    log.add("journal", 0, "k", i == 5 ? 13 : 1);

  auto failed = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});
  REQUIRE_FALSE(failed);
  CHECK(failed.error_value().code == eddy::errc::restore_failed);
  CHECK_THAT(failed.error_value().message,
             Catch::Contains("offset 5") && Catch::Contains("'journal' partition 0")
               && Catch::Contains("unlucky")
               && Catch::Contains("eddy.errors.restore=continue"));

  env.rt.restore_skips_bad_events = true;
  auto skipped = eddy::detail::restore_partitions(env.rt, states, log, {0}, quick(), {});
  REQUIRE(skipped);
  // Nothing of the failed pass was kept; the skipping pass replays all and logs one.
  CHECK((*skipped)[0]->store.get("k") == "22");
  CHECK(env.rt.counters.handler_errors.load() == 1);
}
