// Tests of the shop's order-details service through its generated test kit: no broker, no
// threads, well under a second.

#include <string>

#include <catch2/catch.hpp>

#include "order_details.hpp"
#include "shop/order_details.eddy.testkit.h"

namespace {

shop::Order order(const std::string& id, const std::string& product, int quantity, double price,
                  shop::Order::State state = shop::Order::CREATED) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("c1");
  o.set_state(state);
  o.set_product(product);
  o.set_quantity(quantity);
  o.set_price(price);
  return o;
}

/// Sends `o` through a fresh test kit and returns the single result it emitted.
shop::OrderValidation::Result validate(const shop::Order& o) {
  shop::order_details handlers;
  shop::OrderDetailsTestKit kit{handlers};
  kit.send(o);
  auto validations = kit.emitted<shop::OrderValidation>();
  REQUIRE(validations.size() == 1);
  return validations[0].result();
}

} // namespace

TEST_CASE("a well-formed new order passes, keyed by its id on order-validations") {
  shop::order_details handlers;
  shop::OrderDetailsTestKit kit{handlers};
  kit.send(order("o1", "jumpers", 2, 9.5));
  auto validations = kit.emitted<shop::OrderValidation>();
  REQUIRE(validations.size() == 1);
  CHECK(validations[0].order_id() == "o1");
  CHECK(validations[0].check() == shop::OrderValidation::ORDER_DETAILS);
  CHECK(validations[0].result() == shop::OrderValidation::PASS);
  REQUIRE(kit.emitted_records().size() == 1);
  auto& rec = kit.emitted_records()[0];
  CHECK(rec.topic == "order-validations");
  CHECK(rec.key == "o1");
  REQUIRE(rec.find_header("eddy.type") != nullptr);
  CHECK(*rec.find_header("eddy.type") == "shop.OrderValidation");
  CHECK(kit.dead_letters().empty());
}

TEST_CASE("an order with quantity <= 0, a negative price or no product fails") {
  CHECK(validate(order("o1", "jumpers", 0, 9.5)) == shop::OrderValidation::FAIL);
  CHECK(validate(order("o2", "jumpers", -3, 9.5)) == shop::OrderValidation::FAIL);
  CHECK(validate(order("o3", "jumpers", 1, -0.01)) == shop::OrderValidation::FAIL);
  CHECK(validate(order("o4", "", 1, 9.5)) == shop::OrderValidation::FAIL);
}

TEST_CASE("a free order of one item passes") {
  CHECK(validate(order("o1", "stockings", 1, 0)) == shop::OrderValidation::PASS);
}

TEST_CASE("orders past state CREATED are not validated again") {
  shop::order_details handlers;
  shop::OrderDetailsTestKit kit{handlers};
  for (auto state : {shop::Order::VALIDATED, shop::Order::FAILED, shop::Order::SHIPPED,
                     shop::Order::STATE_UNSPECIFIED})
    kit.send(order("o1", "jumpers", 1, 9.5, state));
  CHECK(kit.emitted_records().empty());
  CHECK(kit.dead_letters().empty());
}

TEST_CASE("a payload that does not parse as an Order goes to the dead letters") {
  shop::order_details handlers;
  shop::OrderDetailsTestKit kit{handlers};
  eddy::record rec;
  rec.topic = "orders";
  rec.key = "o1";
  rec.value = "\xff\xff\xff";
  rec.headers = {{"eddy.type", "shop.Order"}};
  kit.send(rec);
  REQUIRE(kit.dead_letters().size() == 1);
  CHECK_THAT(kit.dead_letters()[0].error, Catch::Contains("shop.Order"));
  CHECK(kit.emitted_records().empty());
}
