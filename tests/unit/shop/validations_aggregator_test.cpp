// Tests of the shop's validations-aggregator service through its generated test kit: no
// broker, no threads.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shop/validations_aggregator.eddy.testkit.h"
#include "validations_aggregator.hpp"

namespace {

using check = shop::OrderValidation::Check;
using result = shop::OrderValidation::Result;

shop::Order order(const std::string& id, shop::Order::State state = shop::Order::CREATED) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("c1");
  o.set_state(state);
  o.set_product("jumpers");
  o.set_quantity(3);
  o.set_price(12.5);
  return o;
}

shop::OrderValidation validation(const std::string& order_id, check c, result r) {
  shop::OrderValidation v;
  v.set_order_id(order_id);
  v.set_check(c);
  v.set_result(r);
  return v;
}

/// The validations-aggregator's handlers in a test kit.
struct aggregator_kit {
  shop::validations_aggregator handlers;
  shop::ValidationsAggregatorTestKit kit{handlers};

  /// Sends one verdict of every check on `order_id`.
  void send_all(const std::string& order_id, result r) {
    for (auto c : {shop::OrderValidation::INVENTORY, shop::OrderValidation::FRAUD,
                   shop::OrderValidation::ORDER_DETAILS})
      kit.send(validation(order_id, c, r));
  }

  /// The orders decided so far, in order.
  std::vector<shop::Order> decided() const { return kit.emitted<shop::Order>(); }
};

constexpr auto pass = shop::OrderValidation::PASS;
constexpr auto fail = shop::OrderValidation::FAIL;

} // namespace

TEST_CASE("an order whose three checks pass becomes VALIDATED on orders, fields unchanged") {
  aggregator_kit a;
  a.kit.send(order("o1"));
  a.kit.send(validation("o1", shop::OrderValidation::INVENTORY, pass));
  a.kit.send(validation("o1", shop::OrderValidation::FRAUD, pass));
  CHECK(a.decided().empty());
  a.kit.send(validation("o1", shop::OrderValidation::ORDER_DETAILS, pass));

  auto decided = a.decided();
  REQUIRE(decided.size() == 1);
  auto expected = order("o1", shop::Order::VALIDATED);
  CHECK(decided[0].SerializeAsString() == expected.SerializeAsString());
  auto orders = 0;
  for (auto& rec : a.kit.emitted_records())
    if (rec.topic == "orders") {
      ++orders;
      CHECK(rec.key == "o1");
    }
  CHECK(orders == 1);
  CHECK(a.kit.state("o1").decision() == shop::Order::VALIDATED);
  CHECK(a.kit.dead_letters().empty());
}

TEST_CASE("the first failed check fails the order and later verdicts change nothing") {
  aggregator_kit a;
  a.kit.send(order("o1"));
  a.kit.send(validation("o1", shop::OrderValidation::INVENTORY, pass));
  a.kit.send(validation("o1", shop::OrderValidation::FRAUD, fail));
  a.kit.send(validation("o1", shop::OrderValidation::ORDER_DETAILS, pass));
  a.kit.send(validation("o1", shop::OrderValidation::ORDER_DETAILS, fail));

  auto decided = a.decided();
  REQUIRE(decided.size() == 1);
  CHECK(decided[0].SerializeAsString() == order("o1", shop::Order::FAILED).SerializeAsString());
  CHECK(a.kit.emitted<shop::OrderDecided>().size() == 1);
  CHECK(a.kit.state("o1").decision() == shop::Order::FAILED);
}

TEST_CASE("a check that could not decide fails the order") {
  aggregator_kit a;
  a.kit.send(order("o1"));
  a.kit.send(validation("o1", shop::OrderValidation::INVENTORY, shop::OrderValidation::ERROR));
  auto decided = a.decided();
  REQUIRE(decided.size() == 1);
  CHECK(decided[0].state() == shop::Order::FAILED);
}

TEST_CASE("validations that come before their order are kept until it arrives") {
  aggregator_kit a;
  a.send_all("o1", pass);
  a.kit.send(validation("o2", shop::OrderValidation::FRAUD, fail));
  CHECK(a.decided().empty());

  a.kit.send(order("o1"));
  a.kit.send(order("o2"));
  auto decided = a.decided();
  REQUIRE(decided.size() == 2);
  CHECK(decided[0].SerializeAsString()
        == order("o1", shop::Order::VALIDATED).SerializeAsString());
  CHECK(decided[1].SerializeAsString() == order("o2", shop::Order::FAILED).SerializeAsString());
}

TEST_CASE("duplicated validations count once: two checks passing twice are not three") {
  aggregator_kit a;
  a.kit.send(order("o1"));
  for (int i = 0; i < 3; ++i) {
    a.kit.send(validation("o1", shop::OrderValidation::INVENTORY, pass));
    a.kit.send(validation("o1", shop::OrderValidation::FRAUD, pass));
  }
  CHECK(a.decided().empty());
  CHECK(a.kit.emitted<shop::CheckRecorded>().size() == 2);
  CHECK(a.kit.state("o1").passed_size() == 2);

  a.kit.send(validation("o1", shop::OrderValidation::ORDER_DETAILS, pass));
  a.send_all("o1", pass);
  CHECK(a.decided().size() == 1);
}

TEST_CASE("an order is decided once, whatever comes after") {
  aggregator_kit a;
  a.kit.send(order("o1"));
  a.kit.send(order("o1"));
  CHECK(a.kit.emitted<shop::OrderReceived>().size() == 1);
  a.send_all("o1", pass);
  REQUIRE(a.decided().size() == 1);

  a.kit.clear();
  a.kit.send(order("o1", shop::Order::VALIDATED)); // its own decision, read back
  a.kit.send(order("o1"));                         // the order again
  a.send_all("o1", pass);
  a.send_all("o1", fail);
  CHECK(a.kit.emitted_records().empty());
  CHECK(a.kit.dead_letters().empty());
}

TEST_CASE("orders past state CREATED are ignored") {
  aggregator_kit a;
  for (auto state : {shop::Order::VALIDATED, shop::Order::FAILED, shop::Order::SHIPPED,
                     shop::Order::STATE_UNSPECIFIED})
    a.kit.send(order("o1", state));
  a.send_all("o1", pass);
  CHECK(a.decided().empty());
  CHECK_FALSE(a.kit.state("o1").has_order());
}
