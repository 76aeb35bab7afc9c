// Tests of the generated code, compiled from the test schemas with Eddy's warnings and
// driven through the generated test kits: no broker, no threads, well under a second.

#include <chrono>
#include <stdexcept>
#include <type_traits>

#include <catch2/catch.hpp>

#include "billing/invoices.eddy.testkit.h"
#include "orders_handlers.hpp"
#include "shop/orders.eddy.testkit.h"

namespace {

shop::PlaceOrder place(const std::string& id, std::int64_t amount) {
  shop::PlaceOrder cmd;
  cmd.set_order_id(id);
  cmd.set_customer("ada");
  cmd.set_amount_cents(amount);
  return cmd;
}

shop::CancelOrder cancel(const std::string& id) {
  shop::CancelOrder cmd;
  cmd.set_order_id(id);
  cmd.set_reason("changed my mind");
  return cmd;
}

/// Invoices every placed order and books payments; numbers invoices from 1.
class invoicing_handlers : public billing::v1::InvoicingHandlers {
public:
  void on(const shop::OrderPlaced& event, billing::v1::InvoicingContext& ctx) override {
    billing::v1::InvoiceIssued invoice;
    invoice.set_invoice_no(next_invoice_++);
    invoice.set_order_id(event.order_id());
    ctx.emit(invoice);
  }

  void on(const billing::v1::PaymentReceived& event,
          billing::v1::InvoicingContext& ctx) override {
    billing::v1::Ledger::Entry entry;
    entry.set_account("invoice-" + std::to_string(event.invoice_no()));
    entry.set_amount_cents(event.amount_cents());
    ctx.emit(entry);
  }

private:
  std::int64_t next_invoice_ = 1;
};

/// Folds placed orders as usual but rejects, in the journal applier, any above 1000 cents.
class capped_handlers : public shop::orders_handlers {
public:
  void apply(shop::OrderState& state, const shop::OrderPlaced& event) override {
    if (event.amount_cents() > 1000)
      throw std::invalid_argument{"amount above the cap"};
    orders_handlers::apply(state, event);
  }
};

/// Emits an own event with a key other than the record's, which the context refuses.
class rekeying_handlers : public shop::orders_handlers {
public:
  void on(const shop::PlaceOrder& cmd, shop::OrdersContext& ctx) override {
    shop::OrderPlaced placed;
    placed.set_order_id(cmd.order_id() + "-other");
    ctx.emit(placed);
  }
};

} // namespace

TEST_CASE("the test kit emits a placed order keyed by its id with its type header") {
  shop::orders_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  kit.send(place("o1", 1200));
  auto placed = kit.emitted<shop::OrderPlaced>();
  REQUIRE(placed.size() == 1);
  CHECK(placed[0].order_id() == "o1");
  CHECK(placed[0].amount_cents() == 1200);
  REQUIRE(kit.emitted_records().size() == 1);
  auto& rec = kit.emitted_records()[0];
  CHECK(rec.topic == "order-events");
  CHECK(rec.key == "o1");
  REQUIRE(rec.find_header("eddy.type") != nullptr);
  CHECK(*rec.find_header("eddy.type") == "shop.OrderPlaced");
  CHECK(kit.dead_letters().empty());
}

TEST_CASE("an own event is applied to the state of its key as it is emitted") {
  shop::orders_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  kit.send(place("o1", 1200));
  CHECK(kit.state("o1").status() == shop::OrderState::PLACED);
  CHECK(kit.state("o1").amount_cents() == 1200);
  CHECK(kit.state("o2").status() == shop::OrderState::UNKNOWN);
  kit.send(place("o1", 1300));
  auto rejected = kit.emitted<shop::OrderRejected>();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason() == "order exists");
  CHECK(kit.emitted_records().back().topic == "order-notifications");
  kit.send(cancel("o1"));
  CHECK(kit.state("o1").status() == shop::OrderState::CANCELLED);
  CHECK(kit.emitted<shop::OrderCancelled>().size() == 1);
  kit.clear();
  kit.send(cancel("o2"));
  CHECK(kit.emitted<shop::OrderRejected>().size() == 1);
  CHECK(kit.emitted<shop::OrderCancelled>().empty());
}

TEST_CASE("an own event its applier rejects is not emitted, as in the runtime") {
  capped_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  kit.send(place("o1", 5000));
  REQUIRE(kit.dead_letters().size() == 1);
  CHECK_THAT(kit.dead_letters()[0].error, Catch::Contains("amount above the cap"));
  CHECK(kit.emitted_records().empty());
  CHECK(kit.state("o1").status() == shop::OrderState::UNKNOWN);
  // An accepted event is applied and emitted.
  kit.send(place("o2", 500));
  REQUIRE(kit.emitted<shop::OrderPlaced>().size() == 1);
  CHECK(kit.emitted<shop::OrderPlaced>()[0].order_id() == "o2");
  CHECK(kit.state("o2").status() == shop::OrderState::PLACED);
}

TEST_CASE("the journal applier folds own events into the store and ignores other types") {
  shop::orders_handlers handlers;
  shop::OrdersDispatcher dispatcher{handlers};
  auto store = eddy::state_store::open_in_memory();
  shop::OrderPlaced placed;
  placed.set_order_id("o1");
  placed.set_amount_cents(700);
  dispatcher.apply(eddy::codegen::encode("order-events", "o1", placed), store);
  auto state = eddy::codegen::load_state<shop::OrderState>(store, "o1");
  CHECK(state.status() == shop::OrderState::PLACED);
  CHECK(state.amount_cents() == 700);
  auto row = store.get("o1");
  shop::OrderRejected foreign;
  foreign.set_order_id("o1");
  dispatcher.apply(eddy::codegen::encode("order-events", "o1", foreign), store);
  eddy::record untyped;
  untyped.key = "o1";
  dispatcher.apply(untyped, store);
  CHECK(store.get("o1") == row);
  shop::OrderCancelled cancelled;
  cancelled.set_order_id("o1");
  dispatcher.apply(eddy::codegen::encode("order-events", "o1", cancelled), store);
  CHECK(eddy::codegen::load_state<shop::OrderState>(store, "o1").status()
        == shop::OrderState::CANCELLED);
  CHECK(eddy::codegen::load_state<shop::OrderState>(store, "o2").status()
        == shop::OrderState::UNKNOWN);
}

TEST_CASE("a payload that does not parse goes to the dead letters with its type") {
  shop::orders_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  eddy::record rec;
  rec.topic = "order-commands";
  rec.key = "o1";
  rec.value = "\xff\xff\xff";
  rec.headers = {{"eddy.type", "shop.PlaceOrder"}};
  kit.send(rec);
  REQUIRE(kit.dead_letters().size() == 1);
  CHECK_THAT(kit.dead_letters()[0].error, Catch::Contains("cannot parse")
                                            && Catch::Contains("shop.PlaceOrder")
                                            && Catch::Contains("order-commands"));
  CHECK(kit.emitted_records().empty());
}

TEST_CASE("a dispatcher's decode failure is an eddy::decode_error and a bad state row is not") {
  static_assert(std::is_base_of_v<eddy::decode_error, eddy::codegen::decode_error>);
  static_assert(!std::is_base_of_v<eddy::decode_error, eddy::codegen::row_decode_error>);
  shop::orders_handlers handlers;
  shop::OrdersDispatcher dispatcher{handlers};
  eddy::codegen::capture_context ctx{"orders"};
  eddy::record rec;
  rec.topic = "order-commands";
  rec.key = "o1";
  rec.value = "\xff\xff\xff";
  rec.headers = {{"eddy.type", "shop.PlaceOrder"}};
  // The runtime routes it to the decode policy, not the handler policy.
  CHECK_THROWS_AS(dispatcher.dispatch(rec, ctx), eddy::decode_error);
  auto store = eddy::state_store::open_in_memory();
  store.put("o1", "\xff\xff\xff");
  CHECK_THROWS_AS(eddy::codegen::load_state<shop::OrderState>(store, "o1"),
                  eddy::codegen::row_decode_error);
}

TEST_CASE("the capture context keeps null keys and tombstones apart from empty ones") {
  eddy::codegen::capture_context ctx{"orders"};
  eddy::context& handler_view = ctx; // as a handler sees it, with its default arguments
  handler_view.emit("t", eddy::no_key, "");
  handler_view.emit_tombstone("t", "");
  REQUIRE(ctx.records().size() == 2);
  CHECK(ctx.records()[0].key_null);
  CHECK_FALSE(ctx.records()[0].value_null);
  CHECK_FALSE(ctx.records()[1].key_null);
  CHECK(ctx.records()[1].is_tombstone());
  ctx.put_row("table", "k", "");
  CHECK(ctx.lookup("table", "k") == std::optional<std::string>{""});
  ctx.erase_row("table", "k");
  CHECK(ctx.lookup("table", "k") == std::nullopt);
}

TEST_CASE("under the DEAD_LETTER policy an unhandled type goes to the dead letters") {
  shop::orders_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  kit.send(eddy::codegen::encode("order-commands", "o1", shop::OrderPlaced{}));
  eddy::record untyped;
  untyped.topic = "order-commands";
  kit.send(untyped);
  REQUIRE(kit.dead_letters().size() == 2);
  CHECK_THAT(kit.dead_letters()[0].error,
             Catch::Contains("does not consume type 'shop.OrderPlaced'"));
  CHECK_THAT(kit.dead_letters()[1].error, Catch::Contains("does not consume type ''"));
  CHECK(kit.skipped() == 0);
}

TEST_CASE("under the SKIP policy an unhandled type is skipped and counted") {
  invoicing_handlers handlers;
  billing::v1::InvoicingTestKit kit{handlers};
  billing::v1::InvoiceIssued own_output;
  own_output.set_invoice_no(7);
  kit.send(eddy::codegen::encode("billing", "7", own_output));
  CHECK(kit.skipped() == 1);
  CHECK(kit.dead_letters().empty());
  CHECK(kit.emitted_records().empty());
}

TEST_CASE("under the SKIP policy an unknown type and a missing type header are reported") {
  invoicing_handlers handlers;
  billing::v1::InvoicingTestKit kit{handlers};
  eddy::record unknown;
  unknown.topic = "orders";
  unknown.headers = {{"eddy.type", "shop.NoSuchEvent"}};
  kit.send(unknown);
  eddy::record untyped;
  untyped.topic = "orders";
  kit.send(untyped);
  REQUIRE(kit.skipped() == 2);
  auto& skipped = kit.skipped_records();
  CHECK(skipped[0].input.offset == 0);
  CHECK_THAT(skipped[0].reason, Catch::Contains("does not consume type 'shop.NoSuchEvent'")
                                  && Catch::Contains("billing.v1.Invoicing"));
  CHECK(skipped[1].input.offset == 1);
  CHECK_THAT(skipped[1].reason, Catch::Contains("no eddy.type header"));
  CHECK(kit.dead_letters().empty());
  CHECK(kit.emitted_records().empty());
}

TEST_CASE("integer keys become decimal text and imported events are consumed") {
  invoicing_handlers handlers;
  billing::v1::InvoicingTestKit kit{handlers};
  shop::OrderPlaced placed;
  placed.set_order_id("o9");
  kit.send(placed);
  billing::v1::PaymentReceived paid;
  paid.set_invoice_no(1);
  paid.set_amount_cents(500);
  kit.send(paid);
  REQUIRE(kit.emitted_records().size() == 2);
  CHECK(kit.emitted_records()[0].topic == "billing");
  CHECK(kit.emitted_records()[0].key == "1");
  auto entries = kit.emitted<billing::v1::Ledger::Entry>();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].account() == "invoice-1");
  CHECK(kit.emitted_records()[1].key == "invoice-1");
  CHECK(*kit.emitted_records()[1].find_header("eddy.type") == "billing.v1.Ledger.Entry");
}

TEST_CASE("an own event keyed differently from its record goes to the dead letters") {
  rekeying_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  kit.send(place("o1", 100));
  REQUIRE(kit.dead_letters().size() == 1);
  CHECK_THAT(kit.dead_letters()[0].error, Catch::Contains("key 'o1-other'"));
  CHECK(kit.state("o1-other").status() == shop::OrderState::UNKNOWN);
}

TEST_CASE("the topic metadata reflects the schema") {
  using meta = shop::OrdersMetadata;
  static_assert(meta::topics.size() == 3, "the metadata is usable at compile time");
  CHECK((meta::topics[0].name == "order-commands" && meta::topics[0].partitions == 4));
  CHECK((meta::topics[1].name == "order-events" && meta::topics[1].owned));
  CHECK((meta::topics[2].partitions == 0));
  CHECK((!meta::topics[0].compacted && !meta::topics[1].compacted));
  using billing_meta = billing::v1::InvoicingMetadata;
  CHECK((billing_meta::topics[2].name == "ledger" && billing_meta::topics[2].compacted));
  CHECK((meta::journal == "order-events"));
  CHECK((meta::unhandled == eddy::codegen::unhandled_policy::dead_letter));
  CHECK((meta::events[0].type == "shop.PlaceOrder"));
  CHECK((meta::events[0].key_field == "order_id" && meta::events[0].consumed));
  CHECK((billing_meta::unhandled == eddy::codegen::unhandled_policy::skip));
}

TEST_CASE("the test kit handles a thousand orders in well under a second") {
  auto start = std::chrono::steady_clock::now();
  shop::orders_handlers handlers;
  shop::OrdersTestKit kit{handlers};
  for (int i = 0; i < 1000; ++i)
    kit.send(place("o" + std::to_string(i), 100 + i));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(kit.emitted<shop::OrderPlaced>().size() == 1000);
  CHECK(elapsed < std::chrono::milliseconds{500});
}
