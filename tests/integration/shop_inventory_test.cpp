// Integration test of the shop's inventory service on the real local broker: the service
// built from its schema and handlers runs in-process, the warehouse's stock goes in on
// `warehouse-inventory`, Orders on `orders`, and the INVENTORY verdicts on
// `order-validations` and the reservations on the journal `inventory-reservations` are read
// back.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "event_producer.hpp"
#include "inventory.hpp"
#include "kafka_fixture.hpp"
#include "shop_support.hpp"

using namespace std::chrono_literals;

namespace {

shop::Order order(const std::string& id, const std::string& product, int quantity) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("customer-" + id);
  o.set_state(shop::Order::CREATED);
  o.set_product(product);
  o.set_quantity(quantity);
  o.set_price(4.5);
  return o;
}

shop::StockLevel stock(const std::string& product, int quantity) {
  shop::StockLevel level;
  level.set_product(product);
  level.set_quantity(quantity);
  return level;
}

} // namespace

TEST_CASE("with stock A=75, B=1 the orders 3xA, 1xB, 1xB PASS, PASS, FAIL and reserve A=3, "
          "B=1, on the real broker") {
  const auto run = eddy::test::unique_name("inventory");
  shop::test::temp_dir state_dir{run + "-state"};
  shop::test::start_at_end<shop::InventoryMetadata>(run + "-group");
  eddy::service svc{"inventory", shop::test::service_config(run, state_dir.path())};
  shop::inventory handlers;
  shop::bind(svc, handlers);
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(8)); // orders and inventory-orders-by-product

  const auto bootstrap = eddy::test::broker_bootstrap();
  shop::test::topic_tail validations{bootstrap, "order-validations", 4};
  shop::test::topic_tail journal{bootstrap, "inventory-reservations", 4};
  eddy::test::event_producer producer{bootstrap};

  // Products of this run only: the warehouse's table is shared with other runs.
  const auto a = run + "-A";
  const auto b = run + "-B";
  producer.send("warehouse-inventory", a, stock(a, 75));
  producer.send("warehouse-inventory", b, stock(b, 1));
  producer.flush();
  REQUIRE(shop::test::wait_for_rows(svc, "warehouse-inventory", {a, b}));

  struct step {
    shop::Order order;
    shop::OrderValidation::Result expected;
  };
  const std::vector<step> steps{
    {order(run + "-1", a, 3), shop::OrderValidation::PASS},
    {order(run + "-2", b, 1), shop::OrderValidation::PASS},
    {order(run + "-3", b, 1), shop::OrderValidation::FAIL},
  };
  // One at a time: the two orders of B reach B's partition through different partitions of
  // `orders`, so their order there is only fixed by waiting.
  auto ours = [&](const shop::OrderValidation& v) { return v.order_id().starts_with(run); };
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto& s = steps[i];
    INFO("order " << s.order.id());
    producer.send("orders", s.order.id(), s.order);
    producer.flush();
    REQUIRE(validations.read_until(
      [&](auto& records) {
        return shop::test::events_of<shop::OrderValidation>(records, ours).size() > i;
      },
      60s));
    auto verdicts = shop::test::events_of<shop::OrderValidation>(validations.records(), ours);
    CHECK(verdicts[i].order_id() == s.order.id());
    CHECK(verdicts[i].check() == shop::OrderValidation::INVENTORY);
    CHECK(verdicts[i].result() == s.expected);
  }

  // Nothing more comes: every order was decided once.
  validations.read_for(1s);
  CHECK(shop::test::events_of<shop::OrderValidation>(validations.records(), ours).size()
        == steps.size());

  // The journal holds the reservations keyed by product: A=3, B=1, and B's refusal.
  auto of_run = [&](auto& e) { return e.product() == a || e.product() == b; };
  REQUIRE(journal.read_until(
    [&](auto& records) {
      return shop::test::events_of<shop::StockReserved>(records, of_run).size() == 2
             && shop::test::events_of<shop::ReservationRefused>(records, of_run).size() == 1;
    },
    10s));
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().handler_errors == 0);
  std::map<std::string, int> reserved;
  for (auto& r : shop::test::events_of<shop::StockReserved>(journal.records(), of_run))
    reserved[r.product()] += r.quantity();
  CHECK(reserved == std::map<std::string, int>{{a, 3}, {b, 1}});
  auto refused = shop::test::events_of<shop::ReservationRefused>(journal.records(), of_run);
  CHECK(refused[0].order_id() == run + "-3");
  for (auto& rec : journal.records())
    if (rec.key.starts_with(run))
      CHECK((rec.key == a || rec.key == b));
}
