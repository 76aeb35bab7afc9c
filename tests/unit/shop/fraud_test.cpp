// Tests of the shop's fraud service through its generated test kit: no broker, no
// threads. The re-keying hop through `fraud-orders-by-customer` is played by the test: the
// requests the Order handler emits are sent back in, as the runtime would consume them.

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fraud.hpp"
#include "shop/fraud.eddy.testkit.h"

namespace {

constexpr std::int64_t minute_ms = 60 * 1000;
constexpr std::int64_t t0 = 1'700'000'000'000;

shop::Order order(const std::string& id, const std::string& customer, int quantity,
                  double price, shop::Order::State state = shop::Order::CREATED) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id(customer);
  o.set_state(state);
  o.set_product("jumpers");
  o.set_quantity(quantity);
  o.set_price(price);
  return o;
}

/// The fraud service's handlers in a test kit, with the re-keying hop played in-process.
struct fraud_kit {
  shop::fraud handlers;
  shop::FraudTestKit kit{handlers};

  /// Sends `o` as a record of `orders` stamped `time_ms`, sends the requests it was
  /// re-keyed into back in, and returns the FRAUD verdicts emitted for it.
  std::vector<shop::OrderValidation::Result> check(const shop::Order& o, std::int64_t time_ms) {
    kit.clear();
    auto rec = eddy::codegen::encode("orders", o.id(), o);
    rec.timestamp_ms = time_ms;
    kit.send(rec);
    auto requests = kit.emitted_records();
    kit.clear();
    for (auto& request : requests)
      if (request.topic == "fraud-orders-by-customer")
        kit.send(request);
    std::vector<shop::OrderValidation::Result> results;
    for (auto& v : kit.emitted<shop::OrderValidation>()) {
      CHECK(v.order_id() == o.id());
      CHECK(v.check() == shop::OrderValidation::FRAUD);
      results.push_back(v.result());
    }
    CHECK(kit.dead_letters().empty());
    return results;
  }

  /// Checks `o` and returns its single verdict.
  shop::OrderValidation::Result verdict(const shop::Order& o, std::int64_t time_ms) {
    auto results = check(o, time_ms);
    REQUIRE(results.size() == 1);
    return results[0];
  }
};

using results = std::vector<shop::OrderValidation::Result>;
constexpr auto pass = shop::OrderValidation::PASS;
constexpr auto fail = shop::OrderValidation::FAIL;

} // namespace

TEST_CASE("a new order is re-keyed by its customer with its value and its record's time") {
  fraud_kit f;
  auto rec = eddy::codegen::encode("orders", "o1", order("o1", "c1", 3, 12.5));
  rec.timestamp_ms = t0;
  f.kit.send(rec);
  REQUIRE(f.kit.emitted_records().size() == 1);
  CHECK(f.kit.emitted_records()[0].topic == "fraud-orders-by-customer");
  CHECK(f.kit.emitted_records()[0].key == "c1");
  auto requests = f.kit.emitted<shop::FraudCheckRequested>();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].order_id() == "o1");
  CHECK(requests[0].amount() == 37.5);
  CHECK(requests[0].order_time_ms() == t0);
}

TEST_CASE(
  "a customer's orders pass until their total within the hour reaches 2000, then fail") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", 1, 500), t0) == pass);
  CHECK(f.verdict(order("o2", "c1", 2, 400), t0 + 10 * minute_ms) == pass);
  CHECK(f.verdict(order("o3", "c1", 3, 200), t0 + 20 * minute_ms) == pass);  // 1900
  CHECK(f.verdict(order("o4", "c1", 1, 100), t0 + 30 * minute_ms) == fail);  // 2000: crosses
  CHECK(f.verdict(order("o5", "c1", 1, 1), t0 + 40 * minute_ms) == fail);    // still over
  CHECK(f.verdict(order("o6", "c2", 1, 1999), t0 + 40 * minute_ms) == pass); // another customer

  auto spend = f.kit.state("c1");
  REQUIRE(spend.orders_size() == 5);
  CHECK(spend.orders(3).order_id() == "o4");
  CHECK(spend.orders(3).result() == fail);
  CHECK(spend.latest_order_time_ms() == t0 + 40 * minute_ms);
}

TEST_CASE("a single order worth 2000 or more fails") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", 4, 500), t0) == fail);
  CHECK(f.verdict(order("o2", "c2", 1, 1999.99), t0) == pass);
}

TEST_CASE("orders leave the window an hour after their record's time") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", 1, 1500), t0) == pass);
  CHECK(f.verdict(order("o2", "c1", 1, 400), t0 + 30 * minute_ms) == pass); // 1900
  CHECK(f.verdict(order("o3", "c1", 1, 500), t0 + 60 * minute_ms) == pass); // o1 is out: 900
  CHECK(f.kit.state("c1").orders_size() == 2);
  CHECK(f.verdict(order("o4", "c1", 1, 1100), t0 + 70 * minute_ms) == fail); // 2000
  CHECK(f.verdict(order("o5", "c1", 1, 100), t0 + 200 * minute_ms) == pass); // all expired
  CHECK(f.kit.state("c1").orders_size() == 1);
}

TEST_CASE("failed orders count, so the customer stays blocked until they expire") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", 1, 2500), t0) == fail);
  CHECK(f.verdict(order("o2", "c1", 1, 10), t0 + 59 * minute_ms) == fail);
  CHECK(f.verdict(order("o3", "c1", 1, 10), t0 + 61 * minute_ms) == pass);
}

TEST_CASE("a late order counts toward the hour before the customer's newest order") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", 1, 1500), t0 + 30 * minute_ms) == pass);
  CHECK(f.verdict(order("o2", "c1", 1, 600), t0) == fail);
  CHECK(f.kit.state("c1").latest_order_time_ms() == t0 + 30 * minute_ms);
}

TEST_CASE("a repeated request gets the verdict it got before and is counted once") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", 1, 1500), t0) == pass);
  f.kit.clear();
  shop::FraudCheckRequested again;
  again.set_customer_id("c1");
  again.set_order_id("o1");
  again.set_amount(1500);
  again.set_order_time_ms(t0);
  f.kit.send(again);
  CHECK(f.kit.emitted<shop::SpendRecorded>().empty());
  auto validations = f.kit.emitted<shop::OrderValidation>();
  REQUIRE(validations.size() == 1);
  CHECK(validations[0].result() == pass);
  CHECK(f.kit.state("c1").orders_size() == 1);
}

TEST_CASE("an order of negative value counts as worth nothing") {
  fraud_kit f;
  CHECK(f.verdict(order("o1", "c1", -10, 1000), t0) == pass);
  CHECK(f.verdict(order("o2", "c1", 1, 1999), t0) == pass);
}

TEST_CASE("orders past state CREATED are not checked") {
  fraud_kit f;
  for (auto state : {shop::Order::VALIDATED, shop::Order::FAILED, shop::Order::SHIPPED,
                     shop::Order::STATE_UNSPECIFIED})
    CHECK(f.check(order("o1", "c1", 1, 5000, state), t0) == results{});
  CHECK(f.kit.emitted_records().empty());
  CHECK(f.kit.state("c1").orders_size() == 0);
}
