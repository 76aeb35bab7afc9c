// Integration test of the shop's order-details service on the real local broker: the
// service built from its schema and handler runs in-process, typed Orders go in on
// `orders`, and the OrderValidations on `order-validations` are read back.
//
// The topics are the schema's own and shared with other runs, so every order id carries a
// name unique to this run and only those ids are checked.

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "event_producer.hpp"
#include "kafka_fixture.hpp"
#include "order_details.hpp"

using namespace std::chrono_literals;

namespace {

shop::Order order(const std::string& id, const std::string& product, int quantity, double price,
                  shop::Order::State state = shop::Order::CREATED) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("customer-" + id);
  o.set_state(state);
  o.set_product(product);
  o.set_quantity(quantity);
  o.set_price(price);
  return o;
}

/// The records of `order-validations` whose key starts with `prefix`.
std::vector<eddy::record> validations_of(const std::string& prefix) {
  std::vector<eddy::record> ours;
  for (auto& rec :
       eddy::test::consume(eddy::test::broker_bootstrap(), "order-validations", 1, 2s))
    if (rec.key.starts_with(prefix))
      ours.push_back(rec);
  return ours;
}

} // namespace

TEST_CASE("every new order is decided once, PASS or FAIL by its fields, on the real broker") {
  const auto run = eddy::test::unique_name("od");
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", run + "-group")
    .set("eddy.commit.interval.ms", "200");
  eddy::service svc{"order-details", cfg};
  shop::order_details handlers;
  shop::bind(svc, handlers);
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(4));

  // 40 new orders, every fifth malformed in one of four ways; 10 orders past CREATED.
  std::map<std::string, shop::Order> sent;
  std::map<std::string, shop::OrderValidation::Result> expected;
  eddy::test::event_producer producer{eddy::test::broker_bootstrap()};
  for (int i = 0; i < 40; ++i) {
    auto id = run + "-" + std::to_string(i);
    auto o = order(id, "jumpers", 1 + i % 3, 12.5 * i);
    if (i % 5 == 4) {
      switch (i % 4) {
      case 0:
        o.set_quantity(0);
        break;
      case 1:
        o.set_quantity(-2);
        break;
      case 2:
        o.set_price(-1);
        break;
      default:
        o.clear_product();
        break;
      }
    }
    sent[id] = o;
    expected[id] = i % 5 == 4 ? shop::OrderValidation::FAIL : shop::OrderValidation::PASS;
    producer.send("orders", id, o);
  }
  for (int i = 0; i < 10; ++i) {
    auto id = run + "-done-" + std::to_string(i);
    producer.send(
      "orders", id,
      order(id, "jumpers", 1, 1, i % 2 == 0 ? shop::Order::VALIDATED : shop::Order::SHIPPED));
  }
  producer.flush();

  REQUIRE(eddy::test::eventually([&] { return validations_of(run + "-").size() >= 40; }, 60s));
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().handler_errors == 0);

  auto out = validations_of(run + "-");
  CHECK(out.size() == 40);
  std::map<std::string, int> decided;
  for (auto& rec : out) {
    REQUIRE(rec.find_header("eddy.type") != nullptr);
    CHECK(*rec.find_header("eddy.type") == "shop.OrderValidation");
    shop::OrderValidation v;
    REQUIRE(v.ParseFromString(rec.value));
    CHECK(v.order_id() == rec.key);
    CHECK(v.check() == shop::OrderValidation::ORDER_DETAILS);
    REQUIRE(expected.count(v.order_id()) == 1);
    CHECK(v.result() == expected[v.order_id()]);
    ++decided[v.order_id()];
  }
  CHECK(decided.size() == 40);
  for (auto& [id, count] : decided)
    CHECK(count == 1);

  // The orders themselves are untouched: read back from `orders` exactly as sent.
  std::map<std::string, shop::Order> stored;
  for (auto& rec : eddy::test::consume(eddy::test::broker_bootstrap(), "orders", 1, 2s))
    if (sent.count(rec.key) == 1)
      REQUIRE(stored[rec.key].ParseFromString(rec.value));
  REQUIRE(stored.size() == sent.size());
  for (auto& [id, o] : sent)
    CHECK(stored[id].SerializeAsString() == o.SerializeAsString());
}
