// generated — do not edit; source: shop/orders.proto
//
// The Eddy services of shop/orders.proto (typed handlers, emit functions, dispatchers,
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

#include "shop/orders.pb.h"

namespace shop {

// -- service shop.Orders ------------------------------------------------------------------

class OrdersContext;
class OrdersDispatcher;

/// Accepts orders once and cancels only placed ones.
///
/// The handlers of service `shop.Orders`: one `on()` per consumed event,
/// and one `apply()` per own event.
/// Calls for records of different partitions may run concurrently; the records of
/// one partition arrive one at a time, in offset order. An exception thrown by a
/// handler sends its record to the dead-letter topic.
class OrdersHandlers {
public:
  virtual ~OrdersHandlers() = default;

  /// A customer asks to place an order.
  ///
  /// Handles a `shop.PlaceOrder` from topic `order-commands`.
  virtual void on(const ::shop::PlaceOrder& event, OrdersContext& ctx) = 0;

  /// A customer asks to cancel an order.
  ///
  /// Handles a `shop.CancelOrder` from topic `order-commands`.
  virtual void on(const ::shop::CancelOrder& event, OrdersContext& ctx) = 0;

  /// Applies own event `shop.OrderPlaced` to the `shop.OrderState` of its key.
  virtual void apply(::shop::OrderState& state, const ::shop::OrderPlaced& event) = 0;

  /// Applies own event `shop.OrderCancelled` to the `shop.OrderState` of its key.
  virtual void apply(::shop::OrderState& state, const ::shop::OrderCancelled& event) = 0;
};

/// What the schema says about service `shop.Orders`:
/// its topics (for creating and checking them) and its event types.
struct OrdersMetadata {
  /// The full name of the service block.
  static constexpr std::string_view service_name = "shop.Orders";
  /// The service's own event topic; empty if it has none.
  static constexpr std::string_view journal = "order-events";
  /// What happens to records of types the service does not consume.
  static constexpr ::eddy::codegen::unhandled_policy unhandled
    = ::eddy::codegen::unhandled_policy::dead_letter;
  /// The topics the service consumes, emits to or reads as tables: name, partitions (0:
  /// unset), consumed, owned, compacted, table.
  static constexpr std::array<::eddy::codegen::topic_info, 3> topics{{
    {"order-commands", 4, true, false, false, ::eddy::codegen::table_kind::none},
    {"order-events", 4, false, true, false, ::eddy::codegen::table_kind::none},
    {"order-notifications", 0, false, true, false, ::eddy::codegen::table_kind::none},
  }};
  /// The event types the service consumes or emits: type, topic, key field, consumed,
  /// emitted.
  static constexpr std::array<::eddy::codegen::event_info, 5> events{{
    {"shop.PlaceOrder", "order-commands", "order_id", true, false},
    {"shop.CancelOrder", "order-commands", "order_id", true, false},
    {"shop.OrderPlaced", "order-events", "order_id", false, true},
    {"shop.OrderCancelled", "order-events", "order_id", false, true},
    {"shop.OrderRejected", "order-notifications", "order_id", false, true},
  }};
  /// The tables the service reads: row type, topic, key field, kind.
  static constexpr std::array<::eddy::codegen::table_info, 0> tables{};
};

/// Handed to `OrdersHandlers` methods: emits the events the service declares with
/// `(eddy.emits)`, keyed by their schema's key field,
/// and reads the state of the record's key.
/// Valid only during the call, on its thread.
class OrdersContext {
public:
  /// An order was accepted.
  ///
  /// Emits a `shop.OrderPlaced` to topic `order-events`, keyed by its `order_id`.
  /// An own event: applies it to the state of its key, which must be the record's.
  void emit(const ::shop::OrderPlaced& event);

  /// An order was cancelled.
  ///
  /// Emits a `shop.OrderCancelled` to topic `order-events`, keyed by its `order_id`.
  /// An own event: applies it to the state of its key, which must be the record's.
  void emit(const ::shop::OrderCancelled& event);

  /// A command was refused; for the customer, not part of the order's history.
  ///
  /// Emits a `shop.OrderRejected` to topic `order-notifications`, keyed by its `order_id`.
  void emit(const ::shop::OrderRejected& event);

  /// Rejects, at compile time, events the service does not declare in `(eddy.emits)`.
  template <class Event>
  void emit(const Event&) {
    static_assert(::eddy::codegen::always_false<Event>,
                  "service shop.Orders does not emit this type; declare it with"
                  " option (eddy.emits) in shop/orders.proto");
  }

  /// The state of the key of the record being handled, including the own events emitted
  /// so far in this call.
  const ::shop::OrderState& state() const;

  /// The latest row of `key` in the table of type `Row`, or nullopt if it has none. A local
  /// table holds the partition of the record being handled, so look up keys of that
  /// partition. Types the service does not declare with `(eddy.table)` or
  /// `(eddy.global_table)` are rejected at compile time.
  template <class Row>
  std::optional<Row> lookup(const std::string&) const {
    static_assert(::eddy::codegen::always_false<Row>,
                  "service shop.Orders reads no table of this type; declare it with"
                  " option (eddy.table) or (eddy.global_table) in shop/orders.proto");
    return std::nullopt;
  }

  /// The record being handled.
  const ::eddy::record& input() const noexcept {
    return input_;
  }

private:
  friend class OrdersDispatcher;

  OrdersContext(const ::eddy::record& input, ::eddy::context& out)
    : input_(input), out_(out) {
  }

  const ::eddy::record& input_;
  ::eddy::context& out_;
  mutable std::optional<::shop::OrderState> state_;
};

/// Decodes the records of service `shop.Orders` by their `eddy.type` header
/// and calls the matching `OrdersHandlers::on()`. Throws
/// `::eddy::codegen::decode_error` for a payload that does not parse; records of
/// types the service does not consume are thrown out as
/// `::eddy::codegen::unhandled_type_error` (dead letters); `apply()`
/// folds its journal into state.
/// `dispatch()` may be called from several threads, one per partition.
class OrdersDispatcher {
public:
  /// Creates a dispatcher calling `handlers`, which must outlive it.
  explicit OrdersDispatcher(OrdersHandlers& handlers) : handlers_(handlers) {
  }

  /// Handles one record, emitting through `out`.
  void dispatch(const ::eddy::record& input, ::eddy::context& out);

  /// Folds one event of journal `order-events` into the `shop.OrderState` of its key in
  /// `store` through `OrdersHandlers::apply()`: the service's journal applier. Events of
  /// other types are ignored. Throws `::eddy::codegen::decode_error` if the event does not
  /// parse, `::eddy::codegen::row_decode_error` if the stored state does not.
  void apply(const ::eddy::record& event, ::eddy::state_view store) const;

  /// How many records were skipped because the service does not consume their type
  /// (or they have no `eddy.type` header).
  std::int64_t skipped() const noexcept {
    return skipped_.load();
  }

private:
  OrdersHandlers& handlers_;
  std::atomic<std::int64_t> skipped_{0};
};

/// Declares service `shop.Orders` to `svc`:
/// * its topics that have a partition count (created if missing),
/// * its journal, whose events the dispatcher's `apply()` folds into state,
/// * and the dispatcher as the handler of every consumed topic.
/// `handlers` must outlive the service's run. Returns the dispatcher, for its counters.
std::shared_ptr<OrdersDispatcher> bind(::eddy::service& svc,
    OrdersHandlers& handlers);

/// Drives `OrdersHandlers` in-process, without a broker: `send()` events, then check
/// what was `emitted()`
/// and the `state()` of a key. Records whose handler throws land in
/// `dead_letters()`, as they would in the dead-letter topic. Deterministic; use it
/// from one thread.
class OrdersTestKit {
public:
  /// Creates a test kit driving `handlers`, which must outlive it.
  explicit OrdersTestKit(OrdersHandlers& handlers) : dispatcher_(handlers) {
  }

  /// Feeds `event` as a record on topic `order-commands`, keyed by its `order_id`.
  void send(const ::shop::PlaceOrder& event);

  /// Feeds `event` as a record on topic `order-commands`, keyed by its `order_id`.
  void send(const ::shop::CancelOrder& event);

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

  /// A copy of the state of `key` (a default one if it has none).
  ::shop::OrderState state(const std::string& key) const {
    return ::eddy::codegen::load_state<::shop::OrderState>(out_.store(), key);
  }

  /// Forgets emitted records and dead letters; keeps state, tables and counters.
  void clear() {
    out_.clear();
    dead_letters_.clear();
    relayed_ = 0;
  }

private:
  OrdersDispatcher dispatcher_;
  ::eddy::codegen::capture_context out_{
    "shop.Orders", "order-events",
    [this](const ::eddy::record& event, ::eddy::state_view store) {
      dispatcher_.apply(event, store);
    }};
  std::vector<::eddy::codegen::dead_letter> dead_letters_;
  std::int64_t next_offset_ = 0;
  std::size_t relayed_ = 0;
};

} // namespace shop
