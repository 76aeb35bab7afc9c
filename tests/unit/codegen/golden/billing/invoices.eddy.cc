// generated — do not edit; source: billing/invoices.proto
//
// The Eddy services of billing/invoices.proto (typed handlers, emit functions, dispatchers,
// topic metadata and test kits), written by protoc-gen-eddy.

#include "billing/invoices.eddy.h"

namespace billing::v1 {

// -- service billing.v1.Invoicing ---------------------------------------------------------

void InvoicingContext::emit(const ::billing::v1::InvoiceIssued& event) {
  ::eddy::codegen::emit(out_, "billing", std::to_string(event.invoice_no()), event);
}

void InvoicingContext::emit(const ::billing::v1::Ledger_Entry& event) {
  ::eddy::codegen::emit(out_, "ledger", event.account(), event);
}

void InvoicingDispatcher::dispatch(const ::eddy::record& input, ::eddy::context& out) {
  const auto& type = ::eddy::codegen::type_of(input);
  InvoicingContext ctx{input, out};
  if (type == "shop.OrderPlaced") {
    handlers_.on(::eddy::codegen::decode<::shop::OrderPlaced>(input), ctx);
    return;
  }
  if (type == "billing.v1.PaymentReceived") {
    handlers_.on(::eddy::codegen::decode<::billing::v1::PaymentReceived>(input), ctx);
    return;
  }
  ++skipped_;
  if (type.empty())
    out.skipped(input, "no eddy.type header; the policy (eddy.unhandled) of"
                       " service billing.v1.Invoicing is SKIP");
  else
    out.skipped(input, "service billing.v1.Invoicing does not consume type '" + type
                         + "'; its policy (eddy.unhandled) is SKIP");
}

std::shared_ptr<InvoicingDispatcher> bind(::eddy::service& svc,
    InvoicingHandlers& handlers) {
  auto dispatcher = std::make_shared<InvoicingDispatcher>(handlers);
  svc.topic("order-events", 4);
  svc.topic("billing", 2);
  svc.topic("ledger", 1, -1, {{"cleanup.policy", "compact"}});
  auto handle = [dispatcher](const ::eddy::record& input, ::eddy::context& out) {
    dispatcher->dispatch(input, out);
  };
  svc.consume("order-events", handle);
  svc.consume("billing", handle);
  return dispatcher;
}

void InvoicingTestKit::send(const ::shop::OrderPlaced& event) {
  send(::eddy::codegen::encode("order-events", event.order_id(), event));
}

void InvoicingTestKit::send(const ::billing::v1::PaymentReceived& event) {
  send(::eddy::codegen::encode("billing", std::to_string(event.invoice_no()), event));
}

void InvoicingTestKit::send(::eddy::record input) {
  input.offset = next_offset_++;
  try {
    dispatcher_.dispatch(input, out_);
  } catch (const std::exception& e) {
    dead_letters_.push_back({std::move(input), e.what()});
  }
}

std::size_t InvoicingTestKit::relay(std::size_t limit) {
  std::size_t fed = 0;
  while (relayed_ < out_.records().size()) {
    auto rec = out_.records()[relayed_++];
    if (!::eddy::codegen::consumes(InvoicingMetadata::topics, rec.topic))
      continue;
    if (fed == limit)
      throw std::logic_error{"InvoicingTestKit::relay() fed " + std::to_string(limit)
                             + " records and more keep coming"};
    ++fed;
    send(std::move(rec));
  }
  return fed;
}

} // namespace billing::v1
