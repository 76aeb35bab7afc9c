// Must not compile: service shop.Orders declares no table of type shop.PlaceOrder. Built
// only by the test codegen_undeclared_lookup_does_not_compile, which expects the generated
// static_assert's message.

#include "shop/orders.eddy.h"

void lookup_undeclared(shop::OrdersContext& ctx) {
  (void)ctx.lookup<shop::PlaceOrder>("o1");
}
