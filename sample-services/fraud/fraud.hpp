#pragma once

// The handlers of the fraud service, shared by its main() and its tests.

#include <algorithm>
#include <cstdint>
#include <string>

#include "shop/fraud.eddy.h"

namespace shop {

/// Fails the order that brings its customer's spending within an hour of event time to
/// 2000 or more, and every further order of that customer until older orders leave the
/// hour; passes the others. Orders past state CREATED are not checked.
class fraud : public FraudHandlers {
public:
  /// The spending per customer and hour that fails an order.
  static constexpr double limit = 2000;
  /// The length of the window, in ms of event time.
  static constexpr std::int64_t window_ms = 60 * 60 * 1000;

  void on(const Order& order, FraudContext& ctx) override {
    if (order.state() != Order::CREATED)
      return;
    FraudCheckRequested request;
    request.set_customer_id(order.customer_id());
    request.set_order_id(order.id());
    request.set_amount(std::max(0.0, order.quantity() * order.price()));
    request.set_order_time_ms(ctx.input().timestamp_ms);
    ctx.emit(request);
  }

  void on(const FraudCheckRequested& request, FraudContext& ctx) override {
    auto result = counted_result(ctx.state(), request.order_id());
    if (result == OrderValidation::RESULT_UNSPECIFIED) {
      result = spent_within_hour(ctx.state(), request) >= limit ? OrderValidation::FAIL
                                                                : OrderValidation::PASS;
      SpendRecorded spent;
      spent.set_customer_id(request.customer_id());
      spent.set_order_id(request.order_id());
      spent.set_amount(request.amount());
      spent.set_order_time_ms(request.order_time_ms());
      spent.set_result(result);
      ctx.emit(spent);
    }
    OrderValidation validation;
    validation.set_order_id(request.order_id());
    validation.set_check(OrderValidation::FRAUD);
    validation.set_result(result);
    ctx.emit(validation);
  }

  void apply(CustomerSpend& spend, const SpendRecorded& spent) override {
    auto latest = std::max(spend.latest_order_time_ms(), spent.order_time_ms());
    spend.set_latest_order_time_ms(latest);
    *spend.add_orders() = spent;
    auto& orders = *spend.mutable_orders();
    orders.erase(
      std::remove_if(orders.begin(), orders.end(),
                     [&](auto& e) { return e.order_time_ms() <= latest - window_ms; }),
      orders.end());
  }

private:
  /// The verdict an order already got (a repeated request), or RESULT_UNSPECIFIED.
  static OrderValidation::Result counted_result(const CustomerSpend& spend,
                                                const std::string& order_id) {
    for (auto& entry : spend.orders())
      if (entry.order_id() == order_id)
        return entry.result();
    return OrderValidation::RESULT_UNSPECIFIED;
  }

  /// The customer's spending in the hour up to the newer of the order's time and the
  /// latest counted, this order included.
  static double spent_within_hour(const CustomerSpend& spend,
                                  const FraudCheckRequested& request) {
    auto since = std::max(spend.latest_order_time_ms(), request.order_time_ms()) - window_ms;
    double total = request.amount();
    for (auto& entry : spend.orders())
      if (entry.order_time_ms() > since)
        total += entry.amount();
    return total;
  }
};

} // namespace shop
