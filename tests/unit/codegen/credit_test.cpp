// Tables and re-keying through the generated test kit of shop.Credit: an event type the
// service both emits and consumes brings each order to its customer's key, where the
// handler reads and changes the customer's state and looks rows up in seeded tables.

#include <catch2/catch.hpp>

#include "credit_handlers.hpp"
#include "shop/customers.eddy.testkit.h"

namespace {

shop::OrderPlaced placed(const std::string& id, const std::string& customer,
                         std::int64_t amount) {
  shop::OrderPlaced event;
  event.set_order_id(id);
  event.set_customer(customer);
  event.set_amount_cents(amount);
  return event;
}

shop::CustomerOrder customer_order(const std::string& customer, const std::string& id,
                                   std::int64_t amount) {
  shop::CustomerOrder order;
  order.set_customer(customer);
  order.set_order_id(id);
  order.set_amount_cents(amount);
  return order;
}

shop::Customer customer(const std::string& id, const std::string& tier) {
  shop::Customer row;
  row.set_id(id);
  row.set_name("Customer " + id);
  row.set_tier(tier);
  return row;
}

shop::CreditPolicy policy(const std::string& tier, std::int64_t limit) {
  shop::CreditPolicy row;
  row.set_tier(tier);
  row.set_limit_cents(limit);
  return row;
}

/// Charges every order twice and notes what `ctx.state()` said in between, through a
/// reference taken before the first charge.
class double_charge : public shop::credit_handlers {
public:
  using shop::credit_handlers::on;

  void on(const shop::CustomerOrder& order, shop::CreditContext& ctx) override {
    const auto& state = ctx.state();
    before = state.orders();
    shop::CreditCharged charged;
    charged.set_customer(order.customer());
    charged.set_order_id(order.order_id());
    charged.set_amount_cents(order.amount_cents());
    ctx.emit(charged);
    between = state.orders();
    ctx.emit(charged);
    after = ctx.state().orders();
  }

  int before = -1;
  int between = -1;
  int after = -1;
};

/// Re-emits every re-keyed order, so it never stops coming back.
class echo : public shop::credit_handlers {
public:
  using shop::credit_handlers::on;

  void on(const shop::CustomerOrder& order, shop::CreditContext& ctx) override {
    ctx.emit(order);
  }
};

} // namespace

TEST_CASE("a service re-keys by emitting an event type it also consumes") {
  shop::credit_handlers handlers;
  shop::CreditTestKit kit{handlers};
  kit.put(policy("standard", 10000));
  kit.send(placed("o1", "ada", 1200));
  auto rekeyed = kit.emitted<shop::CustomerOrder>();
  REQUIRE(rekeyed.size() == 1);
  REQUIRE(kit.emitted_records().size() == 1);
  CHECK(kit.emitted_records()[0].topic == "customer-orders");
  CHECK(kit.emitted_records()[0].key == "ada");
  CHECK(kit.emitted<shop::CreditCharged>().empty());

  // The broker would bring the re-keyed record back to the service, at the customer's key.
  CHECK(kit.relay() == 1);
  auto charged = kit.emitted<shop::CreditCharged>();
  REQUIRE(charged.size() == 1);
  CHECK(charged[0].order_id() == "o1");
  CHECK(kit.emitted_records().back().topic == "credit-events");
  CHECK(kit.emitted_records().back().key == "ada");
  CHECK(kit.state("ada").used_cents() == 1200);
  CHECK(kit.state("ada").orders() == 1);
  CHECK(kit.state("o1").orders() == 0);
  // Nothing new on a consumed topic: the own event went to the journal only.
  CHECK(kit.relay() == 0);
  CHECK(kit.dead_letters().empty());
}

TEST_CASE("handlers look rows up in the seeded local and global tables") {
  shop::credit_handlers handlers;
  shop::CreditTestKit kit{handlers};
  kit.put(customer("ada", "gold"));
  kit.put(policy("gold", 1000));
  kit.put(policy("standard", 100));
  kit.send(customer_order("ada", "o1", 600));
  kit.send(customer_order("bob", "o2", 200));
  kit.send(customer_order("ada", "o3", 500));
  auto charged = kit.emitted<shop::CreditCharged>();
  REQUIRE(charged.size() == 1);
  CHECK(charged[0].order_id() == "o1");
  auto refused = kit.emitted<shop::CreditRefused>();
  REQUIRE(refused.size() == 2);
  CHECK((refused[0].order_id() == "o2" && refused[0].limit_cents() == 100));
  CHECK((refused[1].order_id() == "o3" && refused[1].limit_cents() == 1000));
  CHECK(kit.state("ada").used_cents() == 600);

  // A newer row replaces the older one, as in a table.
  kit.put(policy("gold", 2000));
  kit.send(customer_order("ada", "o4", 500));
  CHECK(kit.emitted<shop::CreditCharged>().size() == 2);
  CHECK(kit.state("ada").used_cents() == 1100);
}

TEST_CASE("ctx.state() reflects the own events emitted earlier in the same call") {
  double_charge handlers;
  shop::CreditTestKit kit{handlers};
  kit.send(customer_order("ada", "o1", 100));
  CHECK(handlers.before == 0);
  CHECK(handlers.between == 1);
  CHECK(handlers.after == 2);
  CHECK(kit.state("ada").orders() == 2);
  CHECK(kit.state("ada").used_cents() == 200);
}

TEST_CASE("relay() stops a service that keeps re-emitting what it consumes") {
  echo handlers;
  shop::CreditTestKit kit{handlers};
  kit.send(customer_order("ada", "o1", 100));
  CHECK_THROWS_WITH(kit.relay(10), Catch::Contains("fed 10 records and more keep coming"));
}

TEST_CASE("the metadata lists the tables and the re-keying topic") {
  using meta = shop::CreditMetadata;
  static_assert(meta::tables.size() == 2, "the metadata is usable at compile time");
  CHECK((meta::tables[0].type == "shop.Customer" && meta::tables[0].topic == "customers"));
  CHECK((meta::tables[0].kind == eddy::codegen::table_kind::local));
  CHECK((meta::tables[1].key_field == "tier"
         && meta::tables[1].kind == eddy::codegen::table_kind::global));
  static_assert(eddy::codegen::consumes(meta::topics, "customer-orders"));
  static_assert(!eddy::codegen::consumes(meta::topics, "customers"));
  CHECK((meta::topics[1].name == "customer-orders" && meta::topics[1].consumed
         && meta::topics[1].owned && meta::topics[1].partitions == 4));
  CHECK((meta::topics[4].name == "customers"
         && meta::topics[4].table == eddy::codegen::table_kind::local
         && meta::topics[4].compacted));
  CHECK((meta::events[1].type == "shop.CustomerOrder" && meta::events[1].consumed
         && meta::events[1].emitted));
}
