#pragma once

// The handlers of the test schema's shop.Credit service: re-keying by emitting an event the
// service also consumes, event-sourced state per customer, and table lookups.

#include "shop/customers.eddy.h"

namespace shop {

/// Re-keys every placed order by its customer, then charges it to the customer's credit if
/// it stays within the limit of the customer's tier (tier "standard" for customers without
/// a profile; no credit for a tier without a policy), and refuses it otherwise.
class credit_handlers : public CreditHandlers {
public:
  void on(const OrderPlaced& placed, CreditContext& ctx) override;
  void on(const CustomerOrder& order, CreditContext& ctx) override;
  void apply(CreditState& state, const CreditCharged& charged) override;
};

} // namespace shop
