#pragma once

// The handler of the order-details service, shared by its main() and its tests.

#include "shop/order_details.eddy.h"

namespace shop {

/// Passes a new order whose quantity is positive, price not negative and product named;
/// fails any other new order; ignores orders past state CREATED.
class order_details : public OrderDetailsHandlers {
public:
  void on(const Order& order, OrderDetailsContext& ctx) override {
    if (order.state() != Order::CREATED)
      return;
    bool valid = order.quantity() > 0 && order.price() >= 0 && !order.product().empty();
    OrderValidation validation;
    validation.set_order_id(order.id());
    validation.set_check(OrderValidation::ORDER_DETAILS);
    validation.set_result(valid ? OrderValidation::PASS : OrderValidation::FAIL);
    ctx.emit(validation);
  }
};

} // namespace shop
