// generated — do not edit; source: shop/customers.proto
//
// The Eddy services of shop/customers.proto (typed handlers, emit functions, dispatchers,
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

#include "shop/customers.pb.h"
#include "shop/orders.pb.h"

namespace shop {

// -- service shop.Credit ------------------------------------------------------------------

class CreditContext;
class CreditDispatcher;

/// Charges placed orders to their customers' credit: re-keys each order by its customer,
/// then checks the credit used so far against the limit of the customer's tier.
///
/// The handlers of service `shop.Credit`: one `on()` per consumed event,
/// and one `apply()` per own event.
/// Calls for records of different partitions may run concurrently; the records of
/// one partition arrive one at a time, in offset order. An exception thrown by a
/// handler sends its record to the dead-letter topic.
class CreditHandlers {
public:
  virtual ~CreditHandlers() = default;

  /// An order was accepted.
  ///
  /// Handles a `shop.OrderPlaced` from topic `order-events`.
  virtual void on(const ::shop::OrderPlaced& event, CreditContext& ctx) = 0;

  /// A placed order re-keyed by its customer: the internal topic that brings every order of a
  /// customer to the partition that owns the customer's state and table row.
  ///
  /// Handles a `shop.CustomerOrder` from topic `customer-orders`.
  virtual void on(const ::shop::CustomerOrder& event, CreditContext& ctx) = 0;

  /// Applies own event `shop.CreditCharged` to the `shop.CreditState` of its key.
  virtual void apply(::shop::CreditState& state, const ::shop::CreditCharged& event) = 0;
};

/// What the schema says about service `shop.Credit`:
/// its topics (for creating and checking them) and its event types.
struct CreditMetadata {
  /// The full name of the service block.
  static constexpr std::string_view service_name = "shop.Credit";
  /// The service's own event topic; empty if it has none.
  static constexpr std::string_view journal = "credit-events";
  /// What happens to records of types the service does not consume.
  static constexpr ::eddy::codegen::unhandled_policy unhandled
    = ::eddy::codegen::unhandled_policy::skip;
  /// The topics the service consumes, emits to or reads as tables: name, partitions (0:
  /// unset), consumed, owned, compacted, table.
  static constexpr std::array<::eddy::codegen::topic_info, 6> topics{{
    {"order-events", 4, true, false, false, ::eddy::codegen::table_kind::none},
    {"customer-orders", 4, true, true, false, ::eddy::codegen::table_kind::none},
    {"credit-events", 4, false, true, false, ::eddy::codegen::table_kind::none},
    {"credit-notifications", 0, false, true, false, ::eddy::codegen::table_kind::none},
    {"customers", 4, false, false, true, ::eddy::codegen::table_kind::local},
    {"credit-policies", 0, false, false, true, ::eddy::codegen::table_kind::global},
  }};
  /// The event types the service consumes or emits: type, topic, key field, consumed,
  /// emitted.
  static constexpr std::array<::eddy::codegen::event_info, 4> events{{
    {"shop.OrderPlaced", "order-events", "order_id", true, false},
    {"shop.CustomerOrder", "customer-orders", "customer", true, true},
    {"shop.CreditCharged", "credit-events", "customer", false, true},
    {"shop.CreditRefused", "credit-notifications", "order_id", false, true},
  }};
  /// The tables the service reads: row type, topic, key field, kind.
  static constexpr std::array<::eddy::codegen::table_info, 2> tables{{
    {"shop.Customer", "customers", "id", ::eddy::codegen::table_kind::local},
    {"shop.CreditPolicy", "credit-policies", "tier", ::eddy::codegen::table_kind::global},
  }};
};

/// Handed to `CreditHandlers` methods: emits the events the service declares with
/// `(eddy.emits)`, keyed by their schema's key field,
/// reads the state of the record's key and looks rows up in its tables.
/// Valid only during the call, on its thread.
class CreditContext {
public:
  /// A placed order re-keyed by its customer: the internal topic that brings every order of a
  /// customer to the partition that owns the customer's state and table row.
  ///
  /// Emits a `shop.CustomerOrder` to topic `customer-orders`, keyed by its `customer`.
  void emit(const ::shop::CustomerOrder& event);

  /// An order was charged to its customer's credit.
  ///
  /// Emits a `shop.CreditCharged` to topic `credit-events`, keyed by its `customer`.
  /// An own event: applies it to the state of its key, which must be the record's.
  void emit(const ::shop::CreditCharged& event);

  /// An order would exceed its customer's credit limit.
  ///
  /// Emits a `shop.CreditRefused` to topic `credit-notifications`, keyed by its `order_id`.
  void emit(const ::shop::CreditRefused& event);

  /// Rejects, at compile time, events the service does not declare in `(eddy.emits)`.
  template <class Event>
  void emit(const Event&) {
    static_assert(::eddy::codegen::always_false<Event>,
                  "service shop.Credit does not emit this type; declare it with"
                  " option (eddy.emits) in shop/customers.proto");
  }

  /// The state of the key of the record being handled, including the own events emitted
  /// so far in this call.
  const ::shop::CreditState& state() const;

  /// The latest row of `key` in the table of type `Row`, or nullopt if it has none. A local
  /// table holds the partition of the record being handled, so look up keys of that
  /// partition. Types the service does not declare with `(eddy.table)` or
  /// `(eddy.global_table)` are rejected at compile time.
  template <class Row>
  std::optional<Row> lookup(const std::string& key) const {
    if constexpr (std::is_same_v<Row, ::shop::Customer>)
      return ::eddy::codegen::lookup<Row>(out_, "customers", key);
    else if constexpr (std::is_same_v<Row, ::shop::CreditPolicy>)
      return ::eddy::codegen::lookup<Row>(out_, "credit-policies", key);
    else {
      static_assert(::eddy::codegen::always_false<Row>,
                    "service shop.Credit reads no table of this type; declare it with"
                    " option (eddy.table) or (eddy.global_table) in shop/customers.proto");
      return std::nullopt;
    }
  }

  /// The record being handled.
  const ::eddy::record& input() const noexcept {
    return input_;
  }

private:
  friend class CreditDispatcher;

  CreditContext(const ::eddy::record& input, ::eddy::context& out)
    : input_(input), out_(out) {
  }

  const ::eddy::record& input_;
  ::eddy::context& out_;
  mutable std::optional<::shop::CreditState> state_;
};

/// Decodes the records of service `shop.Credit` by their `eddy.type` header
/// and calls the matching `CreditHandlers::on()`. Throws
/// `::eddy::codegen::decode_error` for a payload that does not parse; records of
/// types the service does not consume are skipped and reported
/// to `::eddy::context::skipped` (the runtime counts and logs them); `apply()`
/// folds its journal into state.
/// `dispatch()` may be called from several threads, one per partition.
class CreditDispatcher {
public:
  /// Creates a dispatcher calling `handlers`, which must outlive it.
  explicit CreditDispatcher(CreditHandlers& handlers) : handlers_(handlers) {
  }

  /// Handles one record, emitting through `out`.
  void dispatch(const ::eddy::record& input, ::eddy::context& out);

  /// Folds one event of journal `credit-events` into the `shop.CreditState` of its key in
  /// `store` through `CreditHandlers::apply()`: the service's journal applier. Events of
  /// other types are ignored. Throws `::eddy::codegen::decode_error` if the event does not
  /// parse, `::eddy::codegen::row_decode_error` if the stored state does not.
  void apply(const ::eddy::record& event, ::eddy::state_view store) const;

  /// How many records were skipped because the service does not consume their type
  /// (or they have no `eddy.type` header).
  std::int64_t skipped() const noexcept {
    return skipped_.load();
  }

private:
  CreditHandlers& handlers_;
  std::atomic<std::int64_t> skipped_{0};
};

/// Declares service `shop.Credit` to `svc`:
/// * its topics that have a partition count (created if missing),
/// * its journal, whose events the dispatcher's `apply()` folds into state,
/// * its tables,
/// * and the dispatcher as the handler of every consumed topic.
/// `handlers` must outlive the service's run. Returns the dispatcher, for its counters.
std::shared_ptr<CreditDispatcher> bind(::eddy::service& svc,
    CreditHandlers& handlers);

/// Drives `CreditHandlers` in-process, without a broker: `send()` events, then check
/// what was `emitted()`
/// and the `state()` of a key. Records whose handler throws land in
/// `dead_letters()`, as they would in the dead-letter topic. Deterministic; use it
/// from one thread.
class CreditTestKit {
public:
  /// Creates a test kit driving `handlers`, which must outlive it.
  explicit CreditTestKit(CreditHandlers& handlers) : dispatcher_(handlers) {
  }

  /// Feeds `event` as a record on topic `order-events`, keyed by its `order_id`.
  void send(const ::shop::OrderPlaced& event);

  /// Feeds `event` as a record on topic `customer-orders`, keyed by its `customer`.
  void send(const ::shop::CustomerOrder& event);

  /// Feeds a raw record (e.g. of an unhandled type, or with a broken payload); its offset
  /// is set to the number of records sent before.
  void send(::eddy::record input);

  /// Feeds the records emitted to topics the service consumes (a re-keying topic, say)
  /// back into it, as the broker would, in order and until none are left; returns how
  /// many it fed. Throws std::logic_error once `limit` records were fed and more keep
  /// coming.
  std::size_t relay(std::size_t limit = 100000);

  /// Puts `row` into the table of topic `customers`, keyed by its `id`, as if
  /// its record had arrived; `lookup<::shop::Customer>()` then finds it.
  void put(const ::shop::Customer& row);

  /// Puts `row` into the table of topic `credit-policies`, keyed by its `tier`, as if
  /// its record had arrived; `lookup<::shop::CreditPolicy>()` then finds it.
  void put(const ::shop::CreditPolicy& row);

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

  /// A copy of the state of `key` (a default one if it has none).
  ::shop::CreditState state(const std::string& key) const {
    return ::eddy::codegen::load_state<::shop::CreditState>(out_.store(), key);
  }

  /// Forgets emitted records and dead letters; keeps state, tables and counters.
  void clear() {
    out_.clear();
    dead_letters_.clear();
    relayed_ = 0;
  }

private:
  CreditDispatcher dispatcher_;
  ::eddy::codegen::capture_context out_{
    "shop.Credit", "credit-events",
    [this](const ::eddy::record& event, ::eddy::state_view store) {
      dispatcher_.apply(event, store);
    }};
  std::vector<::eddy::codegen::dead_letter> dead_letters_;
  std::int64_t next_offset_ = 0;
  std::size_t relayed_ = 0;
};

} // namespace shop
