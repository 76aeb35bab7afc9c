#pragma once

// The handlers of the test schema's shop.Orders service: what a service author writes.

#include "shop/orders.eddy.h"

namespace shop {

/// Places an order once, cancels only placed orders, rejects everything else.
class orders_handlers : public OrdersHandlers {
public:
  void on(const PlaceOrder& cmd, OrdersContext& ctx) override;
  void on(const CancelOrder& cmd, OrdersContext& ctx) override;
  void apply(OrderState& state, const OrderPlaced& event) override;
  void apply(OrderState& state, const OrderCancelled& event) override;
};

} // namespace shop
