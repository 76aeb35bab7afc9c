#pragma once

// The handlers of the email service, shared by its main() and its tests.

#include <optional>
#include <string>

#include <spdlog/fmt/fmt.h>

#include <eddy/log.hpp>

#include "shop/email.eddy.h"

namespace shop {

/// Records the mail confirming an order, on `email-notifications` and in the log, once the
/// order is VALIDATED and its payment has arrived, in either order; once per order. Orders
/// in other states are ignored, and so are further payments of an order. A customer missing
/// from `customers` is not waited for (a table change wakes no handler, and the global table
/// is complete before the first record is handled, so the shop does not know the customer):
/// the mail is recorded without recipient and name, and a warning logged.
class email : public EmailHandlers {
public:
  void on(const Order& order, EmailContext& ctx) override {
    const auto& pending = ctx.state();
    if (order.state() != Order::VALIDATED || pending.recorded() || pending.has_order())
      return;
    ValidatedOrderNoted noted;
    noted.set_order_id(order.id());
    *noted.mutable_order() = order;
    ctx.emit(noted);
    confirm_if_complete(ctx);
  }

  void on(const Payment& payment, EmailContext& ctx) override {
    const auto& pending = ctx.state();
    if (pending.recorded() || pending.has_payment())
      return;
    PaymentNoted noted;
    noted.set_order_id(payment.order_id());
    *noted.mutable_payment() = payment;
    ctx.emit(noted);
    confirm_if_complete(ctx);
  }

  void apply(PendingConfirmation& pending, const ValidatedOrderNoted& noted) override {
    *pending.mutable_order() = noted.order();
  }

  void apply(PendingConfirmation& pending, const PaymentNoted& noted) override {
    *pending.mutable_payment() = noted.payment();
  }

  void apply(PendingConfirmation& pending, const ConfirmationRecorded&) override {
    pending.Clear();
    pending.set_recorded(true);
  }

private:
  /// Records the mail of the record's order if the order and its payment are both there.
  static void confirm_if_complete(EmailContext& ctx) {
    const auto& pending = ctx.state();
    if (!pending.has_order() || !pending.has_payment())
      return;
    auto mail = confirmation(pending.order(), pending.payment(),
                             ctx.lookup<Customer>(pending.order().customer_id()));
    if (mail.to().empty())
      eddy::logger().warn(
        "email order={} customer={} has no address: recorded without recipient",
        mail.order_id(), mail.customer_id());
    else
      eddy::logger().info("email order={} to={} subject=\"{}\"", mail.order_id(), mail.to(),
                          mail.subject());
    ctx.emit(mail);
    ConfirmationRecorded recorded;
    recorded.set_order_id(mail.order_id());
    ctx.emit(recorded);
  }

  /// The mail confirming `order`, paid by `payment`, to `customer` if known.
  static EmailNotification confirmation(const Order& order, const Payment& payment,
                                        const std::optional<Customer>& customer) {
    EmailNotification mail;
    mail.set_order_id(order.id());
    mail.set_customer_id(order.customer_id());
    mail.set_subject(fmt::format("Your order {} is confirmed", order.id()));
    auto greeting = customer
                      ? fmt::format("Dear {} {}", customer->first_name(), customer->last_name())
                      : std::string{"Dear customer"};
    mail.set_body(fmt::format("{},\n\nyour order {} of {} x {} is confirmed, and we received "
                              "your payment of {:.2f} {}.\n\nThank you for shopping with us.\n",
                              greeting, order.id(), order.quantity(), order.product(),
                              payment.amount(), payment.currency()));
    if (customer)
      mail.set_to(customer->email());
    return mail;
  }
};

} // namespace shop
