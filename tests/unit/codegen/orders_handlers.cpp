#include "orders_handlers.hpp"

namespace shop {

namespace {

OrderRejected rejection(const std::string& order_id, const std::string& reason) {
  OrderRejected rejected;
  rejected.set_order_id(order_id);
  rejected.set_reason(reason);
  return rejected;
}

} // namespace

void orders_handlers::on(const PlaceOrder& cmd, OrdersContext& ctx) {
  if (ctx.state().status() != OrderState::UNKNOWN)
    return ctx.emit(rejection(cmd.order_id(), "order exists"));
  if (cmd.amount_cents() <= 0)
    return ctx.emit(rejection(cmd.order_id(), "amount must be positive"));
  OrderPlaced placed;
  placed.set_order_id(cmd.order_id());
  placed.set_customer(cmd.customer());
  placed.set_amount_cents(cmd.amount_cents());
  ctx.emit(placed);
}

void orders_handlers::on(const CancelOrder& cmd, OrdersContext& ctx) {
  if (ctx.state().status() != OrderState::PLACED)
    return ctx.emit(rejection(cmd.order_id(), "order is not placed"));
  OrderCancelled cancelled;
  cancelled.set_order_id(cmd.order_id());
  cancelled.set_reason(cmd.reason());
  ctx.emit(cancelled);
}

void orders_handlers::apply(OrderState& state, const OrderPlaced& event) {
  state.set_status(OrderState::PLACED);
  state.set_amount_cents(event.amount_cents());
}

void orders_handlers::apply(OrderState& state, const OrderCancelled&) {
  state.set_status(OrderState::CANCELLED);
}

} // namespace shop
