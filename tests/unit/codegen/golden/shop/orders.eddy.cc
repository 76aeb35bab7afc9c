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
  ::eddy::codegen::emit(out_, "order-events", key, event);
  dispatcher_.handlers_.apply(dispatcher_.state_of(key), event);
}

void OrdersContext::emit(const ::shop::OrderCancelled& event) {
  auto key = event.order_id();
  if (key != input_.key)
    throw ::eddy::codegen::key_mismatch_error{
      "service shop.Orders emitted own event shop.OrderCancelled with key '" + key
      + "' while handling record " + ::eddy::codegen::describe(input_) + " with key '"
      + input_.key + "'; own events must keep the key of the record they answer"};
  ::eddy::codegen::emit(out_, "order-events", key, event);
  dispatcher_.handlers_.apply(dispatcher_.state_of(key), event);
}

void OrdersContext::emit(const ::shop::OrderRejected& event) {
  ::eddy::codegen::emit(out_, "order-notifications", event.order_id(), event);
}

const ::shop::OrderState& OrdersContext::state() const {
  return dispatcher_.state_of(input_.key);
}

void OrdersDispatcher::dispatch(const ::eddy::record& input, ::eddy::context& out) {
  const auto& type = ::eddy::codegen::type_of(input);
  OrdersContext ctx{input, out, *this};
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

::shop::OrderState OrdersDispatcher::state(const std::string& key) const {
  std::lock_guard<std::mutex> guard{states_mtx_};
  auto it = states_.find(key);
  return it != states_.end() ? it->second : ::shop::OrderState{};
}

::shop::OrderState& OrdersDispatcher::state_of(const std::string& key) {
  std::lock_guard<std::mutex> guard{states_mtx_};
  return states_[key];
}

std::shared_ptr<OrdersDispatcher> bind(::eddy::service& svc,
    OrdersHandlers& handlers) {
  auto dispatcher = std::make_shared<OrdersDispatcher>(handlers);
  svc.topic("order-commands", 4);
  svc.topic("order-events", 4);
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

} // namespace shop
