#include "committer.hpp"

#include <algorithm>
#include <thread>

#include <eddy/log.hpp>

namespace eddy::detail {

namespace {

/// The most records one transaction may hand out, whatever the tasks' speed.
constexpr std::int64_t max_transaction_cap = std::int64_t{1} << 20;

} // namespace

committer::committer(runtime& rt, assignment& parts, state_registry& states, group_port& group,
                     transaction_port* txn, restart_fn restart, generation_outputs* outputs,
                     launch_fn launch)
  : rt_(rt),
    parts_(parts),
    states_(states),
    group_(group),
    txn_(txn),
    restart_(std::move(restart)),
    outputs_(txn != nullptr && !rt.stateful() ? outputs : nullptr),
    launch_(std::move(launch)),
    cap_(std::max<std::int64_t>(rt.batch_max_records, 1)) {
  next_commit_ = clock::now() + rt_.commit_interval;
  if (!launch_)
    launch_ = [](std::function<txn_status()> job) {
      return std::async(std::launch::async, std::move(job));
    };
}

void committer::dispatched(assigned_partition& p, std::int64_t first_offset, std::int64_t n) {
  if (p.transaction_start < 0)
    p.transaction_start = first_offset;
  p.transaction_records += n;
  if (txn_) {
    txn_records_ += n;
    if (p.transaction_records >= cap_) {
      full_ = true;
      // A settling cooperative rebalance holds even a full share's commit (librdkafka#4059);
      // the partition gets no more room meanwhile, and the commit follows the hold.
      if (!due_ && !outputs_ && clock::now() >= hold_until_) {
        due_ = true;
        due_since_ = clock::now();
      }
    }
  }
}

void committer::start() {
  if (txn_)
    begin_transaction();
}

void committer::tick(clock::time_point now) {
  if (closing_)
    return;
  auto budget = std::max<std::chrono::milliseconds>(std::chrono::milliseconds{1000},
                                                    rt_.transaction_timeout / 3);
  if (outputs_) {
    tick_pipelined(now, budget);
    return;
  }
  if (!due_) {
    // A settling cooperative rebalance postpones commits (librdkafka#4059), but never
    // lets a transaction grow old.
    bool held = now < hold_until_ && (!txn_ || now - opened_at_ < budget / 2);
    if ((now < next_commit_ && !full_) || held)
      return;
    if (!txn_ && !rt_.stateful()) {
      commit_offsets(all_of(parts_), false);
      next_commit_ = now + rt_.commit_interval;
      return;
    }
    due_ = true;
    due_since_ = now;
  }
  if (!txn_) {
    complete_at_least_once(now);
    return;
  }
  if (everything_handled()) {
    bool full = full_;
    if (commit_transaction())
      adapt_cap(clock::now() - due_since_, full, budget);
    begin_transaction();
    due_ = false;
    next_commit_ = clock::now() + rt_.commit_interval;
    return;
  }
  if (now - due_since_ > budget) {
    logger().warn("transaction aborted: tasks did not finish {} records within {} ms "
                  "service={}; the next transactions take fewer",
                  txn_records_, budget.count(), rt_.service_name);
    abort_and_rewind();
    cap_ = std::max<std::int64_t>(cap_ / 4, 1);
    begin_transaction();
    due_ = false;
    next_commit_ = clock::now() + rt_.commit_interval;
  }
}

void committer::tick_pipelined(clock::time_point now, std::chrono::milliseconds budget) {
  auto& generations = outputs_->batch_generations();
  if (closed_ == 0) {
    bool held = now < hold_until_ && now - opened_at_ < budget / 2;
    if ((now < next_commit_ && !full_) || held)
      return;
    if (!open_)
      return;
    // Batches begun from now on belong to the next transaction: wait only for those
    // running, not for what the tasks still hold.
    closed_ = generations.close_current();
    closed_full_ = full_;
    txn_records_ = 0;
    full_ = false;
    for (auto& [key, p] : parts_)
      p.transaction_records = 0;
    due_since_ = now;
  }
  if (!committing_) {
    if (generations.quiet(closed_)) {
      launch_commit();
    } else if (now - due_since_ > budget) {
      logger().warn("transaction aborted: a batch did not finish within {} ms service={}",
                    budget.count(), rt_.service_name);
      abort_and_rewind();
      cap_ = std::max<std::int64_t>(cap_ / 4, 1);
      closed_ = 0;
      begin_transaction();
      reopen(generations.current());
      next_commit_ = clock::now() + rt_.commit_interval;
      return;
    }
  }
  if (committing_
      && committing_->wait_for(std::chrono::seconds{0}) == std::future_status::ready)
    complete_pipelined(budget);
}

void committer::launch_commit() {
  committing_offsets_.clear();
  if (halted()) {
    std::promise<txn_status> refused;
    refused.set_value(txn_status{false, false, true, false, false, "a partition failed"});
    committing_ = refused.get_future();
    return;
  }
  for (auto& [key, p] : parts_)
    if (auto offset = p.progress->handled_through(closed_); offset > p.committed)
      committing_offsets_.push_back({p.topic, p.partition, offset});
  committing_ = launch_([txn = txn_, offsets = committing_offsets_] {
    txn_status status;
    if (!offsets.empty())
      status = txn->send_offsets(offsets);
    for (int attempt = 0; status.ok && attempt < 3; ++attempt) {
      status = txn->commit();
      if (status.ok || !status.retriable || status.requires_abort)
        break;
      status = txn_status::success();
    }
    return status;
  });
}

void committer::complete_pipelined(std::chrono::milliseconds budget) {
  auto status = committing_->get();
  committing_.reset();
  auto next = closed_ + 1;
  if (status.ok) {
    open_ = false;
    for (auto& at : committing_offsets_)
      if (auto i = parts_.find({at.topic, at.partition}); i != parts_.end()) {
        auto& p = i->second;
        p.committed = std::max(p.committed, at.offset);
        // What was handed out after the closed generation is the next transaction's.
        p.transaction_start = p.dispatched_next > p.committed ? p.committed : -1;
      }
    rt_.counters.commits.fetch_add(1);
    adapt_cap(clock::now() - due_since_, closed_full_, budget);
    closed_ = 0;
    begin_transaction();
    reopen(next);
  } else if (status.fatal || !status.requires_abort) {
    closed_ = 0;
    fail(status, "commit_transaction");
    outputs_->drop_parked();
    return;
  } else {
    logger().warn("transaction aborted service={} error=\"{}\"", rt_.service_name,
                  status.message);
    abort_and_rewind();
    closed_ = 0;
    begin_transaction();
    reopen(outputs_->batch_generations().current());
  }
  next_commit_ = clock::now() + rt_.commit_interval;
}

void committer::adapt_cap(clock::duration took, bool full, std::chrono::milliseconds budget) {
  // Let the next transaction take as much as the tasks finish well inside its budget. A
  // fast pipeline grows fourfold, so it spends only its first few commits on tiny
  // transactions; slow handlers never come near the fast end.
  if (full && took < budget / 16)
    cap_ = std::min(cap_ * 4, max_transaction_cap);
  else if (full && took < budget / 4)
    cap_ = std::min(cap_ * 2, max_transaction_cap);
  else if (took > budget / 2)
    cap_ = std::max<std::int64_t>(cap_ / 2, 1);
}

void committer::reopen(std::uint64_t generation) {
  // Parked outputs may only go into an open transaction.
  if (open_)
    outputs_->open_generation(generation);
  else
    outputs_->drop_parked();
}

void committer::settle() {
  if (!outputs_ || closed_ == 0)
    return;
  auto budget = std::max<std::chrono::milliseconds>(std::chrono::milliseconds{1000},
                                                    rt_.transaction_timeout / 3);
  auto deadline = clock::now() + budget;
  while (!committing_ && !outputs_->batch_generations().quiet(closed_)
         && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  if (!committing_ && outputs_->batch_generations().quiet(closed_))
    launch_commit();
  if (committing_) {
    committing_->wait();
    complete_pipelined(budget);
    return;
  }
  abort_and_rewind();
  closed_ = 0;
  begin_transaction();
  reopen(outputs_->batch_generations().current());
}

void committer::complete_at_least_once(clock::time_point now) {
  auto complete = drained_numbers();
  bool everything = true;
  for (auto& [key, p] : parts_)
    everything = everything && p.drained();
  // Wait for a quiet point; a task that never gets there must not stop commits for good.
  if (!everything && now - due_since_ < rt_.shutdown_timeout)
    return;
  if (!everything)
    logger().warn("commit without a quiet point after {} ms service={}: stores of busy "
                  "partitions stay uncommitted",
                  rt_.shutdown_timeout.count(), rt_.service_name);
  if (!halted())
    states_.commit(complete, true);
  commit_offsets(all_of(parts_), false);
  due_ = false;
  next_commit_ = now + rt_.commit_interval;
}

void committer::on_revoke(const std::vector<assigned_partition*>& revoked, bool lost) {
  if (txn_) {
    settle();
    // Outputs of lost partitions must not commit; otherwise hand over a committed state.
    if (lost
        || !await_handled(std::max<std::chrono::milliseconds>(std::chrono::milliseconds{1000},
                                                              rt_.transaction_timeout / 3)))
      abort_and_rewind();
    else
      commit_transaction();
    begin_transaction();
    due_ = false;
    return;
  }
  if (lost)
    return;
  // Finish what the tasks hold, then commit it, so the next owner starts right after.
  if (!await_drained(revoked, rt_.shutdown_timeout))
    logger().warn("revoke: in-flight records not finished within {} ms service={}",
                  rt_.shutdown_timeout.count(), rt_.service_name);
  if (!halted())
    states_.commit(drained_numbers(), true);
  commit_offsets(revoked, true);
}

void committer::finish() {
  settle();
  closing_ = true;
  if (txn_) {
    if (open_ && everything_handled())
      commit_transaction();
    else
      abort_and_rewind();
    return;
  }
  if (!halted())
    states_.commit(drained_numbers(), true);
  commit_offsets(all_of(parts_), true);
}

void committer::commit_offsets(const std::vector<assigned_partition*>& which, bool sync) {
  std::vector<partition_offset> offsets;
  std::vector<std::pair<assigned_partition*, std::int64_t>> advanced;
  for (auto* p : which) {
    auto offset = p->progress->committable();
    if (offset > p->committed) {
      offsets.push_back({p->topic, p->partition, offset});
      advanced.emplace_back(p, offset);
    }
  }
  if (offsets.empty())
    return;
  if (auto done = group_.commit(offsets, sync); !done) {
    logger().warn("commit failed service={} error=\"{}\"", rt_.service_name,
                  done.error_value().message);
    return;
  }
  for (auto& [p, offset] : advanced)
    p->committed = offset;
  rt_.counters.commits.fetch_add(1);
}

std::set<std::int32_t> committer::drained_numbers() const {
  std::set<std::int32_t> busy;
  std::set<std::int32_t> result;
  for (auto& [key, p] : parts_)
    (p.drained() && !p.progress->failed() ? result : busy).insert(p.partition);
  for (auto number : busy)
    result.erase(number);
  return result;
}

bool committer::halted() {
  for (auto& [key, p] : parts_)
    if (p.progress->failed()) {
      rt_.failure.raise(error{errc::delivery_failed, key.first + "["
                                                       + std::to_string(key.second)
                                                       + "]: " + p.progress->failure_reason()});
      break;
    }
  return rt_.failure.raised();
}

bool committer::everything_handled() const {
  return std::all_of(parts_.begin(), parts_.end(),
                     [](const auto& entry) { return entry.second.handled_all(); });
}

bool committer::commit_transaction() {
  if (!open_)
    return false;
  auto failure = rt_.failure.first();
  if (failure && failure->code != errc::delivery_failed)
    return false; // the producer is unusable (fenced or fatal): nothing can commit any more
  txn_status status;
  if (!failure) {
    auto everything = all_of(parts_);
    if (rt_.journal && !rt_.journal->snapshot_topic.empty()) {
      // The transaction's own snapshot rows, at the journal offsets its events got.
      if (await_drained(everything, rt_.shutdown_timeout) && !halted())
        states_.produce_snapshots(states_.live());
      else
        status = txn_status{false,
                            false,
                            true,
                            false,
                            false,
                            "journal deliveries not reported "
                            "in time for the snapshot"};
    }
    std::vector<partition_offset> offsets;
    for (auto* p : everything)
      if (auto offset = p->progress->handled(); offset > p->committed)
        offsets.push_back({p->topic, p->partition, offset});
    if (status.ok && halted())
      status = txn_status{false, false, true, false, false, "a partition failed"};
    if (status.ok && !offsets.empty())
      status = txn_->send_offsets(offsets);
    for (int attempt = 0; status.ok && attempt < 3; ++attempt) {
      status = txn_->commit();
      if (status.ok) {
        open_ = false;
        for (auto* p : everything) {
          p->committed = std::max(p->committed, p->progress->handled());
          p->transaction_start = -1;
          p->transaction_records = 0;
        }
        txn_records_ = 0;
        full_ = false;
        rt_.counters.commits.fetch_add(1);
        if (rt_.stateful()) {
          // The SQLite transaction commits only after the Kafka one, once every delivery
          // report (and with it the journal offsets) is in.
          // A store left staged here would hold committed rows an abort could roll back.
          if (!await_drained(everything, rt_.shutdown_timeout) || halted())
            rt_.failure.raise(error{errc::delivery_failed,
                                    "deliveries of a committed transaction not reported in "
                                    "time; stores left uncommitted"});
          else
            states_.commit(drained_numbers(), false);
        }
        return true;
      }
      if (!status.retriable || status.requires_abort)
        break;
    }
  }
  if (!status.ok && (status.fatal || !status.requires_abort)) {
    fail(status, "commit_transaction");
    return false;
  }
  if (!status.ok)
    logger().warn("transaction aborted service={} error=\"{}\"", rt_.service_name,
                  status.message);
  abort_and_rewind();
  return false;
}

void committer::abort_and_rewind() {
  if (!open_)
    return;
  open_ = false;
  std::vector<assigned_partition*> touched;
  for (auto& [key, p] : parts_)
    if (p.transaction_start >= 0) {
      // First, so that no output of the aborted work reaches the next transaction.
      p.progress->retire();
      touched.push_back(&p);
    }
  if (auto status = txn_->abort(); !status.ok) {
    fail(status, "abort_transaction");
    return;
  }
  if (outputs_)
    outputs_->drop_parked();
  // The aborted outputs never happened: forget their effects on state, and hand the same
  // records to fresh tasks again (nothing buffered after them survives the rewind).
  states_.rollback_all();
  for (auto* p : touched) {
    if (auto moved = group_.seek({p->topic, p->partition, p->transaction_start}); !moved)
      rt_.failure.raise(error{errc::kafka_error, "rewind after an aborted transaction: "
                                                   + moved.error_value().message});
    restart_(*p);
    p->dispatched_next = -1;
    p->transaction_start = -1;
    p->transaction_records = 0;
  }
  txn_records_ = 0;
  full_ = false;
  ++aborts_;
  rt_.counters.transactions_aborted.fetch_add(1);
}

void committer::begin_transaction() {
  if (rt_.failure.raised() || closing_ || open_)
    return;
  if (auto status = txn_->begin(); !status.ok)
    fail(status, "begin_transaction");
  else {
    open_ = true;
    opened_at_ = clock::now();
  }
}

void committer::fail(const txn_status& status, const char* step) {
  rt_.failure.raise(error{status.fenced ? errc::fenced : errc::commit_failed,
                          std::string{step} + ": " + status.message});
  logger().error("transaction failed service={} step={} error=\"{}\" fatal={}",
                 rt_.service_name, step, status.message, status.fatal);
}

bool committer::await_drained(const std::vector<assigned_partition*>& which,
                              std::chrono::milliseconds limit) const {
  auto deadline = clock::now() + limit;
  while (!std::all_of(which.begin(), which.end(), [](auto* p) { return p->drained(); })) {
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  return true;
}

bool committer::await_handled(std::chrono::milliseconds limit) const {
  auto deadline = clock::now() + limit;
  while (!everything_handled()) {
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  return true;
}

} // namespace eddy::detail
