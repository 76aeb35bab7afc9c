#pragma once

// The source (internal to the runtime): the consumer-group member. Its poll loop runs on
// a thread of its own (a blocking actor), never on a CAF scheduler thread. On assignment it
// spawns one partition task per partition; it batches records per partition, pauses a
// partition whose task is out of credit and resumes it when credit returns, commits the
// offsets of completed work, and on revocation or stop drains the tasks before committing.
// In exactly_once it also drives the producer's transactions: each commit interval it
// drains the tasks, adds the input offsets to the open transaction and commits it; an
// aborted transaction rewinds the partitions to where it began.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>

#include "partition_progress.hpp"
#include "runtime.hpp"

namespace eddy::detail {

class source : public RdKafka::RebalanceCb {
public:
  explicit source(runtime& rt) : rt_(rt) {}

  /// The consumer this source drives; must be set before `run`.
  void attach(RdKafka::KafkaConsumer* consumer) noexcept { consumer_ = consumer; }

  /// The poll loop; returns when a stop is requested or a delivery failed, after a graceful
  /// drain, final commit and consumer close. Runs on `self`'s own thread.
  expected<void> run(caf::blocking_actor* self);

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

private:
  struct assigned_partition {
    std::string topic;
    std::int32_t partition = 0;
    caf::actor task;
    std::shared_ptr<partition_progress> progress;
    std::vector<record> pending;
    std::int64_t committed = -1;
    /// One past the last record handed to the task, or -1.
    std::int64_t dispatched_next = -1;
    /// exactly_once: offset of the first record handed out in the open transaction.
    std::int64_t transaction_start = -1;
    bool paused = false;
  };
  using partition_key = std::pair<std::string, std::int32_t>;

  assigned_partition* lookup(RdKafka::Message& message);
  void append(assigned_partition& p, RdKafka::Message& message);
  void dispatch(assigned_partition& p);
  void dispatch_all();
  void apply_credit();
  void set_paused(assigned_partition& p, bool paused);
  void commit(const std::vector<assigned_partition*>& which, bool sync);
  void commit_all(bool sync);
  /// Waits (at most the shutdown timeout) until no partition of `which` is `busy`;
  /// failed partitions never hold it up. False on timeout.
  bool wait_until_idle(const std::vector<assigned_partition*>& which,
                       bool (*busy)(const assigned_partition&));
  /// Waits until every record handed out is handled and its outputs are delivered.
  bool drain(const std::vector<assigned_partition*>& which);
  /// Waits until every record handed out is handled (outputs may still be in flight).
  bool drain_handled(const std::vector<assigned_partition*>& which);
  void on_assign(std::vector<RdKafka::TopicPartition*>& partitions);
  void on_revoke(std::vector<RdKafka::TopicPartition*>& partitions);
  std::vector<assigned_partition*> all_partitions();
  /// One topic partition to read into a store during a restore.
  struct replay_job {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t next = 0;
    std::int64_t high = 0;
    state_store* store = nullptr;
    std::function<void(RdKafka::Message&)> apply;
    std::int64_t replayed = 0;
    bool done = false;
  };
  /// Opens the stores of `numbers` and brings them up to date in one pass over all their
  /// partitions: snapshots (for fresh stores), then journal events and local tables past
  /// their checkpoints. Registers the states in `states_` and the runtime.
  void restore(const std::vector<std::int32_t>& numbers);
  /// Reads every job's partition from `next` to `high` into its `apply`, checkpointing its
  /// store as it goes, with progress.
  void replay(RdKafka::KafkaConsumer& consumer, std::vector<replay_job>& jobs);
  void print_restore_progress(std::int64_t done, std::int64_t total,
                              std::chrono::steady_clock::duration elapsed, bool last = false);
  /// Produces the staged journal state rows to the snapshot topic, if it has one.
  void write_snapshots();
  void commit_states();
  void rollback_states();
  void release_states();
  /// The first delivery failure of any partition, remembered once seen, or null.
  const error* failure();
  void begin_transaction();
  void commit_transaction(bool closing);
  void abort_and_rewind();
  void fail_transaction(const char* step, RdKafka::Error& err);

  runtime& rt_;
  RdKafka::KafkaConsumer* consumer_ = nullptr;
  caf::blocking_actor* self_ = nullptr;
  std::map<partition_key, assigned_partition> partitions_;
  /// Journal partition → its restored state, while any assigned partition uses it.
  std::map<std::int32_t, std::shared_ptr<partition_state>> states_;
  /// Last (topic handle, partition) → entry, so the per-record lookup avoids strings.
  std::map<std::pair<const void*, std::int32_t>, assigned_partition*> index_;
  std::size_t pending_records_ = 0;
  /// Periodic commits wait until then after a cooperative revocation or an empty
  /// assignment (a second join round usually follows within a heartbeat interval):
  /// librdkafka 2.0.2 treats a
  /// commit that races that second join (ILLEGAL_GENERATION) as a lost assignment, which
  /// costs duplicates (librdkafka#4059, fixed upstream after 2.0.2). Commits made inside
  /// the revocation callback itself are safe and still happen.
  std::chrono::steady_clock::time_point commit_hold_until_{};
  /// When to ask again for committed offsets a stale coordinator did not answer, or zero.
  std::chrono::steady_clock::time_point requery_at_{};
  /// Assigns again the partitions that never got a position (librdkafka#5586).
  void requery_offsets();
  std::optional<error> failure_;
  /// exactly_once: a transaction is open (begun, not yet committed or aborted).
  bool transaction_open_ = false;
  /// Set by the final commit of a stop: no new transaction begins after it.
  bool closing_ = false;
};

} // namespace eddy::detail
