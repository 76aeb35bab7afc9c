// The generated dispatcher wired into the real runtime by `bind()`, on librdkafka's
// in-process mock cluster (no broker): typed handlers, typed emits with their type header,
// own events folded into the journal's state stores, bad records sent to the dead-letter
// topic, and a service that re-keys through a topic it emits and consumes, reads tables and
// counts the records it skips in service_stats.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/service.hpp>
#include <eddy/testing/mock_cluster.hpp>

#include "credit_handlers.hpp"
#include "kafka_fixture.hpp"
#include "orders_handlers.hpp"
#include "shop/customers.eddy.h"
#include "shop/orders.eddy.h"

using namespace std::chrono_literals;

namespace {

/// Produces `records` (with their headers) and waits until all are delivered.
void produce_records(const std::string& bootstrap, const std::vector<eddy::record>& records) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  REQUIRE(conf->set("bootstrap.servers", bootstrap, err) == RdKafka::Conf::CONF_OK);
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
  REQUIRE(producer->flush(10000) == RdKafka::ERR_NO_ERROR);
}

shop::PlaceOrder place(const std::string& id, std::int64_t amount) {
  shop::PlaceOrder cmd;
  cmd.set_order_id(id);
  cmd.set_amount_cents(amount);
  return cmd;
}

/// A state folder of its own under the temp directory, removed at scope exit.
class state_dir {
public:
  state_dir()
    : path_(std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-state")) {}
  ~state_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

} // namespace

TEST_CASE("bind() runs the generated dispatcher in a real service") {
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("order-commands", 4);
  cluster.create_topic("order-events", 4);
  cluster.create_topic("order-notifications", 1);
  cluster.create_topic("orders-dlq", 1);

  eddy::record broken;
  broken.topic = "order-commands";
  broken.key = "o3";
  broken.value = "\xff\xff";
  broken.headers = {{"eddy.type", "shop.PlaceOrder"}};
  produce_records(cluster.bootstrap(),
                  {eddy::codegen::encode("order-commands", "o1", place("o1", 100)),
                   eddy::codegen::encode("order-commands", "o2", place("o2", 200)),
                   eddy::codegen::encode("order-commands", "o1", place("o1", 300)), broken,
                   eddy::codegen::encode("order-commands", "o4", shop::OrderState{})});

  state_dir states;
  eddy::config cfg;
  cfg.set("bootstrap.servers", cluster.bootstrap())
    .set("eddy.commit.interval.ms", "100")
    .set("eddy.startup.timeout.ms", "5000")
    .set("eddy.journal.check.retention", "false") // the mock cluster cannot describe configs
    .set("eddy.state.dir", states.path());
  eddy::service svc{"orders", cfg};
  shop::orders_handlers handlers;
  auto dispatcher = shop::bind(svc, handlers);
  {
    eddy::test::service_thread running{svc};
    REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled >= 5; }, 30s));
    REQUIRE(running.stop_and_join());
  }

  // The second PlaceOrder of o1 saw the state the first one's event left in the store.
  auto events = eddy::test::consume(cluster.bootstrap(), "order-events", 2, 3s);
  REQUIRE(events.size() == 2);
  for (auto& rec : events) {
    REQUIRE(rec.find_header("eddy.type") != nullptr);
    CHECK(*rec.find_header("eddy.type") == "shop.OrderPlaced");
    auto placed = eddy::codegen::decode<shop::OrderPlaced>(rec);
    CHECK(placed.order_id() == rec.key);
  }
  auto notes = eddy::test::consume(cluster.bootstrap(), "order-notifications", 1, 3s);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].key == "o1");
  CHECK(eddy::codegen::decode<shop::OrderRejected>(notes[0]).reason() == "order exists");
  auto dead = eddy::test::consume(cluster.bootstrap(), "orders-dlq", 2, 3s);
  CHECK(dead.size() == 2);
  CHECK(svc.stats().decode_errors == 1);  // o3's payload does not parse
  CHECK(svc.stats().handler_errors == 1); // o4's type is not consumed (DEAD_LETTER)
  CHECK(svc.stats().dead_letters == 2);
  CHECK(dispatcher->skipped() == 0);
  CHECK(svc.stats().records_skipped == 0);
}

TEST_CASE("bind() declares the re-keying topic, the journal and the tables of a service") {
  eddy::testing::mock_cluster cluster;
  for (auto topic : {"order-events", "customer-orders", "credit-events", "customers"})
    cluster.create_topic(topic, 4);
  for (auto topic : {"credit-policies", "credit-notifications", "credit-dlq"})
    cluster.create_topic(topic, 1);

  auto customer = [](const std::string& id, const std::string& tier) {
    shop::Customer row;
    row.set_id(id);
    row.set_tier(tier);
    return eddy::codegen::encode("customers", id, row);
  };
  auto policy = [](const std::string& tier, std::int64_t limit) {
    shop::CreditPolicy row;
    row.set_tier(tier);
    row.set_limit_cents(limit);
    return eddy::codegen::encode("credit-policies", tier, row);
  };
  auto placed = [](const std::string& id, const std::string& customer, std::int64_t amount) {
    shop::OrderPlaced event;
    event.set_order_id(id);
    event.set_customer(customer);
    event.set_amount_cents(amount);
    return eddy::codegen::encode("order-events", id, event);
  };
  // The tables are complete before the first input is handled.
  produce_records(cluster.bootstrap(), {customer("ada", "gold"), customer("bob", "basic"),
                                        policy("gold", 1000), policy("basic", 100)});
  // Besides the placed orders, two records the service skips (its policy is SKIP): a type
  // it does not consume and a record without a type header.
  shop::OrderCancelled cancelled;
  cancelled.set_order_id("o9");
  eddy::record untyped;
  untyped.topic = "order-events";
  untyped.key = "o8";
  untyped.value = "x";
  produce_records(cluster.bootstrap(),
                  {placed("o1", "ada", 600), placed("o2", "bob", 50), placed("o3", "ada", 300),
                   placed("o4", "bob", 60), placed("o5", "ada", 200),
                   eddy::codegen::encode("order-events", "o9", cancelled), untyped});

  state_dir states;
  eddy::config cfg;
  cfg.set("bootstrap.servers", cluster.bootstrap())
    .set("eddy.commit.interval.ms", "100")
    .set("eddy.startup.timeout.ms", "5000")
    .set("eddy.journal.check.retention", "false") // the mock cluster cannot describe configs
    .set("eddy.state.dir", states.path());
  eddy::service svc{"credit", cfg};
  shop::credit_handlers handlers;
  auto dispatcher = shop::bind(svc, handlers);
  {
    eddy::test::service_thread running{svc};
    // Seven order events, then the five placed orders re-keyed by customer.
    REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled >= 12; }, 30s));
    REQUIRE(running.stop_and_join());
  }
  CHECK(svc.stats().records_skipped == 2);
  CHECK(dispatcher->skipped() == 2);

  auto rekeyed = eddy::test::consume(cluster.bootstrap(), "customer-orders", 5, 3s);
  REQUIRE(rekeyed.size() == 5);
  for (auto& rec : rekeyed)
    CHECK(eddy::codegen::decode<shop::CustomerOrder>(rec).customer() == rec.key);
  // The orders of a customer arrive in no fixed order, but whatever the order, each
  // customer gets exactly one refusal: ada's third order exceeds 1000, bob's second 100.
  std::map<std::string, int> charged;
  for (auto& rec : eddy::test::consume(cluster.bootstrap(), "credit-events", 3, 3s)) {
    auto event = eddy::codegen::decode<shop::CreditCharged>(rec);
    CHECK(event.customer() == rec.key);
    ++charged[event.customer()];
  }
  CHECK(charged == std::map<std::string, int>{{"ada", 2}, {"bob", 1}});
  std::map<std::string, std::int64_t> refused;
  for (auto& rec : eddy::test::consume(cluster.bootstrap(), "credit-notifications", 2, 3s)) {
    auto event = eddy::codegen::decode<shop::CreditRefused>(rec);
    refused[event.customer()] = event.limit_cents();
  }
  CHECK(refused == std::map<std::string, std::int64_t>{{"ada", 1000}, {"bob", 100}});
  CHECK(svc.stats().handler_errors == 0);
}
