// generated — do not edit; source: billing/invoices.proto
//
// The Eddy services of billing/invoices.proto (typed handlers, emit functions, dispatchers,
// topic metadata and test kits), written by protoc-gen-eddy.

#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <eddy/codegen/runtime.hpp>
#include <eddy/context.hpp>
#include <eddy/record.hpp>
#include <eddy/service.hpp>
#include <eddy/state_view.hpp>

#include "billing/invoices.pb.h"
#include "shop/orders.pb.h"

namespace billing::v1 {

// -- service billing.v1.Invoicing ---------------------------------------------------------

class InvoicingContext;
class InvoicingDispatcher;

/// Invoices placed orders and books payments.
///
/// The handlers of service `billing.v1.Invoicing`: one `on()` per consumed event.
/// Calls for records of different partitions may run concurrently; the records of
/// one partition arrive one at a time, in offset order. An exception thrown by a
/// handler sends its record to the dead-letter topic.
class InvoicingHandlers {
public:
  virtual ~InvoicingHandlers() = default;

  /// An order was accepted.
  ///
  /// Handles a `shop.OrderPlaced` from topic `order-events`.
  virtual void on(const ::shop::OrderPlaced& event, InvoicingContext& ctx) = 0;

  /// A payment arrived for an invoice.
  ///
  /// Handles a `billing.v1.PaymentReceived` from topic `billing`.
  virtual void on(const ::billing::v1::PaymentReceived& event, InvoicingContext& ctx) = 0;
};

/// What the schema says about service `billing.v1.Invoicing`:
/// its topics (for creating and checking them) and its event types.
struct InvoicingMetadata {
  /// The full name of the service block.
  static constexpr std::string_view service_name = "billing.v1.Invoicing";
  /// The service's own event topic; empty if it has none.
  static constexpr std::string_view journal = "";
  /// What happens to records of types the service does not consume.
  static constexpr ::eddy::codegen::unhandled_policy unhandled
    = ::eddy::codegen::unhandled_policy::skip;
  /// The topics the service consumes, emits to or reads as tables: name, partitions (0:
  /// unset), consumed, owned, compacted, table.
  static constexpr std::array<::eddy::codegen::topic_info, 3> topics{{
    {"order-events", 4, true, false, false, ::eddy::codegen::table_kind::none},
    {"billing", 2, true, true, false, ::eddy::codegen::table_kind::none},
    {"ledger", 1, false, true, true, ::eddy::codegen::table_kind::none},
  }};
  /// The event types the service consumes or emits: type, topic, key field, consumed,
  /// emitted.
  static constexpr std::array<::eddy::codegen::event_info, 4> events{{
    {"shop.OrderPlaced", "order-events", "order_id", true, false},
    {"billing.v1.PaymentReceived", "billing", "invoice_no", true, false},
    {"billing.v1.InvoiceIssued", "billing", "invoice_no", false, true},
    {"billing.v1.Ledger.Entry", "ledger", "account", false, true},
  }};
  /// The tables the service reads: row type, topic, key field, kind.
  static constexpr std::array<::eddy::codegen::table_info, 0> tables{};
};

/// Handed to `InvoicingHandlers` methods: emits the events the service declares with
/// `(eddy.emits)`, keyed by their schema's key field.
/// Valid only during the call, on its thread.
class InvoicingContext {
public:
  /// An invoice was issued for an order.
  ///
  /// Emits a `billing.v1.InvoiceIssued` to topic `billing`, keyed by its `invoice_no`.
  void emit(const ::billing::v1::InvoiceIssued& event);

  /// The latest booking per account; events of this type are keyed by account, and the
  /// topic is compacted like a table's.
  ///
  /// Emits a `billing.v1.Ledger.Entry` to topic `ledger`, keyed by its `account`.
  void emit(const ::billing::v1::Ledger_Entry& event);

  /// Rejects, at compile time, events the service does not declare in `(eddy.emits)`.
  template <class Event>
  void emit(const Event&) {
    static_assert(::eddy::codegen::always_false<Event>,
                  "service billing.v1.Invoicing does not emit this type; declare it with"
                  " option (eddy.emits) in billing/invoices.proto");
  }

  /// The latest row of `key` in the table of type `Row`, or nullopt if it has none. A local
  /// table holds the partition of the record being handled, so look up keys of that
  /// partition. Types the service does not declare with `(eddy.table)` or
  /// `(eddy.global_table)` are rejected at compile time.
  template <class Row>
  std::optional<Row> lookup(const std::string&) const {
    static_assert(::eddy::codegen::always_false<Row>,
                  "service billing.v1.Invoicing reads no table of this type; declare it with"
                  " option (eddy.table) or (eddy.global_table) in billing/invoices.proto");
    return std::nullopt;
  }

  /// The record being handled.
  const ::eddy::record& input() const noexcept {
    return input_;
  }

private:
  friend class InvoicingDispatcher;

  InvoicingContext(const ::eddy::record& input, ::eddy::context& out)
    : input_(input), out_(out) {
  }

  const ::eddy::record& input_;
  ::eddy::context& out_;
};

/// Decodes the records of service `billing.v1.Invoicing` by their `eddy.type` header
/// and calls the matching `InvoicingHandlers::on()`. Throws
/// `::eddy::codegen::decode_error` for a payload that does not parse; records of
/// types the service does not consume are skipped and reported
/// to `::eddy::context::skipped` (the runtime counts and logs them).
/// `dispatch()` may be called from several threads, one per partition.
class InvoicingDispatcher {
public:
  /// Creates a dispatcher calling `handlers`, which must outlive it.
  explicit InvoicingDispatcher(InvoicingHandlers& handlers) : handlers_(handlers) {
  }

  /// Handles one record, emitting through `out`.
  void dispatch(const ::eddy::record& input, ::eddy::context& out);

  /// How many records were skipped because the service does not consume their type
  /// (or they have no `eddy.type` header).
  std::int64_t skipped() const noexcept {
    return skipped_.load();
  }

private:
  InvoicingHandlers& handlers_;
  std::atomic<std::int64_t> skipped_{0};
};

/// Declares service `billing.v1.Invoicing` to `svc`:
/// * its topics that have a partition count (created if missing),
/// * and the dispatcher as the handler of every consumed topic.
/// `handlers` must outlive the service's run. Returns the dispatcher, for its counters.
std::shared_ptr<InvoicingDispatcher> bind(::eddy::service& svc,
    InvoicingHandlers& handlers);

/// Drives `InvoicingHandlers` in-process, without a broker: `send()` events, then check
/// what was `emitted()`. Records whose handler throws land in
/// `dead_letters()`, as they would in the dead-letter topic. Deterministic; use it
/// from one thread.
class InvoicingTestKit {
public:
  /// Creates a test kit driving `handlers`, which must outlive it.
  explicit InvoicingTestKit(InvoicingHandlers& handlers) : dispatcher_(handlers) {
  }

  /// Feeds `event` as a record on topic `order-events`, keyed by its `order_id`.
  void send(const ::shop::OrderPlaced& event);

  /// Feeds `event` as a record on topic `billing`, keyed by its `invoice_no`.
  void send(const ::billing::v1::PaymentReceived& event);

  /// Feeds a raw record (e.g. of an unhandled type, or with a broken payload); its offset
  /// is set to the number of records sent before.
  void send(::eddy::record input);

  /// Feeds the records emitted to topics the service consumes (a re-keying topic, say)
  /// back into it, as the broker would, in order and until none are left; returns how
  /// many it fed. Throws std::logic_error once `limit` records were fed and more keep
  /// coming.
  std::size_t relay(std::size_t limit = 100000);

  /// The events of type `Event` emitted so far, in order.
  template <class Event>
  std::vector<Event> emitted() const {
    return out_.emitted<Event>();
  }

  /// Every record emitted so far, in order.
  const std::vector<::eddy::record>& emitted_records() const noexcept {
    return out_.records();
  }

  /// The records whose handling threw, with the errors.
  const std::vector<::eddy::codegen::dead_letter>& dead_letters() const noexcept {
    return dead_letters_;
  }

  /// How many records were skipped because the service does not consume their type
  /// (or they have no `eddy.type` header), as the runtime counts them in
  /// `::eddy::service_stats::records_skipped`.
  std::int64_t skipped() const noexcept {
    return static_cast<std::int64_t>(out_.skipped_records().size());
  }

  /// The records skipped so far, with the reasons given.
  const std::vector<::eddy::codegen::skipped_record>& skipped_records() const noexcept {
    return out_.skipped_records();
  }

  /// Forgets emitted records and dead letters; keeps state, tables and counters.
  void clear() {
    out_.clear();
    dead_letters_.clear();
    relayed_ = 0;
  }

private:
  InvoicingDispatcher dispatcher_;
  ::eddy::codegen::capture_context out_{"billing.v1.Invoicing"};
  std::vector<::eddy::codegen::dead_letter> dead_letters_;
  std::int64_t next_offset_ = 0;
  std::size_t relayed_ = 0;
};

} // namespace billing::v1
