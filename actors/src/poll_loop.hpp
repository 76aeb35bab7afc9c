#pragma once

// The poll loop (internal to the runtime): the consumer-group member. It runs on a thread
// of its own (a blocking actor), never on a CAF scheduler thread, and does one job: it
// consumes, batches records per partition and hands them to the partition tasks, pausing
// a partition whose task is out of credit (or whose state is being restored) and resuming
// it when that ends. It keeps polling whatever else happens, so the member keeps its place
// in the group.
//
// The other roles it drives from its thread: the committer (offsets, or transactions), the
// restorer (partitions newly assigned stay paused until their state is restored on the
// restorer's thread), and the state registry (stores live while a partition uses them).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>

#include "assignment.hpp"
#include "committer.hpp"
#include "fetch_waker.hpp"
#include "kafka_ports.hpp"
#include "restorer.hpp"
#include "runtime.hpp"
#include "state_registry.hpp"

namespace eddy::detail {

class poll_loop : public RdKafka::RebalanceCb {
public:
  explicit poll_loop(runtime& rt);
  ~poll_loop() override;

  /// The consumer this loop drives; must be called before `run`, with the consumer whose
  /// configuration names this loop as its rebalance callback.
  void attach(RdKafka::KafkaConsumer* consumer);

  /// Polls until a stop is requested or a failure is raised, then stops gracefully: hands
  /// out nothing more, lets the tasks finish, commits, and closes the consumer. Returns the
  /// first failure, if any. Runs on `self`'s own thread.
  expected<void> run(caf::blocking_actor* self);

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

private:
  assigned_partition* lookup(RdKafka::Message& message);
  void append(assigned_partition& p, RdKafka::Message& message);
  void dispatch(assigned_partition& p);
  void dispatch_all();
  void apply_credit();
  void set_paused(assigned_partition& p, bool paused);
  /// Wakes the fetchers of the running partitions, which a full queue may have stopped.
  void wake_fetcher();
  /// Spawns `p`'s task on its partition's live state (if the service is stateful).
  void start_task(assigned_partition& p);
  /// Replaces `p`'s task and progress after an aborted transaction (see committer).
  void restart_task(assigned_partition& p);
  /// Adopts what the restorer finished: starts the partitions' tasks and resumes them.
  void adopt_restored();
  /// Raises failures seen by the producer or a partition's deliveries; true if any.
  bool check_failures();
  /// Waits (at most the shutdown timeout) until every task finished what it holds.
  bool drain_all();
  void on_assign(std::vector<RdKafka::TopicPartition*>& partitions);
  void on_revoke(std::vector<RdKafka::TopicPartition*>& partitions);
  /// Assigns again the partitions that never got a position (librdkafka#5586).
  void requery_offsets();

  runtime& rt_;
  RdKafka::KafkaConsumer* consumer_ = nullptr;
  caf::blocking_actor* self_ = nullptr;
  assignment parts_;
  state_registry states_;
  std::unique_ptr<kafka_group_port> group_;
  std::unique_ptr<kafka_transaction_port> txn_;
  std::unique_ptr<committer> committer_;
  std::unique_ptr<restorer> restorer_;
  /// Last (topic handle, partition) → entry, so the per-record lookup avoids strings.
  std::map<std::pair<const void*, std::int32_t>, assigned_partition*> index_;
  std::size_t pending_records_ = 0;
  std::optional<fetch_waker> fetch_;
  /// When to ask again for committed offsets a stale coordinator did not answer, or zero.
  std::chrono::steady_clock::time_point requery_at_{};
};

} // namespace eddy::detail
