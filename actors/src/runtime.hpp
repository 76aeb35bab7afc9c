#pragma once

// State shared by the actors of one running service (internal to the runtime): the
// handlers, the sink, the settings they need, counters, and the stop request.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/config.hpp>
#include <eddy/service.hpp>
#include <eddy/state_store.hpp>

#include "sink.hpp"

namespace eddy::detail {

struct runtime_counters {
  std::atomic<std::int64_t> records_handled{0};
  std::atomic<std::int64_t> records_emitted{0};
  std::atomic<std::int64_t> handler_errors{0};
  std::atomic<std::int64_t> commits{0};
  std::atomic<std::int64_t> assigned_partitions{0};
  std::atomic<std::int64_t> paused_partitions{0};
  std::atomic<std::int64_t> pauses{0};
  std::atomic<std::int64_t> events_restored{0};
};

/// The state of one journal partition. Tasks of several consumed topics may share a
/// partition, so the store is guarded; the source commits it at quiet points.
struct partition_state {
  explicit partition_state(state_store opened) : store(std::move(opened)) {}
  std::mutex mtx;
  state_store store;
};

/// The service's own event topic and how its events fold into state.
struct journal_spec {
  std::string topic;
  int partitions = 0;
  journal_applier apply;
  /// Next journal offset known delivered, per partition (-1: none yet); written by the
  /// sink's delivery thread, read by the source when it commits a store's checkpoint.
  std::unique_ptr<std::atomic<std::int64_t>[]> delivered_next;
};

struct runtime {
  std::string service_name;
  std::string dead_letter_topic;
  std::map<std::string, handler> handlers;
  std::int64_t credit_window = 0;
  std::int64_t batch_max_records = 0;
  std::chrono::milliseconds commit_interval{0};
  std::chrono::milliseconds shutdown_timeout{0};
  /// True for processing.guarantee=exactly_once: outputs and offsets commit in transactions.
  bool exactly_once = false;
  sink* out = nullptr;
  /// The journal, if the service declared one.
  std::optional<journal_spec> journal;
  /// Folder of this service's state stores.
  std::string state_dir;
  /// Creates a consumer that reads the journal during a restore (no group membership).
  std::function<std::unique_ptr<RdKafka::KafkaConsumer>()> make_restore_consumer;
  /// Called on the source's thread when it begins a graceful stop.
  std::function<void()> on_stopping;
  /// Called on the source's thread when a restore begins (true) and ends (false).
  std::function<void(bool)> on_restoring;
  runtime_counters counters;
  std::atomic<bool> stop_requested{false};
};

/// Set by SIGINT/SIGTERM while a service runs with signal handling on.
extern std::atomic<bool> signal_stop_requested;

} // namespace eddy::detail
