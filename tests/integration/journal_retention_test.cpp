// Integration test of journal retention on the real broker: a journal is the truth, so the
// service creates it to keep every event, and refuses to start on an existing journal
// that would lose events (finite retention, compaction) unless the user accepted that
// snapshots replace old history. The rule itself (`internal::history_loss`) is checked
// on config sets too, without the broker.

#include <filesystem>
#include <map>

#include <catch2/catch.hpp>

#include <eddy/internal/kafka.hpp>
#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

/// A seven-day retention, the broker's default, set explicitly on a pre-existing journal.
const std::map<std::string, std::string> seven_days{{"retention.ms", "604800000"}};

/// A service with a journal on `journal` (4 partitions) fed by a new input topic.
struct journal_service {
  std::string in = eddy::test::unique_name("retention-in");
  std::string state_dir =
    (std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-retention"))
      .string();
  std::unique_ptr<eddy::service> svc;

  journal_service(const std::string& journal, eddy::journal_options options) {
    eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 4);
    eddy::config cfg;
    cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
      .set("group.id", eddy::test::unique_name("retention-group"))
      .set("eddy.state.dir", state_dir);
    svc = std::make_unique<eddy::service>("retention-it", cfg);
    svc->journal(
      journal, 4, [](const eddy::record& e, eddy::state_view s) { s.put(e.key, e.value); },
      options);
    svc->consume(
      in, [](const eddy::record& r, eddy::context& ctx) { ctx.emit_event(r.key, r.value); });
  }

  ~journal_service() { std::filesystem::remove_all(state_dir); }

  /// Runs the service until it is running with its partitions or has failed, then stops
  /// it; returns what `run()` returned.
  eddy::expected<void> start_and_stop() {
    eddy::test::service_thread running{*svc};
    eddy::test::eventually(
      [&] {
        return svc->state() == eddy::service_state::failed
               || (svc->state() == eddy::service_state::running
                   && svc->stats().assigned_partitions == 4);
      },
      60s);
    return running.stop_and_join();
  }
};

} // namespace

TEST_CASE(
  "a journal the service creates keeps every event and its snapshot topic is compacted") {
  auto journal = eddy::test::unique_name("retention-journal");
  journal_service created{journal, eddy::journal_options{.snapshots = true}};
  REQUIRE(created.start_and_stop());
  auto bootstrap = eddy::test::broker_bootstrap();
  CHECK(eddy::test::topic_config(bootstrap, journal, "retention.ms") == "-1");
  CHECK(eddy::test::topic_config(bootstrap, journal, "retention.bytes") == "-1");
  CHECK(eddy::test::topic_config(bootstrap, journal, "cleanup.policy") == "delete");
  CHECK(eddy::test::topic_config(bootstrap, journal + "-snapshots", "cleanup.policy")
        == "compact");
  // A second start finds the journal it created fine.
  journal_service again{journal, eddy::journal_options{.snapshots = true}};
  CHECK(again.start_and_stop());
}

TEST_CASE("a journal with finite retention stops the service with an error naming the fix") {
  auto options = GENERATE(eddy::journal_options{}, eddy::journal_options{.snapshots = true});
  INFO("snapshots=" << options.snapshots);
  auto journal = eddy::test::unique_name("retention-journal");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), journal, 4, seven_days);
  journal_service finite{journal, options};
  auto outcome = finite.start_and_stop();
  REQUIRE_FALSE(outcome);
  CHECK(finite.svc->state() == eddy::service_state::failed);
  auto& err = outcome.error_value();
  INFO(err.what());
  CHECK(err.code == eddy::errc::topic_error);
  CHECK(err.message.find("'" + journal + "'") != std::string::npos);
  CHECK(err.message.find("retention.ms=604800000") != std::string::npos);
  CHECK(err.message.find("--entity-name " + journal
                         + " --add-config retention.ms=-1,"
                           "retention.bytes=-1")
        != std::string::npos);
}

TEST_CASE("with snapshots replacing history, a journal with finite retention starts") {
  auto journal = eddy::test::unique_name("retention-journal");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), journal, 4, seven_days);
  journal_service accepted{
    journal, eddy::journal_options{.snapshots = true, .snapshots_replace_history = true}};
  REQUIRE(accepted.start_and_stop());
  CHECK(accepted.svc->state() == eddy::service_state::stopped);
}

TEST_CASE("a compacted journal is refused even when snapshots replace history") {
  auto journal = eddy::test::unique_name("retention-journal");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), journal, 4,
                           {{"cleanup.policy", "compact"}});
  journal_service compacted{
    journal, eddy::journal_options{.snapshots = true, .snapshots_replace_history = true}};
  auto outcome = compacted.start_and_stop();
  REQUIRE_FALSE(outcome);
  INFO(outcome.error_value().what());
  CHECK(outcome.error_value().code == eddy::errc::topic_error);
  CHECK(outcome.error_value().message.find("cleanup.policy=compact") != std::string::npos);
}

TEST_CASE("snapshots_replace_history without snapshots is a config error") {
  auto journal = eddy::test::unique_name("retention-journal");
  journal_service misconfigured{journal,
                                eddy::journal_options{.snapshots_replace_history = true}};
  auto outcome = misconfigured.start_and_stop();
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error_value().code == eddy::errc::invalid_config);
}

TEST_CASE(
  "history_loss names every setting that drops records and passes only keep-all topics") {
  using configs = std::map<std::string, std::string>;
  auto loss = [](configs c) { return eddy::internal::history_loss(c).value_or("kept"); };
  CHECK(loss({{"cleanup.policy", "delete"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}})
        == "kept");
  auto finite = loss({{"cleanup.policy", "delete"},
                      {"retention.ms", "604800000"},
                      {"retention.bytes", "1073741824"}});
  CHECK(finite.find("retention.ms=604800000") != std::string::npos);
  CHECK(finite.find("retention.bytes=1073741824") != std::string::npos);
  // Compaction drops history whatever the retention, alone or with delete.
  CHECK(loss({{"cleanup.policy", "compact"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}})
          .find("cleanup.policy=compact")
        != std::string::npos);
  CHECK(
    loss(
      {{"cleanup.policy", "compact,delete"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}})
      .find("cleanup.policy=compact,delete")
    != std::string::npos);
  // What the broker did not report is never taken as fine.
  CHECK(loss({{"retention.ms", "-1"}, {"retention.bytes", "-1"}}) != "kept");
  CHECK(loss({{"cleanup.policy", "delete"}, {"retention.ms", "-1"}}).find("retention.bytes")
        != std::string::npos);
}
