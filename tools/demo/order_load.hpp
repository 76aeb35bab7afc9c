#pragma once

/// @file
/// Posting the demo's orders to the orders API at a steady rate and waiting for each
/// order's decision, with the counts and latencies the progress line and summary show.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "order_mix.hpp"

namespace shop_demo {

/// How the load runs.
struct load_options {
  /// Orders per second.
  double rate = 100;
  /// The base URLs of the orders instances (e.g. `http://127.0.0.1:40123`); order i goes
  /// to endpoint i mod their number.
  std::vector<std::string> endpoints;
  /// Orders in flight (posted, not yet decided) per endpoint at most: one thread each.
  int workers_per_endpoint = 16;
  /// How long after its POST an order may take to be decided.
  std::chrono::milliseconds decision_wait{30000};
};

/// What the load did so far: a consistent copy.
struct load_snapshot {
  /// Orders handed to a worker (their time had come).
  std::int64_t scheduled = 0;
  /// Orders the API accepted (201).
  std::int64_t posted = 0;
  /// Orders the API refused or did not answer.
  std::int64_t refused = 0;
  /// Orders decided, and how.
  std::int64_t decided = 0;
  std::int64_t validated = 0;
  std::int64_t failed = 0;
  /// Decided orders whose decision is not the one planned (order_mix).
  std::int64_t unexpected = 0;
  /// Orders not decided within the wait.
  std::int64_t undecided = 0;
  /// Orders still waiting for a decision when the load was stopped.
  std::int64_t abandoned = 0;
  /// Seconds from the first POST to the last one accepted, and to the last decision.
  double posting_seconds = 0;
  double deciding_seconds = 0;
  /// POST → decision latency of the decided orders, in ms: median, 99th percentile, max.
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  /// POST round trip (request → 201) of the accepted orders, in ms: the median.
  double post_p50_ms = 0;
  /// Orders whose POST began more than 100 ms after their time: they waited for a worker,
  /// all of which were busy with earlier orders (at the cap of orders in flight).
  std::int64_t late = 0;
  /// The most an order's POST began after its time, in ms.
  double max_late_ms = 0;
  /// Orders in flight at most (workers over all endpoints).
  std::int64_t in_flight_cap = 0;
  /// Requests that failed (no answer, or an error status other than a long-poll's 504);
  /// all but refusals were retried.
  std::int64_t errors = 0;
  /// The first such failure, and a few unexpected decisions, for the summary.
  std::string first_error;
  std::vector<std::string> unexpected_examples;
};

/// Posts `count()` orders of an order_mix to the orders API at a steady rate, publishes
/// each accepted order's payment through `on_posted`, and long-polls
/// `GET /v1/orders/{id}/validated` until the order is decided.
///
/// Order i is due at start + i / rate and goes to endpoint i mod K, where one of that
/// endpoint's workers posts it as soon as it is free: if orders take longer to decide than
/// the workers allow, posting falls behind the rate, which the snapshot shows. Each order
/// carries its own id, so a POST that got no answer (or 503) is retried. Latency runs from
/// sending the first POST to receiving the decision.
///
/// Lifecycle: `start()` once, then `snapshot()` and `finished()` from any thread; `stop()`
/// ends it early (no new POSTs; waits give up within about a second); the destructor stops
/// and joins. `on_posted` is called on the worker threads.
class order_load {
public:
  /// Called with each accepted order's id and plan.
  using posted_callback = std::function<void(const std::string& id, const planned_order&)>;

  // -- constructors, destructors, and assignment operators --------------------------------

  /// Prepares the load; `mix` must outlive it.
  order_load(const order_mix& mix, load_options options, posted_callback on_posted);

  /// Stops and joins the threads.
  ~order_load();

  order_load(const order_load&) = delete;
  order_load& operator=(const order_load&) = delete;

  // -- running ----------------------------------------------------------------------------

  /// Starts the pacing thread and the workers.
  void start();

  /// Stops posting; orders still waiting give up. Returns at once.
  void stop();

  /// True once every order was posted and resolved, or the load stopped and its workers
  /// are done.
  bool finished() const;

  // -- properties -------------------------------------------------------------------------

  /// The counts and latencies so far.
  load_snapshot snapshot() const;

  /// The ids of the orders decided VALIDATED so far.
  std::vector<std::string> validated_ids() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace shop_demo
