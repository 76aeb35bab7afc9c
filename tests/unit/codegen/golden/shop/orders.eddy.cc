// generated — do not edit; source: shop/orders.proto
//
// The Eddy services of shop/orders.proto (typed handlers, emit functions, dispatchers,
// topic metadata and test kits), written by protoc-gen-eddy.

#include "shop/orders.eddy.h"

namespace shop {

// -- service shop.Orders ------------------------------------------------------------------

void OrdersContext::emit(const ::shop::OrderPlaced& event) {
  auto key = event.order_id();
  if (key != input_.key)
    throw ::eddy::codegen::key_mismatch_error{
      "service shop.Orders emitted own event shop.OrderPlaced with key '" + key
      + "' while handling record " + ::eddy::codegen::describe(input_) + " with key '"
      + input_.key + "'; own events must keep the key of the record they answer"};
  ::eddy::codegen::emit_event(out_, key, event);
  if (state_)
    *state_ = ::eddy::codegen::load_state<::shop::OrderState>(out_.state(), key);
}

void OrdersContext::emit(const ::shop::OrderCancelled& event) {
  auto key = event.order_id();
  if (key != input_.key)
    throw ::eddy::codegen::key_mismatch_error{
      "service shop.Orders emitted own event shop.OrderCancelled with key '" + key
      + "' while handling record " + ::eddy::codegen::describe(input_) + " with key '"
      + input_.key + "'; own events must keep the key of the record they answer"};
  ::eddy::codegen::emit_event(out_, key, event);
  if (state_)
    *state_ = ::eddy::codegen::load_state<::shop::OrderState>(out_.state(), key);
}

void OrdersContext::emit(const ::shop::OrderRejected& event) {
  ::eddy::codegen::emit(out_, "order-notifications", event.order_id(), event);
}

const ::shop::OrderState& OrdersContext::state() const {
  if (!state_)
    state_ = ::eddy::codegen::load_state<::shop::OrderState>(out_.state(), input_.key);
  return *state_;
}

void OrdersDispatcher::dispatch(const ::eddy::record& input, ::eddy::context& out) {
  const auto& type = ::eddy::codegen::type_of(input);
  OrdersContext ctx{input, out};
  if (type == "shop.PlaceOrder") {
    handlers_.on(::eddy::codegen::decode<::shop::PlaceOrder>(input), ctx);
    return;
  }
  if (type == "shop.CancelOrder") {
    handlers_.on(::eddy::codegen::decode<::shop::CancelOrder>(input), ctx);
    return;
  }
  throw ::eddy::codegen::unhandled_type_error{
    "service shop.Orders does not consume type '" + type + "' (record "
    + ::eddy::codegen::describe(input) + "); its policy (eddy.unhandled) is DEAD_LETTER"};
}

void OrdersDispatcher::apply(const ::eddy::record& event, ::eddy::state_view store) const {
  const auto& type = ::eddy::codegen::type_of(event);
  if (type == "shop.OrderPlaced")
    return ::eddy::codegen::fold<::shop::OrderState, ::shop::OrderPlaced>(
      handlers_, event, store);
  if (type == "shop.OrderCancelled")
    return ::eddy::codegen::fold<::shop::OrderState, ::shop::OrderCancelled>(
      handlers_, event, store);
}

std::shared_ptr<OrdersDispatcher> bind(::eddy::service& svc,
    OrdersHandlers& handlers) {
  auto dispatcher = std::make_shared<OrdersDispatcher>(handlers);
  svc.topic("order-commands", 4);
  svc.journal("order-events", 4,
              [dispatcher](const ::eddy::record& event, ::eddy::state_view store) {
                dispatcher->apply(event, store);
              });
  auto handle = [dispatcher](const ::eddy::record& input, ::eddy::context& out) {
    dispatcher->dispatch(input, out);
  };
  svc.consume("order-commands", handle);
  return dispatcher;
}

void OrdersTestKit::send(const ::shop::PlaceOrder& event) {
  send(::eddy::codegen::encode("order-commands", event.order_id(), event));
}

void OrdersTestKit::send(const ::shop::CancelOrder& event) {
  send(::eddy::codegen::encode("order-commands", event.order_id(), event));
}

void OrdersTestKit::send(::eddy::record input) {
  input.offset = next_offset_++;
  try {
    dispatcher_.dispatch(input, out_);
  } catch (const std::exception& e) {
    dead_letters_.push_back({std::move(input), e.what()});
  }
}

std::size_t OrdersTestKit::relay(std::size_t limit) {
  std::size_t fed = 0;
  while (relayed_ < out_.records().size()) {
    auto rec = out_.records()[relayed_++];
    if (!::eddy::codegen::consumes(OrdersMetadata::topics, rec.topic))
      continue;
    if (fed == limit)
      throw std::logic_error{"OrdersTestKit::relay() fed " + std::to_string(limit)
                             + " records and more keep coming"};
    ++fed;
    send(std::move(rec));
  }
  return fed;
}

} // namespace shop
