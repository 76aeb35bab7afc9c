// Must not compile: service shop.Orders does not declare shop.PlaceOrder in (eddy.emits).
// Built only by the test codegen_undeclared_emit_does_not_compile, which expects the
// generated static_assert's message.

#include "shop/orders.eddy.h"

void emit_undeclared(shop::OrdersContext& ctx) {
  ctx.emit(shop::PlaceOrder{});
}
