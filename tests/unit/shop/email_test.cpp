// Tests of the shop's email service through its generated test kit: no broker, no
// threads. `put()` seeds the global `customers` table.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "email.hpp"
#include "shop/email.eddy.testkit.h"

namespace {

shop::Order order(const std::string& id, shop::Order::State state = shop::Order::VALIDATED,
                  const std::string& customer = "ada") {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id(customer);
  o.set_state(state);
  o.set_product("jumpers");
  o.set_quantity(3);
  o.set_price(12.5);
  return o;
}

shop::Payment payment(const std::string& order_id, double amount = 37.5,
                      const std::string& id = "pay-1") {
  shop::Payment p;
  p.set_id(id);
  p.set_order_id(order_id);
  p.set_currency("EUR");
  p.set_amount(amount);
  return p;
}

shop::Customer ada() {
  shop::Customer c;
  c.set_id("ada");
  c.set_first_name("Ada");
  c.set_last_name("Lovelace");
  c.set_email("ada@example.com");
  c.set_level(shop::Customer::GOLD);
  return c;
}

/// The email service's handlers in a test kit that knows the customer Ada.
struct email_kit {
  shop::email handlers;
  shop::EmailTestKit kit{handlers};

  email_kit() { kit.put(ada()); }

  /// The mails recorded so far.
  std::vector<shop::EmailNotification> mails() const {
    return kit.emitted<shop::EmailNotification>();
  }
};

} // namespace

TEST_CASE("a validated order and its payment make one mail to the customer, either order") {
  email_kit e;
  SECTION("order first") {
    e.kit.send(order("o1"));
    CHECK(e.mails().empty());
    e.kit.send(payment("o1"));
  }
  SECTION("payment first") {
    e.kit.send(payment("o1"));
    CHECK(e.mails().empty());
    e.kit.send(order("o1"));
  }
  auto mails = e.mails();
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].order_id() == "o1");
  CHECK(mails[0].customer_id() == "ada");
  CHECK(mails[0].to() == "ada@example.com");
  CHECK(mails[0].subject() == "Your order o1 is confirmed");
  CHECK(mails[0].body()
        == "Dear Ada Lovelace,\n\nyour order o1 of 3 x jumpers is confirmed, and we received "
           "your payment of 37.50 EUR.\n\nThank you for shopping with us.\n");
  auto& rec = e.kit.emitted_records().back();
  CHECK(rec.topic == "email-events");
  CHECK(e.kit.emitted_records()[e.kit.emitted_records().size() - 2].topic
        == "email-notifications");
  CHECK(e.kit.emitted_records()[e.kit.emitted_records().size() - 2].key == "o1");
  CHECK(e.kit.dead_letters().empty());
}

TEST_CASE("what arrives first is kept in the order's state until the other comes") {
  email_kit e;
  e.kit.send(order("o1"));
  CHECK(e.kit.state("o1").order().id() == "o1");
  CHECK_FALSE(e.kit.state("o1").has_payment());
  e.kit.send(payment("o2"));
  CHECK(e.kit.state("o2").payment().order_id() == "o2");
  CHECK_FALSE(e.kit.state("o2").has_order());
  e.kit.send(payment("o1"));
  // Recorded: only the mark is kept.
  CHECK(e.kit.state("o1").recorded());
  CHECK_FALSE(e.kit.state("o1").has_order());
  CHECK_FALSE(e.kit.state("o1").has_payment());
  CHECK(e.mails().size() == 1);
}

TEST_CASE("an order is confirmed once, whatever arrives again") {
  email_kit e;
  e.kit.send(order("o1"));
  e.kit.send(payment("o1"));
  e.kit.clear();
  e.kit.send(order("o1"));
  e.kit.send(payment("o1"));
  e.kit.send(payment("o1", 99, "pay-2"));
  CHECK(e.kit.emitted_records().empty());
}

TEST_CASE("the first payment of an order is the one confirmed") {
  email_kit e;
  e.kit.send(payment("o1", 37.5, "pay-1"));
  e.kit.send(payment("o1", 99, "pay-2"));
  e.kit.send(order("o1"));
  auto mails = e.mails();
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].body().find("37.50 EUR") != std::string::npos);
}

TEST_CASE("orders not VALIDATED make no mail") {
  email_kit e;
  for (auto state : {shop::Order::CREATED, shop::Order::FAILED, shop::Order::SHIPPED,
                     shop::Order::STATE_UNSPECIFIED}) {
    e.kit.send(order("o1", state));
    e.kit.send(payment("o1"));
  }
  CHECK(e.mails().empty());
  CHECK_FALSE(e.kit.state("o1").has_order());
}

TEST_CASE("an unknown customer's mail is recorded without recipient and name") {
  email_kit e;
  e.kit.send(order("o1", shop::Order::VALIDATED, "nobody"));
  e.kit.send(payment("o1"));
  auto mails = e.mails();
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].customer_id() == "nobody");
  CHECK(mails[0].to().empty());
  CHECK(mails[0].body().starts_with("Dear customer,\n"));
  CHECK(e.kit.state("o1").recorded());
}
