// Integration test of the shop's validations-aggregator on the real local broker: the
// service built from its schema and handlers runs in-process, new Orders and their
// OrderValidations (some early, some repeated, some failing) go in, and the decisions it
// writes back to `orders` are read.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"
#include "shop_support.hpp"
#include "validations_aggregator.hpp"

using namespace std::chrono_literals;

namespace {

shop::Order order(const std::string& id, int i) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("customer-" + std::to_string(i % 7));
  o.set_state(shop::Order::CREATED);
  o.set_product(i % 2 == 0 ? "jumpers" : "stockings");
  o.set_quantity(1 + i % 4);
  o.set_price(9.5 + i);
  return o;
}

shop::OrderValidation validation(const std::string& order_id, shop::OrderValidation::Check c,
                                 shop::OrderValidation::Result r) {
  shop::OrderValidation v;
  v.set_order_id(order_id);
  v.set_check(c);
  v.set_result(r);
  return v;
}

} // namespace

TEST_CASE("the aggregator decides every order once from its validations, fields unchanged, on "
          "the real broker") {
  const auto run = eddy::test::unique_name("aggregator");
  shop::test::temp_dir state_dir{run + "-state"};
  shop::test::start_at_end<shop::ValidationsAggregatorMetadata>(run + "-group");
  eddy::service svc{"validations-aggregator",
                    shop::test::service_config(run, state_dir.path())};
  shop::validations_aggregator handlers;
  shop::bind(svc, handlers);
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(8)); // orders and order-validations

  const auto bootstrap = eddy::test::broker_bootstrap();
  shop::test::topic_tail orders{bootstrap, "orders", 4};
  eddy::test::event_producer producer{bootstrap};

  // 40 orders. i % 4: 0 all pass; 1 all pass, each verdict sent three times; 2 one check
  // fails; 3 one check cannot decide. Every fifth order's verdicts are sent before it, and
  // orders 9, 19, … get two passes only, so they stay undecided.
  constexpr auto pass = shop::OrderValidation::PASS;
  const std::vector<shop::OrderValidation::Check> checks{shop::OrderValidation::INVENTORY,
                                                         shop::OrderValidation::FRAUD,
                                                         shop::OrderValidation::ORDER_DETAILS};
  std::map<std::string, shop::Order> sent;
  std::map<std::string, shop::Order::State> expected;
  auto send_verdicts = [&](const std::string& id, int i) {
    for (std::size_t c = 0; c < checks.size(); ++c) {
      if (i % 10 == 9 && c == 2)
        break;
      auto result = c == 1 && i % 4 == 2   ? shop::OrderValidation::FAIL
                    : c == 2 && i % 4 == 3 ? shop::OrderValidation::ERROR
                                           : pass;
      for (int copies = i % 4 == 1 ? 3 : 1; copies > 0; --copies)
        producer.send("order-validations", id, validation(id, checks[c], result));
    }
  };
  for (int i = 0; i < 40; ++i) {
    auto id = run + "-" + std::to_string(i);
    sent[id] = order(id, i);
    if (i % 10 != 9)
      expected[id] = i % 4 >= 2 ? shop::Order::FAILED : shop::Order::VALIDATED;
    if (i % 5 == 0)
      send_verdicts(id, i);
    producer.send("orders", id, sent[id]);
    if (i % 5 != 0)
      send_verdicts(id, i);
  }
  producer.flush();

  auto decisions = [&] {
    return shop::test::events_of<shop::Order>(orders.records(), [&](const shop::Order& o) {
      return o.id().starts_with(run) && o.state() != shop::Order::CREATED;
    });
  };
  REQUIRE(orders.read_until([&](auto&) { return decisions().size() >= expected.size(); }, 60s));
  orders.read_for(2s); // a second decision of an order would come now
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().handler_errors == 0);

  std::map<std::string, int> decided;
  for (auto& o : decisions()) {
    INFO("order " << o.id());
    ++decided[o.id()];
    REQUIRE(expected.count(o.id()) == 1);
    CHECK(o.state() == expected[o.id()]);
    auto unchanged = sent[o.id()];
    unchanged.set_state(o.state());
    CHECK(o.SerializeAsString() == unchanged.SerializeAsString());
  }
  CHECK(decided.size() == expected.size());
  for (auto& [id, count] : decided) {
    INFO("order " << id);
    CHECK(count == 1);
  }
  for (auto& rec : orders.records())
    if (rec.key.starts_with(run))
      CHECK(eddy::codegen::decode<shop::Order>(rec).id() == rec.key);
}
