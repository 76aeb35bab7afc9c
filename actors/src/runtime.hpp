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
#include <string_view>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/config.hpp>
#include <eddy/error.hpp>
#include <eddy/service.hpp>
#include <eddy/state_store.hpp>

#include "histogram.hpp"
#include "sink.hpp"

namespace eddy::detail {

/// The first fatal error of a run (a failed delivery, a fenced producer, a failed restore or
/// store commit), raised by any role from any thread. Once raised, no store commits any
/// more and the service stops.
class failure_latch {
public:
  /// Keeps `err` unless an earlier failure was raised. A fenced instance sees its
  /// deliveries fail first: `fenced` replaces `delivery_failed`, naming the cause.
  void raise(error err) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!first_ || (first_->code == errc::delivery_failed && err.code == errc::fenced))
      first_ = std::move(err);
    raised_.store(true);
  }

  /// True once a failure was raised.
  bool raised() const noexcept { return raised_.load(); }

  /// The first failure, if any.
  std::optional<error> first() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return first_;
  }

private:
  mutable std::mutex mtx_;
  std::optional<error> first_;
  std::atomic<bool> raised_{false};
};

struct runtime_counters {
  std::atomic<std::int64_t> records_handled{0};
  std::atomic<std::int64_t> records_emitted{0};
  std::atomic<std::int64_t> handler_errors{0};
  std::atomic<std::int64_t> records_skipped{0};
  std::atomic<std::int64_t> decode_errors{0};
  std::atomic<std::int64_t> production_errors{0};
  std::atomic<std::int64_t> dead_letters{0};
  std::atomic<std::int64_t> errors_skipped{0};
  std::atomic<std::int64_t> commits{0};
  std::atomic<std::int64_t> assigned_partitions{0};
  std::atomic<std::int64_t> paused_partitions{0};
  std::atomic<std::int64_t> pauses{0};
  std::atomic<std::int64_t> fetch_wakeups{0};
  std::atomic<std::int64_t> events_restored{0};
  std::atomic<std::int64_t> partitions_lost{0};
  std::atomic<std::int64_t> partitions_restoring{0};
  std::atomic<std::int64_t> transactions_aborted{0};
  /// Records handed to partition tasks and not yet complete (handled, outputs delivered
  /// and, in exactly_once, committed), as the poll loop last summed them (every 5 ms).
  std::atomic<std::int64_t> records_in_flight{0};
  /// Assignments and revocations the consumer group handed this instance.
  std::atomic<std::int64_t> rebalance_callbacks{0};
  /// The counters `service::stats()` reports.
  service_stats snapshot() const noexcept {
    service_stats result;
    result.records_handled = records_handled.load();
    result.records_emitted = records_emitted.load();
    result.handler_errors = handler_errors.load();
    result.records_skipped = records_skipped.load();
    result.decode_errors = decode_errors.load();
    result.production_errors = production_errors.load();
    result.dead_letters = dead_letters.load();
    result.errors_skipped = errors_skipped.load();
    result.commits = commits.load();
    result.assigned_partitions = assigned_partitions.load();
    result.paused_partitions = paused_partitions.load();
    result.pauses = pauses.load();
    result.fetch_wakeups = fetch_wakeups.load();
    result.events_restored = events_restored.load();
    result.partitions_lost = partitions_lost.load();
    result.partitions_restoring = partitions_restoring.load();
    result.transactions_aborted = transactions_aborted.load();
    return result;
  }
};

/// The state of one partition number: journal state rows and local table rows in one
/// store. Tasks of several consumed topics share a partition, so the store is guarded; the
/// source commits it at quiet points.
struct partition_state {
  partition_state(state_store opened, std::int32_t number)
    : store(std::move(opened)),
      partition(number) {}
  std::mutex mtx;
  state_store store;
  std::int32_t partition;
};

/// The row key of `key` of the local table of `topic` inside a partition store. The
/// leading NUL keeps table rows apart from journal state rows (and out of snapshots).
inline std::string table_row_key(const std::string& topic, std::string_view key) {
  std::string row;
  row.reserve(topic.size() + key.size() + 4);
  row.append("\0t:", 3).append(topic).push_back('\0');
  row.append(key);
  return row;
}

/// True for the rows of local tables (see `table_row_key`).
inline bool is_table_row(const std::string& row) {
  return row.size() >= 3 && row.compare(0, 3, std::string_view{"\0t:", 3}) == 0;
}

/// How far the last restore of one journal or table partition got, for /metrics.
struct restore_figures {
  std::int64_t restored = 0;
  std::int64_t to_restore = 0;
};

/// A local table: co-partitioned with the inputs, restored with the partition's state.
struct local_table_spec {
  std::string topic;
  int partitions = 0;
  table_listener on_change;
};

/// A global table: all partitions in a store of its own, read by every task.
struct global_table {
  std::string topic;
  table_listener on_change;
  std::mutex mtx;
  std::optional<state_store> store;
};

/// The service's own event topic and how its events fold into state.
struct journal_spec {
  std::string topic;
  int partitions = 0;
  journal_applier apply;
  /// The compacted snapshot topic, or empty without snapshots.
  std::string snapshot_topic;
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
  /// exactly_once: the producer's transaction.timeout.ms; a transaction is committed (or
  /// aborted) well inside it.
  std::chrono::milliseconds transaction_timeout{10000};
  /// True for processing.guarantee=exactly_once: outputs and offsets commit in transactions.
  bool exactly_once = false;
  sink* out = nullptr;
  /// The journal, if the service declared one.
  std::optional<journal_spec> journal;
  /// Local tables by topic.
  std::map<std::string, local_table_spec> local_tables;
  /// Global tables by topic; loaded before the consumer subscribes.
  std::map<std::string, std::unique_ptr<global_table>> global_tables;
  /// Re-keying steps: name → repartition topic.
  std::map<std::string, std::string> repartitions;
  /// Partition states in use, by partition number, for lookups from other threads.
  std::mutex states_mtx;
  std::map<std::int32_t, std::shared_ptr<partition_state>> states;
  /// Assigned partition numbers → how many assigned topic partitions carry them.
  std::map<std::int32_t, int> assigned_numbers;
  /// True when partitions carry state (a journal or local tables).
  bool stateful() const noexcept { return journal.has_value() || !local_tables.empty(); }
  /// Folder of this service's state stores.
  std::string state_dir;
  /// Creates a consumer that reads the journal during a restore (no group membership).
  std::function<std::unique_ptr<RdKafka::KafkaConsumer>()> make_restore_consumer;
  /// Called on the source's thread when it begins a graceful stop.
  std::function<void()> on_stopping;
  /// Called on the source's thread when a restore begins (true) and ends (false).
  std::function<void(bool)> on_restoring;
  runtime_counters counters;
  /// (topic, partition) → the progress of the last restore of that partition this instance
  /// ran, published by the restore pass a few times a second.
  std::mutex restores_mtx;
  std::map<std::pair<std::string, std::int32_t>, restore_figures> restores;
  /// True while /metrics is served: the partition tasks then time their handlers.
  bool timing_handlers = false;
  /// Seconds per handler call, and each record's age when its handler began (now − the
  /// record's timestamp), observed while `timing_handlers`.
  histogram handler_seconds{handler_seconds_bounds};
  histogram record_age_seconds{record_age_seconds_bounds};
  failure_latch failure;
  std::atomic<bool> stop_requested{false};
  /// True once the consumer group gave this instance its first assignment (even an empty
  /// one): before that, the instance cannot tell what it will serve.
  std::atomic<bool> assignment_received{false};
  /// The policies for records that do not decode and handlers that throw (never null
  /// while running; the production policy lives in the sink).
  processing_error_policy on_decode_error;
  processing_error_policy on_handler_error;
  /// A journal event whose applier throws during a restore is logged, counted and skipped
  /// (`eddy.errors.restore=continue`) instead of failing the restore.
  bool restore_skips_bad_events = false;

  /// Keeps the first error a policy answered `fail` to; it stops the service (through
  /// the failed ticket) and is what `run()` returns.
  void fail_record(error err) {
    std::lock_guard<std::mutex> guard{failure_mtx};
    if (!record_failure)
      record_failure = std::move(err);
  }
  /// The error kept by `fail_record`, if any.
  std::optional<error> first_record_failure() {
    std::lock_guard<std::mutex> guard{failure_mtx};
    return record_failure;
  }
  std::mutex failure_mtx;
  std::optional<error> record_failure;
};

} // namespace eddy::detail
