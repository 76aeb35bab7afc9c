// Integration test of the shop's email service on the real local broker: the service built
// from its schema and handlers runs in-process, a customer goes in on `customers` (its
// global table), Orders on `orders` and Payments on `payments` in either order, and the
// mails on `email-notifications` are read back.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "email.hpp"
#include "event_producer.hpp"
#include "kafka_fixture.hpp"
#include "shop_support.hpp"

using namespace std::chrono_literals;

namespace {

shop::Order order(const std::string& id, const std::string& customer,
                  shop::Order::State state) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id(customer);
  o.set_state(state);
  o.set_product("jumpers");
  o.set_quantity(2);
  o.set_price(30);
  return o;
}

shop::Payment payment(const std::string& order_id) {
  shop::Payment p;
  p.set_id("payment-" + order_id);
  p.set_order_id(order_id);
  p.set_currency("EUR");
  p.set_amount(60);
  return p;
}

} // namespace

TEST_CASE(
  "the email service records one mail per validated and paid order, on the real broker") {
  const auto run = eddy::test::unique_name("email");
  shop::test::temp_dir state_dir{run + "-state"};
  shop::test::start_at_end<shop::EmailMetadata>(run + "-group");
  eddy::service svc{"email", shop::test::service_config(run, state_dir.path())};
  shop::email handlers;
  shop::bind(svc, handlers);
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(8)); // orders and payments

  const auto bootstrap = eddy::test::broker_bootstrap();
  shop::test::topic_tail mails{bootstrap, "email-notifications", 4};
  eddy::test::event_producer producer{bootstrap};
  const auto grace = run + "-grace";
  shop::Customer customer;
  customer.set_id(grace);
  customer.set_first_name("Grace");
  customer.set_last_name("Hopper");
  customer.set_email("grace@example.com");
  producer.send("customers", grace, customer);
  producer.flush();
  REQUIRE(shop::test::wait_for_rows(svc, "customers", {grace}));

  const auto order_first = run + "-order-first";
  const auto payment_first = run + "-payment-first";
  const auto never_validated = run + "-never-validated";
  const auto stranger = run + "-stranger";
  producer.send("orders", order_first, order(order_first, grace, shop::Order::CREATED));
  producer.send("orders", order_first, order(order_first, grace, shop::Order::VALIDATED));
  producer.send("payments", order_first, payment(order_first));
  producer.send("payments", payment_first, payment(payment_first));
  producer.send("orders", payment_first, order(payment_first, grace, shop::Order::VALIDATED));
  producer.send("orders", never_validated, order(never_validated, grace, shop::Order::CREATED));
  producer.send("payments", never_validated, payment(never_validated));
  producer.send("orders", never_validated, order(never_validated, grace, shop::Order::FAILED));
  producer.send("orders", stranger, order(stranger, run + "-nobody", shop::Order::VALIDATED));
  producer.send("payments", stranger, payment(stranger));
  // Delivered again: no second mail.
  producer.send("orders", order_first, order(order_first, grace, shop::Order::VALIDATED));
  producer.send("payments", payment_first, payment(payment_first));
  producer.flush();

  auto ours = [&](const shop::EmailNotification& m) { return m.order_id().starts_with(run); };
  REQUIRE(mails.read_until(
    [&](auto& records) {
      return shop::test::events_of<shop::EmailNotification>(records, ours).size() >= 3;
    },
    60s));
  mails.read_for(2s);
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().handler_errors == 0);

  std::map<std::string, shop::EmailNotification> by_order;
  for (auto& mail : shop::test::events_of<shop::EmailNotification>(mails.records(), ours)) {
    INFO("order " << mail.order_id());
    CHECK(by_order.emplace(mail.order_id(), mail).second);
  }
  REQUIRE(by_order.size() == 3);
  for (auto& id : {order_first, payment_first}) {
    INFO("order " << id);
    REQUIRE(by_order.count(id) == 1);
    CHECK(by_order[id].to() == "grace@example.com");
    CHECK(by_order[id].customer_id() == grace);
    CHECK(by_order[id].body().starts_with("Dear Grace Hopper,"));
    CHECK(by_order[id].body().find("60.00 EUR") != std::string::npos);
  }
  REQUIRE(by_order.count(stranger) == 1);
  CHECK(by_order[stranger].to().empty());
  for (auto& rec : mails.records())
    if (rec.key.starts_with(run))
      CHECK(rec.key == eddy::codegen::decode<shop::EmailNotification>(rec).order_id());
}
