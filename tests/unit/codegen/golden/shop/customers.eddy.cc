// generated — do not edit; source: shop/customers.proto
//
// The Eddy services of shop/customers.proto (typed handlers, emit functions, dispatchers,
// topic metadata and test kits), written by protoc-gen-eddy.

#include "shop/customers.eddy.h"

namespace shop {

// -- service shop.Credit ------------------------------------------------------------------

void CreditContext::emit(const ::shop::CustomerOrder& event) {
  ::eddy::codegen::emit(out_, "customer-orders", event.customer(), event);
}

void CreditContext::emit(const ::shop::CreditCharged& event) {
  auto key = event.customer();
  if (key != input_.key)
    throw ::eddy::codegen::key_mismatch_error{
      "service shop.Credit emitted own event shop.CreditCharged with key '" + key
      + "' while handling record " + ::eddy::codegen::describe(input_) + " with key '"
      + input_.key + "'; own events must keep the key of the record they answer"};
  ::eddy::codegen::emit_event(out_, key, event);
  if (state_)
    *state_ = ::eddy::codegen::load_state<::shop::CreditState>(out_.state(), key);
}

void CreditContext::emit(const ::shop::CreditRefused& event) {
  ::eddy::codegen::emit(out_, "credit-notifications", event.order_id(), event);
}

const ::shop::CreditState& CreditContext::state() const {
  if (!state_)
    state_ = ::eddy::codegen::load_state<::shop::CreditState>(out_.state(), input_.key);
  return *state_;
}

void CreditDispatcher::dispatch(const ::eddy::record& input, ::eddy::context& out) {
  const auto& type = ::eddy::codegen::type_of(input);
  CreditContext ctx{input, out};
  if (type == "shop.OrderPlaced") {
    handlers_.on(::eddy::codegen::decode<::shop::OrderPlaced>(input), ctx);
    return;
  }
  if (type == "shop.CustomerOrder") {
    handlers_.on(::eddy::codegen::decode<::shop::CustomerOrder>(input), ctx);
    return;
  }
  ++skipped_;
  if (type.empty())
    out.skipped(input, "no eddy.type header; the policy (eddy.unhandled) of"
                       " service shop.Credit is SKIP");
  else
    out.skipped(input, "service shop.Credit does not consume type '" + type
                         + "'; its policy (eddy.unhandled) is SKIP");
}

void CreditDispatcher::apply(const ::eddy::record& event, ::eddy::state_view store) const {
  const auto& type = ::eddy::codegen::type_of(event);
  if (type == "shop.CreditCharged")
    return ::eddy::codegen::fold<::shop::CreditState, ::shop::CreditCharged>(
      handlers_, event, store);
}

std::shared_ptr<CreditDispatcher> bind(::eddy::service& svc,
    CreditHandlers& handlers) {
  auto dispatcher = std::make_shared<CreditDispatcher>(handlers);
  svc.topic("order-events", 4);
  svc.topic("customer-orders", 4);
  svc.topic("customers", 4, -1, {{"cleanup.policy", "compact"}});
  svc.journal("credit-events", 4,
              [dispatcher](const ::eddy::record& event, ::eddy::state_view store) {
                dispatcher->apply(event, store);
              });
  svc.table("customers", 4);
  svc.global_table("credit-policies");
  auto handle = [dispatcher](const ::eddy::record& input, ::eddy::context& out) {
    dispatcher->dispatch(input, out);
  };
  svc.consume("order-events", handle);
  svc.consume("customer-orders", handle);
  return dispatcher;
}

void CreditTestKit::send(const ::shop::OrderPlaced& event) {
  send(::eddy::codegen::encode("order-events", event.order_id(), event));
}

void CreditTestKit::send(const ::shop::CustomerOrder& event) {
  send(::eddy::codegen::encode("customer-orders", event.customer(), event));
}

void CreditTestKit::send(::eddy::record input) {
  input.offset = next_offset_++;
  try {
    dispatcher_.dispatch(input, out_);
  } catch (const std::exception& e) {
    dead_letters_.push_back({std::move(input), e.what()});
  }
}

std::size_t CreditTestKit::relay(std::size_t limit) {
  std::size_t fed = 0;
  while (relayed_ < out_.records().size()) {
    auto rec = out_.records()[relayed_++];
    if (!::eddy::codegen::consumes(CreditMetadata::topics, rec.topic))
      continue;
    if (fed == limit)
      throw std::logic_error{"CreditTestKit::relay() fed " + std::to_string(limit)
                             + " records and more keep coming"};
    ++fed;
    send(std::move(rec));
  }
  return fed;
}

void CreditTestKit::put(const ::shop::Customer& row) {
  out_.put_row("customers", row.id(),
               ::eddy::codegen::serialize(row, "table customers"));
}

void CreditTestKit::put(const ::shop::CreditPolicy& row) {
  out_.put_row("credit-policies", row.tier(),
               ::eddy::codegen::serialize(row, "table credit-policies"));
}

} // namespace shop
