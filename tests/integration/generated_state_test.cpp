// Integration test of generated event-sourced state on the real broker: the generated
// shop.Orders service of the codegen test schema keeps its OrderState in the runtime's
// journal stores, so a restart continues from the kept stores (nothing to replay) and a
// deleted state folder is rebuilt from the journal before any command is handled, in both
// processing guarantees.
//
// The schema fixes the topic names (order-commands, order-events, order-notifications), so
// they outlive a run and hold earlier runs' records. Each run therefore uses order ids of
// its own, a consumer group of its own whose offsets start at the end of order-commands,
// and a state folder of its own; the journal's size is counted, not assumed.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"
#include "orders_handlers.hpp"
#include "shop/orders.eddy.h"

using namespace std::chrono_literals;

namespace {

constexpr int partitions = 4;
constexpr int orders = 40;

const std::string commands = "order-commands";
const std::string journal = "order-events";
const std::string notifications = "order-notifications";

/// Produces `records` with their headers (murmur2 partitioning, as Eddy) and waits until
/// all are delivered.
void produce_records(const std::vector<eddy::record>& records) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  REQUIRE(conf->set("bootstrap.servers", eddy::test::broker_bootstrap(), err)
          == RdKafka::Conf::CONF_OK);
  REQUIRE(conf->set("partitioner", "murmur2_random", err) == RdKafka::Conf::CONF_OK);
  std::unique_ptr<RdKafka::Producer> producer{RdKafka::Producer::create(conf.get(), err)};
  REQUIRE(producer != nullptr);
  for (auto& rec : records) {
    auto headers = RdKafka::Headers::create();
    for (auto& [name, value] : rec.headers)
      headers->add(name, value);
    auto code =
      producer->produce(rec.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                        const_cast<char*>(rec.value.data()), rec.value.size(), rec.key.data(),
                        rec.key.size(), 0, headers, nullptr);
    if (code != RdKafka::ERR_NO_ERROR)
      delete headers;
    REQUIRE(code == RdKafka::ERR_NO_ERROR);
  }
  REQUIRE(producer->flush(30000) == RdKafka::ERR_NO_ERROR);
}

/// Commits, for the new consumer group `group`, the current end of every partition of
/// `topic`, so the group starts after the records earlier runs left there. Returns the
/// sum of the committed offsets.
std::int64_t start_group_at_end(const std::string& group, const std::string& topic) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  REQUIRE(conf->set("bootstrap.servers", eddy::test::broker_bootstrap(), err)
          == RdKafka::Conf::CONF_OK);
  REQUIRE(conf->set("group.id", group, err) == RdKafka::Conf::CONF_OK);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer{
    RdKafka::KafkaConsumer::create(conf.get(), err)};
  REQUIRE(consumer != nullptr);
  std::vector<RdKafka::TopicPartition*> ends;
  std::int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    REQUIRE(consumer->query_watermark_offsets(topic, p, &low, &high, 10000)
            == RdKafka::ERR_NO_ERROR);
    ends.push_back(RdKafka::TopicPartition::create(topic, p, high));
    total += high;
  }
  auto committed = consumer->commitSync(ends);
  RdKafka::TopicPartition::destroy(ends);
  consumer->close();
  REQUIRE(committed == RdKafka::ERR_NO_ERROR);
  return total;
}

/// The generated service, bound to `handlers`, with its own group and state folder.
std::unique_ptr<eddy::service> orders_service(shop::orders_handlers& handlers,
                                              const std::string& group,
                                              const std::string& state_dir,
                                              const std::string& guarantee) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", group)
    .set("eddy.state.dir", state_dir)
    .set("eddy.commit.interval.ms", "200")
    .set("eddy.processing.guarantee", guarantee);
  auto svc = std::make_unique<eddy::service>("generated-state-it", cfg);
  shop::bind(*svc, handlers);
  return svc;
}

/// Runs a fresh instance of the service until its group has committed `offsets` offsets of
/// order-commands (in total), then stops it; returns how many journal events it replayed
/// while restoring.
std::int64_t run_until_committed(const std::string& group, const std::string& state_dir,
                                 const std::string& guarantee, std::int64_t offsets,
                                 const std::vector<eddy::record>& input) {
  shop::orders_handlers handlers;
  auto svc = orders_service(handlers, group, state_dir, guarantee);
  eddy::test::service_thread running{*svc};
  produce_records(input);
  REQUIRE(eddy::test::eventually(
    [&] {
      std::this_thread::sleep_for(200ms);
      return eddy::test::committed_total(eddy::test::broker_bootstrap(), group, commands,
                                         partitions)
             == offsets;
    },
    90s));
  REQUIRE(running.stop_and_join());
  CHECK(svc->stats().handler_errors == 0);
  return svc->stats().events_restored;
}

eddy::record place(const std::string& id) {
  shop::PlaceOrder cmd;
  cmd.set_order_id(id);
  cmd.set_customer("ada");
  cmd.set_amount_cents(100);
  return eddy::codegen::encode(commands, id, cmd);
}

eddy::record cancel(const std::string& id) {
  shop::CancelOrder cmd;
  cmd.set_order_id(id);
  cmd.set_reason("changed my mind");
  return eddy::codegen::encode(commands, id, cmd);
}

/// What one run's orders came to: per order id, the types of its journal events and the
/// reasons of its rejections, in the order they were written.
struct outcome {
  std::map<std::string, std::vector<std::string>> events;
  std::map<std::string, std::vector<std::string>> rejections;
};

/// Reads the journal and the notifications (committed records only) and keeps the records
/// of the order ids starting with `prefix`.
outcome read_outcome(const std::string& prefix) {
  outcome result;
  auto ours = [&](const eddy::record& rec) { return rec.key.rfind(prefix, 0) == 0; };
  for (auto& rec : eddy::test::consume(eddy::test::broker_bootstrap(), journal, 0, 10s, true))
    if (ours(rec))
      result.events[rec.key].push_back(eddy::codegen::type_of(rec));
  for (auto& rec :
       eddy::test::consume(eddy::test::broker_bootstrap(), notifications, 0, 10s, true))
    if (ours(rec))
      result.rejections[rec.key].push_back(
        eddy::codegen::decode<shop::OrderRejected>(rec).reason());
  return result;
}

/// The number of committed records in the journal, every run's included.
std::int64_t journal_size() {
  return static_cast<std::int64_t>(
    eddy::test::consume(eddy::test::broker_bootstrap(), journal, 0, 10s, true).size());
}

} // namespace

TEST_CASE("generated state is restored from the journal stores after a restart and rebuilt "
          "from the journal without them") {
  auto guarantee = GENERATE(as<std::string>{}, "at_least_once", "exactly_once");
  INFO("processing.guarantee=" << guarantee);
  auto bootstrap = eddy::test::broker_bootstrap();
  eddy::test::create_topic(bootstrap, commands, partitions);
  // As svc.journal() creates it: a journal keeps every event.
  eddy::test::create_topic(bootstrap, journal, partitions,
                           {{"retention.ms", "-1"}, {"retention.bytes", "-1"}});
  eddy::test::create_topic(bootstrap, notifications, 1);
  auto run = eddy::test::unique_name("gs") + "-";
  auto group = eddy::test::unique_name("generated-state-group");
  auto state_dir =
    (std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-state")).string();
  auto id = [&](const std::string& set, int i) { return run + set + std::to_string(i); };
  auto offsets = start_group_at_end(group, commands);

  // Orders a and b are placed; the new store replays whatever earlier runs journaled.
  std::vector<eddy::record> input;
  for (int i = 0; i < orders; ++i) {
    input.push_back(place(id("a", i)));
    input.push_back(place(id("b", i)));
  }
  offsets += static_cast<std::int64_t>(input.size());
  run_until_committed(group, state_dir, guarantee, offsets, input);

  // Restarted with its stores, the service knows orders a (their cancellations are
  // accepted) and not orders u (never placed: rejected), without replaying anything.
  input.clear();
  for (int i = 0; i < orders; ++i) {
    input.push_back(cancel(id("a", i)));
    input.push_back(cancel(id("u", i)));
  }
  offsets += static_cast<std::int64_t>(input.size());
  CHECK(run_until_committed(group, state_dir, guarantee, offsets, input) == 0);
  auto after_restart = read_outcome(run);
  for (int i = 0; i < orders; ++i) {
    CHECK(after_restart.events[id("a", i)]
          == std::vector<std::string>{"shop.OrderPlaced", "shop.OrderCancelled"});
    CHECK(after_restart.rejections[id("a", i)].empty());
    CHECK(after_restart.events[id("u", i)].empty());
    CHECK(after_restart.rejections[id("u", i)]
          == std::vector<std::string>{"order is not placed"});
  }

  // Without its stores the service rebuilds them from the whole journal before the first
  // command: orders b are still placed (accepted), orders a cancelled (rejected again).
  std::filesystem::remove_all(state_dir);
  auto journaled = journal_size();
  input.clear();
  for (int i = 0; i < orders; ++i) {
    input.push_back(cancel(id("b", i)));
    input.push_back(cancel(id("a", i)));
  }
  offsets += static_cast<std::int64_t>(input.size());
  CHECK(run_until_committed(group, state_dir, guarantee, offsets, input) == journaled);
  auto rebuilt = read_outcome(run);
  for (int i = 0; i < orders; ++i) {
    CHECK(rebuilt.events[id("b", i)]
          == std::vector<std::string>{"shop.OrderPlaced", "shop.OrderCancelled"});
    CHECK(rebuilt.events[id("a", i)]
          == std::vector<std::string>{"shop.OrderPlaced", "shop.OrderCancelled"});
    CHECK(rebuilt.rejections[id("a", i)] == std::vector<std::string>{"order is not placed"});
    CHECK(rebuilt.rejections[id("b", i)].empty());
  }
  std::filesystem::remove_all(state_dir);
}
