// Integration test of the shop's fraud service on the real local broker: the service built
// from its schema and handlers runs in-process, Orders stamped with chosen event times go
// in on `orders`, and the FRAUD verdicts on `order-validations` and the spending recorded
// on the service's journal `fraud-customer-spend` are read back.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "fraud.hpp"
#include "kafka_fixture.hpp"
#include "shop_support.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::int64_t minute_ms = 60 * 1000;

shop::Order order(const std::string& id, const std::string& customer, int quantity,
                  double price) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id(customer);
  o.set_state(shop::Order::CREATED);
  o.set_product("jumpers");
  o.set_quantity(quantity);
  o.set_price(price);
  return o;
}

/// One order of the scenario: when it was placed (minutes after the start), and the verdict
/// it must get.
struct step {
  shop::Order order;
  std::int64_t minute;
  shop::OrderValidation::Result expected;
};

} // namespace

TEST_CASE("a customer's orders crossing 2000 within the hour FAIL from that point, on the real "
          "broker") {
  const auto run = eddy::test::unique_name("fraud");
  shop::test::temp_dir state_dir{run + "-state"};
  shop::test::start_at_end<shop::FraudMetadata>(run + "-group");
  eddy::service svc{"fraud", shop::test::service_config(run, state_dir.path())};
  shop::fraud handlers;
  shop::bind(svc, handlers);
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(8)); // orders and fraud-orders-by-customer

  const auto bootstrap = eddy::test::broker_bootstrap();
  shop::test::topic_tail validations{bootstrap, "order-validations", 4};
  shop::test::topic_tail journal{bootstrap, "fraud-customer-spend", 4};
  eddy::test::event_producer producer{bootstrap};

  // Event time starts three hours ago, so the scenario spans two hours without orders
  // stamped in the future.
  const auto start = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()
                     - 180 * minute_ms;
  const auto alice = run + "-alice";
  const auto bob = run + "-bob";
  constexpr auto pass = shop::OrderValidation::PASS;
  constexpr auto fail = shop::OrderValidation::FAIL;
  const std::vector<step> steps{
    {order(run + "-1", alice, 1, 500), 0, pass},  {order(run + "-2", alice, 2, 400), 10, pass},
    {order(run + "-3", bob, 1, 1900), 15, pass},  // another customer's window
    {order(run + "-4", alice, 3, 200), 20, pass}, // alice: 1900
    {order(run + "-5", alice, 1, 100), 30, fail}, // 2000: crosses the limit
    {order(run + "-6", alice, 1, 5), 40, fail},   // and from then on
    {order(run + "-7", bob, 1, 99.99), 45, pass}, // bob: 1999.99
    {order(run + "-8", alice, 1, 5), 125, pass},  // an hour after the last: all expired
  };

  // One at a time: the orders of one customer reach the customer's partition through
  // different partitions of `orders`, so their order there is only fixed by waiting.
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto& s = steps[i];
    INFO("order " << s.order.id() << " at minute " << s.minute);
    producer.send("orders", s.order.id(), s.order, start + s.minute * minute_ms);
    producer.flush();
    auto ours = [&](const shop::OrderValidation& v) { return v.order_id().starts_with(run); };
    REQUIRE(validations.read_until(
      [&](auto& records) {
        return shop::test::events_of<shop::OrderValidation>(records, ours).size() > i;
      },
      60s));
    auto verdicts = shop::test::events_of<shop::OrderValidation>(validations.records(), ours);
    CHECK(verdicts[i].order_id() == s.order.id());
    CHECK(verdicts[i].check() == shop::OrderValidation::FRAUD);
    CHECK(verdicts[i].result() == s.expected);
  }

  // Nothing more comes: every order was decided once.
  validations.read_for(1s);
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().handler_errors == 0);
  auto verdicts = shop::test::events_of<shop::OrderValidation>(
    validations.records(), [&](auto& v) { return v.order_id().starts_with(run); });
  CHECK(verdicts.size() == steps.size());
  for (auto& rec : validations.records())
    if (rec.key.starts_with(run))
      CHECK(rec.topic == "order-validations");

  // The journal holds alice's spending, keyed by her id, with the orders' own event times.
  REQUIRE(journal.read_until(
    [&](auto& records) {
      return shop::test::events_of<shop::SpendRecorded>(
               records, [&](auto& e) { return e.customer_id() == alice; })
               .size()
             >= 6;
    },
    10s));
  std::vector<std::string> order_ids;
  for (auto& rec : journal.records())
    if (rec.key == alice) {
      auto spent = eddy::codegen::decode<shop::SpendRecorded>(rec);
      order_ids.push_back(spent.order_id());
      for (auto& s : steps)
        if (s.order.id() == spent.order_id()) {
          CHECK(spent.order_time_ms() == start + s.minute * minute_ms);
          CHECK(spent.amount() == s.order.quantity() * s.order.price());
          CHECK(spent.result() == s.expected);
        }
    }
  CHECK(order_ids
        == std::vector<std::string>{run + "-1", run + "-2", run + "-4", run + "-5", run + "-6",
                                    run + "-8"});
}
