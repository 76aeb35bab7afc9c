// Tests of the shop's inventory service through its generated test kit: no broker, no
// threads. `put()` seeds the warehouse's stock table, `relay()` plays the broker's part in
// the re-keying hop through `inventory-orders-by-product`.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "inventory.hpp"
#include "shop/inventory.eddy.testkit.h"

namespace {

using result = shop::OrderValidation::Result;
using results = std::vector<result>;
constexpr auto pass = shop::OrderValidation::PASS;
constexpr auto fail = shop::OrderValidation::FAIL;

shop::Order order(const std::string& id, const std::string& product, int quantity,
                  shop::Order::State state = shop::Order::CREATED) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("c1");
  o.set_state(state);
  o.set_product(product);
  o.set_quantity(quantity);
  o.set_price(9.5);
  return o;
}

shop::StockLevel stock(const std::string& product, int quantity) {
  shop::StockLevel level;
  level.set_product(product);
  level.set_quantity(quantity);
  return level;
}

shop::InventoryCheckRequested request(const std::string& product, const std::string& order_id,
                                      int quantity) {
  shop::InventoryCheckRequested r;
  r.set_product(product);
  r.set_order_id(order_id);
  r.set_quantity(quantity);
  return r;
}

/// The inventory service's handlers in a test kit.
struct inventory_kit {
  shop::inventory handlers;
  shop::InventoryTestKit kit{handlers};

  /// Sends `o` on `orders`, relays what it was re-keyed into, and returns the INVENTORY
  /// verdicts emitted for it.
  results check(const shop::Order& o) {
    kit.clear();
    kit.send(o);
    kit.relay();
    return verdicts(o.id());
  }

  /// Checks `o` and returns its single verdict.
  result verdict(const shop::Order& o) {
    auto all = check(o);
    REQUIRE(all.size() == 1);
    return all[0];
  }

  /// The INVENTORY verdicts emitted since the last clear(), all for `order_id`.
  results verdicts(const std::string& order_id) {
    results all;
    for (auto& v : kit.emitted<shop::OrderValidation>()) {
      CHECK(v.order_id() == order_id);
      CHECK(v.check() == shop::OrderValidation::INVENTORY);
      all.push_back(v.result());
    }
    CHECK(kit.dead_letters().empty());
    return all;
  }
};

} // namespace

TEST_CASE("a new order is re-keyed by its product with its quantity") {
  inventory_kit i;
  i.kit.send(order("o1", "jumpers", 3));
  REQUIRE(i.kit.emitted_records().size() == 1);
  CHECK(i.kit.emitted_records()[0].topic == "inventory-orders-by-product");
  CHECK(i.kit.emitted_records()[0].key == "jumpers");
  auto requests = i.kit.emitted<shop::InventoryCheckRequested>();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].order_id() == "o1");
  CHECK(requests[0].quantity() == 3);
}

TEST_CASE("with stock A=75 and B=1, orders 3xA, 1xB, 1xB pass, pass, fail") {
  inventory_kit i;
  i.kit.put(stock("A", 75));
  i.kit.put(stock("B", 1));
  CHECK(i.verdict(order("o1", "A", 3)) == pass);
  CHECK(i.kit.emitted_records().back().topic == "order-validations");
  CHECK(i.kit.emitted_records().back().key == "o1");
  CHECK(i.verdict(order("o2", "B", 1)) == pass);
  CHECK(i.verdict(order("o3", "B", 1)) == fail);
  CHECK(i.kit.state("A").reserved() == 3);
  CHECK(i.kit.state("B").reserved() == 1);
  CHECK(i.kit.state("B").verdicts().at("o3") == fail);
  CHECK(i.kit.emitted<shop::ReservationRefused>().size() == 1);
}

TEST_CASE("an order passes while stock less reservations covers it, exactly to the last item") {
  inventory_kit i;
  i.kit.put(stock("A", 10));
  CHECK(i.verdict(order("o1", "A", 4)) == pass);
  CHECK(i.verdict(order("o2", "A", 7)) == fail); // 6 left
  CHECK(i.verdict(order("o3", "A", 6)) == pass); // the last 6
  CHECK(i.verdict(order("o4", "A", 1)) == fail);
  CHECK(i.kit.state("A").reserved() == 10);
}

TEST_CASE("new stock from the warehouse counts for the next order, reservations stay") {
  inventory_kit i;
  i.kit.put(stock("A", 2));
  CHECK(i.verdict(order("o1", "A", 2)) == pass);
  CHECK(i.verdict(order("o2", "A", 1)) == fail);
  i.kit.put(stock("A", 5)); // a delivery: the warehouse holds 5 now, 2 of them reserved
  CHECK(i.verdict(order("o3", "A", 3)) == pass);
  CHECK(i.verdict(order("o4", "A", 1)) == fail);
  CHECK(i.kit.state("A").reserved() == 5);
}

TEST_CASE("a product the warehouse does not list has no stock") {
  inventory_kit i;
  CHECK(i.verdict(order("o1", "unknown", 1)) == fail);
  CHECK(i.kit.state("unknown").reserved() == 0);
}

TEST_CASE("an order delivered again gets its verdict again and reserves nothing more") {
  inventory_kit i;
  i.kit.put(stock("A", 5));
  CHECK(i.verdict(order("o1", "A", 3)) == pass);
  CHECK(i.verdict(order("o2", "A", 3)) == fail);
  i.kit.put(stock("A", 100)); // a repeated order must not change its verdict even now
  CHECK(i.check(order("o1", "A", 3)) == results{pass});
  CHECK(i.kit.emitted<shop::StockReserved>().empty());
  i.kit.clear();
  i.kit.send(request("A", "o2", 3)); // a repeated request, as the re-keying topic may hold
  CHECK(i.verdicts("o2") == results{fail});
  CHECK(i.kit.emitted<shop::ReservationRefused>().empty());
  CHECK(i.kit.state("A").reserved() == 3);
  CHECK(i.kit.state("A").verdicts_size() == 2);
}

TEST_CASE("a reservation in the journal twice is folded once") {
  inventory_kit i;
  shop::StockReserved reserved;
  reserved.set_product("A");
  reserved.set_order_id("o1");
  reserved.set_quantity(3);
  shop::ProductReservations reservations;
  i.handlers.apply(reservations, reserved);
  i.handlers.apply(reservations, reserved);
  CHECK(reservations.reserved() == 3);
  CHECK(reservations.verdicts_size() == 1);
}

TEST_CASE("an order without product or with a quantity below 1 fails without re-keying") {
  inventory_kit i;
  i.kit.put(stock("A", 10));
  for (auto& o : {order("o1", "", 1), order("o2", "A", 0), order("o3", "A", -5)}) {
    INFO(o.id());
    CHECK(i.check(o) == results{fail});
    CHECK(i.kit.emitted<shop::InventoryCheckRequested>().empty());
  }
  CHECK(i.kit.state("A").reserved() == 0);
}

TEST_CASE("orders past state CREATED are not checked") {
  inventory_kit i;
  i.kit.put(stock("A", 10));
  for (auto state : {shop::Order::VALIDATED, shop::Order::FAILED, shop::Order::SHIPPED,
                     shop::Order::STATE_UNSPECIFIED})
    CHECK(i.check(order("o1", "A", 1, state)) == results{});
  CHECK(i.kit.emitted_records().empty());
  CHECK(i.kit.state("A").reserved() == 0);
}
