#pragma once

// The handlers of the inventory service, shared by its main() and its tests.

#include <string>

#include "shop/inventory.eddy.h"

namespace shop {

/// Passes a new order when the stock of its product (the `warehouse-inventory` table, 0 for
/// a product without a row) less the items already reserved covers its quantity, and
/// reserves them; fails it otherwise, and fails at once an order without product or with a
/// quantity below 1. An order checked before gets its verdict again and reserves nothing
/// more. Orders past state CREATED are not checked.
class inventory : public InventoryHandlers {
public:
  void on(const Order& order, InventoryContext& ctx) override {
    if (order.state() != Order::CREATED)
      return;
    if (order.product().empty() || order.quantity() < 1)
      return ctx.emit(validation(order.id(), OrderValidation::FAIL));
    InventoryCheckRequested request;
    request.set_product(order.product());
    request.set_order_id(order.id());
    request.set_quantity(order.quantity());
    ctx.emit(request);
  }

  void on(const InventoryCheckRequested& request, InventoryContext& ctx) override {
    const auto& reservations = ctx.state();
    auto verdict = reservations.verdicts().find(request.order_id());
    if (verdict != reservations.verdicts().end())
      return ctx.emit(validation(request.order_id(), verdict->second));
    auto stock = ctx.lookup<StockLevel>(request.product());
    bool pass = (stock ? stock->quantity() : 0) - reservations.reserved() >= request.quantity();
    if (pass)
      ctx.emit(decision<StockReserved>(request));
    else
      ctx.emit(decision<ReservationRefused>(request));
    ctx.emit(
      validation(request.order_id(), pass ? OrderValidation::PASS : OrderValidation::FAIL));
  }

  void apply(ProductReservations& reservations, const StockReserved& reserved) override {
    if (reservations.mutable_verdicts()
          ->insert({reserved.order_id(), OrderValidation::PASS})
          .second)
      reservations.set_reserved(reservations.reserved() + reserved.quantity());
  }

  void apply(ProductReservations& reservations, const ReservationRefused& refused) override {
    reservations.mutable_verdicts()->insert({refused.order_id(), OrderValidation::FAIL});
  }

private:
  /// The StockReserved or ReservationRefused that answers `request`.
  template <class Decision>
  static Decision decision(const InventoryCheckRequested& request) {
    Decision d;
    d.set_product(request.product());
    d.set_order_id(request.order_id());
    d.set_quantity(request.quantity());
    return d;
  }

  /// The INVENTORY verdict `result` on order `order_id`.
  static OrderValidation validation(const std::string& order_id,
                                    OrderValidation::Result result) {
    OrderValidation v;
    v.set_order_id(order_id);
    v.set_check(OrderValidation::INVENTORY);
    v.set_result(result);
    return v;
  }
};

} // namespace shop
