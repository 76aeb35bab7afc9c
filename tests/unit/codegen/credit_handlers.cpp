#include "credit_handlers.hpp"

namespace shop {

void credit_handlers::on(const OrderPlaced& placed, CreditContext& ctx) {
  CustomerOrder order;
  order.set_customer(placed.customer());
  order.set_order_id(placed.order_id());
  order.set_amount_cents(placed.amount_cents());
  ctx.emit(order);
}

void credit_handlers::on(const CustomerOrder& order, CreditContext& ctx) {
  auto customer = ctx.lookup<Customer>(order.customer());
  auto policy = ctx.lookup<CreditPolicy>(customer ? customer->tier() : "standard");
  auto limit = policy ? policy->limit_cents() : 0;
  if (ctx.state().used_cents() + order.amount_cents() > limit) {
    CreditRefused refused;
    refused.set_order_id(order.order_id());
    refused.set_customer(order.customer());
    refused.set_limit_cents(limit);
    return ctx.emit(refused);
  }
  CreditCharged charged;
  charged.set_customer(order.customer());
  charged.set_order_id(order.order_id());
  charged.set_amount_cents(order.amount_cents());
  ctx.emit(charged);
}

void credit_handlers::apply(CreditState& state, const CreditCharged& charged) {
  state.set_used_cents(state.used_cents() + charged.amount_cents());
  state.set_orders(state.orders() + 1);
}

} // namespace shop
