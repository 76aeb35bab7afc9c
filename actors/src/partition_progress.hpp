#pragma once

// Commit bookkeeping and credit for one assigned partition (internal to the runtime).
//
// The source counts records it hands to the partition's task (`add_in_flight`). The task
// opens a ticket per batch, in offset order, and every record it emits for that batch
// holds the ticket until its delivery report arrives. A ticket completes when the batch is
// handled and all its outputs are delivered; the committable offset then advances over the
// completed prefix of tickets only, so an offset is never committed ahead of processing.
// Threads: tickets are opened on the task's thread, released on the task's thread or the
// producer's delivery thread, and the source reads committable()/in_flight() on its own.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace eddy::detail {

class partition_progress : public std::enable_shared_from_this<partition_progress> {
public:
  /// One batch of records: completes when `pending` drops to zero.
  struct ticket {
    partition_progress* owner;
    /// Keeps the owner alive while deliveries are outstanding, even after revocation.
    std::shared_ptr<partition_progress> owner_ref;
    std::int64_t next_offset;
    std::int64_t records;
    std::atomic<int> pending{1};
    bool done = false;
    bool failed = false;
    /// The transaction generation the batch belongs to (see generations.hpp).
    std::uint64_t generation = 0;
  };

  // -- source side ------------------------------------------------------------------------

  /// Counts `n` records handed to the task.
  void add_in_flight(std::int64_t n) noexcept { in_flight_.fetch_add(n); }

  /// Records handed to the task whose batch has not completed yet.
  std::int64_t in_flight() const noexcept { return in_flight_.load(); }

  /// The offset to commit (one past the last completed record), or -1 if none yet.
  std::int64_t committable() const;

  /// One past the last record the task has handled (its outputs may still be in flight),
  /// or -1. In exactly_once the transaction commit delivers those outputs.
  std::int64_t handled() const noexcept { return handled_.load(); }

  /// One past the last record handled by a batch of generation `g`, or -1 if none was;
  /// valid once no batch of `g` runs (only `g` and the next generation are tracked).
  std::int64_t handled_through(std::uint64_t g) const noexcept {
    auto& slot = by_generation_[g & 1];
    return slot.generation.load() == g ? slot.next.load() : -1;
  }

  /// True once a delivery for this partition failed; the offset then stops advancing.
  bool failed() const noexcept { return failed_.load(); }

  /// Sets the committable offset back to `offset`; only valid with no open ticket (after
  /// a drain), when an aborted transaction undid the work after it.
  void rewind(std::int64_t offset);

  /// Retires this progress: its task's work is being undone (an aborted transaction), so
  /// the task drops the batches it has not begun and the sink drops their outputs.
  void retire() noexcept { retired_.store(true); }

  /// True once retired.
  bool retired() const noexcept { return retired_.load(); }

  /// The reason of the first failure.
  std::string failure_reason() const;

  /// The topic and partition whose records the tickets cover, once the task has set them
  /// (an empty topic before); named in dead letters of refused outputs.
  std::pair<std::string, std::int32_t> source() const;

  // -- task side --------------------------------------------------------------------------

  /// Names the topic and partition the tickets cover; the task calls it before it emits.
  void set_source(std::string topic, std::int32_t partition);

  /// Opens a ticket for a batch ending before `next_offset`, holding one reference that
  /// the task drops with `release` once it has handled the whole batch. The progress must
  /// be owned by a shared_ptr.
  ticket* open(std::int64_t next_offset, std::int64_t records);

  /// Marks the ticket's batch as handled by the task (called before its `release`).
  void mark_handled(const ticket* t) noexcept {
    handled_.store(t->next_offset);
    auto& slot = by_generation_[t->generation & 1];
    slot.next.store(t->next_offset);
    slot.generation.store(t->generation);
  }

  /// Adds a reference for one emitted record awaiting delivery.
  static void hold(ticket* t) noexcept { t->pending.fetch_add(1); }

  /// Drops a reference; `error` is empty on success. The last one completes the ticket.
  static void release(ticket* t, const std::string& error = {});

private:
  void complete(ticket* t);

  mutable std::mutex mtx_;
  std::deque<std::unique_ptr<ticket>> open_tickets_;
  std::int64_t committable_ = -1;
  std::string failure_reason_;
  std::string source_topic_;
  std::int32_t source_partition_ = -1;
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> handled_{-1};
  std::atomic<bool> failed_{false};
  std::atomic<bool> retired_{false};
  struct generation_slot {
    std::atomic<std::uint64_t> generation{0};
    std::atomic<std::int64_t> next{-1};
  };
  generation_slot by_generation_[2];
};

} // namespace eddy::detail
