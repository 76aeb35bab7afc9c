#pragma once

// The handlers of the validations-aggregator service, shared by its main() and its tests.

#include <algorithm>

#include "shop/validations_aggregator.eddy.h"

namespace shop {

/// Decides each new order once: VALIDATED on `orders` when its INVENTORY, FRAUD and
/// ORDER_DETAILS checks all passed, FAILED as soon as one failed or could not decide.
/// Validations may come before their order and more than once; orders past state CREATED
/// (among them its own decisions, read back from `orders`) are ignored.
class validations_aggregator : public ValidationsAggregatorHandlers {
public:
  void on(const Order& order, ValidationsAggregatorContext& ctx) override {
    if (order.state() != Order::CREATED || ctx.state().has_order())
      return;
    OrderReceived received;
    received.set_order_id(order.id());
    *received.mutable_order() = order;
    ctx.emit(received);
    decide(ctx);
  }

  void on(const OrderValidation& validation, ValidationsAggregatorContext& ctx) override {
    const auto& progress = ctx.state();
    bool known = validation.result() == OrderValidation::PASS
                   ? has_passed(progress, validation.check())
                   : progress.failed();
    if (progress.decision() != Order::STATE_UNSPECIFIED || known)
      return;
    CheckRecorded recorded;
    recorded.set_order_id(validation.order_id());
    recorded.set_check(validation.check());
    recorded.set_result(validation.result());
    ctx.emit(recorded);
    decide(ctx);
  }

  void apply(ValidationProgress& progress, const OrderReceived& received) override {
    *progress.mutable_order() = received.order();
  }

  void apply(ValidationProgress& progress, const CheckRecorded& recorded) override {
    if (recorded.result() != OrderValidation::PASS)
      progress.set_failed(true);
    else if (!has_passed(progress, recorded.check()))
      progress.add_passed(recorded.check());
  }

  void apply(ValidationProgress& progress, const OrderDecided& decided) override {
    progress.set_decision(decided.state());
  }

private:
  static bool has_passed(const ValidationProgress& progress, OrderValidation::Check check) {
    return std::find(progress.passed().begin(), progress.passed().end(), check)
           != progress.passed().end();
  }

  /// Decides the order of the record's key if it is known, undecided and its checks say so.
  static void decide(ValidationsAggregatorContext& ctx) {
    const auto& progress = ctx.state();
    if (!progress.has_order() || progress.decision() != Order::STATE_UNSPECIFIED)
      return;
    bool validated = has_passed(progress, OrderValidation::INVENTORY)
                     && has_passed(progress, OrderValidation::FRAUD)
                     && has_passed(progress, OrderValidation::ORDER_DETAILS);
    if (!progress.failed() && !validated)
      return;
    Order order = progress.order();
    order.set_state(progress.failed() ? Order::FAILED : Order::VALIDATED);
    OrderDecided decided;
    decided.set_order_id(order.id());
    decided.set_state(order.state());
    ctx.emit(order);
    ctx.emit(decided);
  }
};

} // namespace shop
