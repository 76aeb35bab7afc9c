// Unit tests on librdkafka's in-process mock cluster of keys and values as written: a null
// key stays null and an empty key stays empty; an empty value is a value, not a tombstone,
// in outputs and in tables; only a tombstone (a null value) deletes.

#include <filesystem>
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

/// A record for `topic`; a null `key` or `value` pointer writes a null one.
eddy::record make(const std::string& topic, const char* key, const char* value) {
  eddy::record r;
  r.topic = topic;
  r.key_null = key == nullptr;
  r.key = key ? key : "";
  r.value_null = value == nullptr;
  r.value = value ? value : "";
  return r;
}

/// "key|value" with null shown as `<null>`.
std::string show(const eddy::record& r) {
  return (r.key_null ? std::string{"<null>"} : "'" + r.key + "'") + "|"
         + (r.value_null ? std::string{"<null>"} : "'" + r.value + "'");
}

} // namespace

TEST_CASE("null and empty keys and values reach the handler and the output as written") {
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("nv-in", 1);
  cluster.create_topic("nv-out", 1);
  cluster.create_topic("nv-dlq", 1);
  {
    eddy::test::test_producer producer{cluster.bootstrap()};
    producer.send(make("nv-in", nullptr, "a"));
    producer.send(make("nv-in", "", "b"));
    producer.send(make("nv-in", "k", ""));
    producer.send(make("nv-in", "t", nullptr));
    producer.flush();
  }
  eddy::service svc{"nv", mock_config(cluster)};
  std::mutex mtx;
  std::vector<std::string> seen;
  svc.consume("nv-in", [&](const eddy::record& r, eddy::context& ctx) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      seen.push_back(show(r));
    }
    if (r.is_tombstone())
      ctx.emit_tombstone("nv-out", r.key_view());
    else
      ctx.emit("nv-out", r.key_view(), r.value);
  });
  eddy::test::service_thread running{svc};
  REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled == 4; }, 30s));
  REQUIRE(running.stop_and_join());
  std::vector<std::string> written{"<null>|'a'", "''|'b'", "'k'|''", "'t'|<null>"};
  {
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(seen == written);
  }
  std::vector<std::string> out;
  for (auto& r : eddy::test::consume(cluster.bootstrap(), "nv-out", 4, 3s))
    out.push_back(show(r));
  CHECK(out == written);
}

TEST_CASE("a table row with an empty value is kept and a tombstone deletes it") {
  eddy::testing::mock_cluster cluster;
  for (auto* topic : {"nvt-local", "nvt-global", "nvt-in", "nvt-dlq"})
    cluster.create_topic(topic, 1);
  auto state_dir =
    std::filesystem::temp_directory_path() / eddy::test::unique_name("nvt-state");
  auto rows = [&](const std::string& suffix) {
    eddy::test::test_producer producer{cluster.bootstrap()};
    for (auto* topic : {"nvt-local", "nvt-global"}) {
      producer.send(make(topic, ("empty" + suffix).c_str(), ""));
      producer.send(make(topic, ("gone" + suffix).c_str(), "x"));
      producer.send(make(topic, ("gone" + suffix).c_str(), nullptr));
      producer.send(make(topic, ("end" + suffix).c_str(), "1")); // applied last
    }
    producer.flush();
  };
  rows("-restored"); // read by the restore (local) and the initial load (global)
  auto cfg = mock_config(cluster);
  cfg.set("eddy.state.dir", state_dir.string());
  eddy::service svc{"nvt", cfg};
  svc.table("nvt-local", 1);
  svc.global_table("nvt-global");
  svc.consume("nvt-in", [](const eddy::record&, eddy::context&) {});
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(2));
  auto lookup = [&](const char* table, const std::string& key) {
    auto value = svc.lookup(table, key);
    REQUIRE(value);
    return *value;
  };
  for (auto* table : {"nvt-local", "nvt-global"}) {
    INFO(table);
    CHECK(lookup(table, "empty-restored") == std::optional<std::string>{""});
    CHECK(lookup(table, "gone-restored") == std::nullopt);
  }
  rows("-live"); // applied while the service runs
  REQUIRE(eddy::test::eventually(
    [&] { return lookup("nvt-local", "end-live") && lookup("nvt-global", "end-live"); }, 10s));
  for (auto* table : {"nvt-local", "nvt-global"}) {
    INFO(table);
    CHECK(lookup(table, "empty-live") == std::optional<std::string>{""});
    CHECK(lookup(table, "gone-live") == std::nullopt);
  }
  REQUIRE(running.stop_and_join());
  std::filesystem::remove_all(state_dir);
}

TEST_CASE("publish writes an empty value as a value and publish_tombstone a null one") {
  eddy::testing::mock_cluster cluster;
  for (auto* topic : {"nvp-in", "nvp-out", "nvp-dlq"})
    cluster.create_topic(topic, 1);
  eddy::service svc{"nvp", mock_config(cluster)};
  svc.consume("nvp-in", [](const eddy::record&, eddy::context&) {});
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(1));
  REQUIRE(svc.publish("nvp-out", "e", "").get());
  REQUIRE(svc.publish_tombstone("nvp-out", "t").get());
  REQUIRE(svc.publish("nvp-out", eddy::no_key, "v").get());
  REQUIRE(running.stop_and_join());
  std::vector<std::string> out;
  for (auto& r : eddy::test::consume(cluster.bootstrap(), "nvp-out", 3, 3s))
    out.push_back(show(r));
  CHECK(out == std::vector<std::string>{"'e'|''", "'t'|<null>", "<null>|'v'"});
}
