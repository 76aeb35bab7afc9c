// The generated dispatcher wired into the real runtime by `bind()`, on librdkafka's
// in-process mock cluster (no broker): typed handlers, typed emits with their type header,
// own events applied to state, and bad records sent to the dead-letter topic.

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/service.hpp>
#include <eddy/testing/mock_cluster.hpp>

#include "kafka_fixture.hpp"
#include "orders_handlers.hpp"
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
    auto code = producer->produce(rec.topic, RdKafka::Topic::PARTITION_UA,
                                  RdKafka::Producer::RK_MSG_COPY,
                                  const_cast<char*>(rec.value.data()), rec.value.size(),
                                  rec.key.data(), rec.key.size(), 0, headers, nullptr);
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

  eddy::config cfg;
  cfg.set("bootstrap.servers", cluster.bootstrap())
    .set("eddy.commit.interval.ms", "100")
    .set("eddy.startup.timeout.ms", "5000");
  eddy::service svc{"orders", cfg};
  shop::orders_handlers handlers;
  auto dispatcher = shop::bind(svc, handlers);
  {
    eddy::test::service_thread running{svc};
    REQUIRE(eddy::test::eventually([&] { return svc.stats().records_handled >= 5; }, 30s));
    REQUIRE(running.stop_and_join());
  }

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
  CHECK(svc.stats().handler_errors == 2);
  CHECK(dispatcher->state("o1").amount_cents() == 100);
  CHECK(dispatcher->state("o2").status() == shop::OrderState::PLACED);
}
