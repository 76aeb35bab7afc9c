#pragma once

// The committer (internal to the runtime): makes finished work durable, driven by the poll
// loop's thread. In at_least_once it commits the consumed offsets of completed records and
// the stores of partitions that are drained (their staged rows match the journal events
// delivered); in exactly_once it runs the transaction: begin → the tasks' outputs and own
// events → the consumed offsets → commit, then the stores.
//
// A commit falls due every commit interval (and in exactly_once also when the open
// transaction holds as many records as the tasks can finish well inside the transaction
// timeout). While it is due, the poll loop hands no records to tasks, so the tasks reach a
// quiet point; the loop keeps polling. An exactly_once commit whose tasks do not finish
// within its drain budget aborts: the work is undone (tasks restarted, stores rolled
// back, partitions rewound, buffered records dropped) and the next transaction takes
// fewer records. After a failure (a failed delivery, a fenced producer) no store commits.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include "assignment.hpp"
#include "generations.hpp"
#include "kafka_ports.hpp"
#include "runtime.hpp"
#include "state_registry.hpp"

namespace eddy::detail {

class committer {
public:
  using clock = std::chrono::steady_clock;

  /// Replaces a partition's task and progress with fresh ones: the old task's remaining
  /// work is dropped (its progress is retired first).
  using restart_fn = std::function<void(assigned_partition&)>;

  /// Runs a transaction's commit off the poll loop's thread.
  using launch_fn = std::function<std::future<txn_status>(std::function<txn_status()>)>;

  /// `txn` is the transactional producer in exactly_once, null in at_least_once. With
  /// `outputs` (the sink) an exactly_once service without state pipelines its commits:
  /// the tasks go on handling while a transaction commits (see generations.hpp); `launch`
  /// runs those commits (by default on a thread of their own).
  committer(runtime& rt, assignment& parts, state_registry& states, group_port& group,
            transaction_port* txn, restart_fn restart, generation_outputs* outputs = nullptr,
            launch_fn launch = {});

  // -- the poll loop asks ---------------------------------------------------------------

  /// True while records may be handed to tasks: no commit is waiting for them to finish,
  /// and the open transaction has room.
  bool dispatch_allowed() const noexcept { return !due_; }

  /// How many more records `p`'s task may be handed now: none while a commit waits for
  /// the tasks; in exactly_once, what is left of the partition's share of the open
  /// transaction (a task handles its records one after another, so the share bounds how
  /// long the transaction takes to finish).
  std::int64_t dispatch_room(const assigned_partition& p) const noexcept {
    if (due_)
      return 0;
    if (!txn_)
      return std::numeric_limits<std::int64_t>::max();
    return std::max<std::int64_t>(cap_ - p.transaction_records, 0);
  }

  /// Counts `n` records handed to `p`'s task, the first at `first_offset`.
  void dispatched(assigned_partition& p, std::int64_t first_offset, std::int64_t n);

  /// Postpones periodic commits until `until` (a cooperative rebalance is settling).
  void hold_until(clock::time_point until) noexcept { hold_until_ = until; }

  // -- the poll loop drives ----------------------------------------------------------------

  /// exactly_once: opens the first transaction.
  void start();

  /// Periodic work at `now`: makes a commit due, completes it once the tasks are quiet,
  /// or aborts an exactly_once commit whose tasks overran the drain budget.
  void tick(clock::time_point now);

  /// Before `revoked` leave this instance (inside the rebalance callback): commits what
  /// they completed, or, if the assignment was `lost`, drops the open transaction.
  void on_revoke(const std::vector<assigned_partition*>& revoked, bool lost);

  /// Completes a pipelined commit under way (waiting for it); a no-op otherwise. The poll
  /// loop calls it before it drains the tasks for a stop.
  void settle();

  /// The final commit of a stop, after the poll loop drained the tasks; no transaction
  /// begins after it.
  void finish();

  // -- properties ---------------------------------------------------------------------------

  /// exactly_once: the most records one transaction may hand to one partition's task.
  std::int64_t transaction_cap() const noexcept { return cap_; }

  /// exactly_once: records handed out in the open transaction (all partitions).
  std::int64_t transaction_records() const noexcept { return txn_records_; }

  /// exactly_once: transactions aborted since start.
  std::int64_t aborts() const noexcept { return aborts_; }

  /// True if commits are pipelined (exactly_once without state).
  bool pipelined() const noexcept { return outputs_ != nullptr; }

private:
  void tick_pipelined(clock::time_point now, std::chrono::milliseconds budget);
  /// Starts committing the closed generation's offsets on the launcher.
  void launch_commit();
  /// Takes the launched commit's outcome: the next transaction begins, or the work aborts.
  void complete_pipelined(std::chrono::milliseconds budget);
  /// Sizes the next transaction from how long the last one `took` to commit, and whether
  /// it was closed `full` (a partition used up its share).
  void adapt_cap(clock::duration took, bool full, std::chrono::milliseconds budget);
  /// Opens `generation`'s parked outputs if a transaction is open, else drops them.
  void reopen(std::uint64_t generation);
  /// Raises the failure of any failed partition; true once any failure was raised.
  bool halted();
  void commit_offsets(const std::vector<assigned_partition*>& which, bool sync);
  /// The partition numbers all of whose assigned partitions are drained.
  std::set<std::int32_t> drained_numbers() const;
  bool everything_handled() const;
  void complete_at_least_once(clock::time_point now);
  /// Commits the open transaction; false if it had to be aborted (or failed).
  bool commit_transaction();
  void abort_and_rewind();
  void begin_transaction();
  void fail(const txn_status& status, const char* step);
  /// Waits (bounded) until `which` are drained; true if they are.
  bool await_drained(const std::vector<assigned_partition*>& which,
                     std::chrono::milliseconds limit) const;
  bool await_handled(std::chrono::milliseconds limit) const;

  runtime& rt_;
  assignment& parts_;
  state_registry& states_;
  group_port& group_;
  transaction_port* txn_;
  restart_fn restart_;

  bool due_ = false;
  clock::time_point due_since_{};
  clock::time_point next_commit_{};
  clock::time_point hold_until_{};
  bool open_ = false;
  clock::time_point opened_at_{};
  bool closing_ = false;
  generation_outputs* outputs_;
  launch_fn launch_;
  /// The generation being committed (pipelined), or 0.
  std::uint64_t closed_ = 0;
  std::optional<std::future<txn_status>> committing_;
  std::vector<partition_offset> committing_offsets_;
  std::int64_t cap_;
  std::int64_t txn_records_ = 0;
  /// A partition used up its share of the open transaction: commit now.
  bool full_ = false;
  /// The generation being committed had a partition use up its share.
  bool closed_full_ = false;
  std::int64_t aborts_ = 0;
};

} // namespace eddy::detail
