#include "partition_progress.hpp"

namespace eddy::detail {

std::int64_t partition_progress::committable() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return committable_;
}

void partition_progress::rewind(std::int64_t offset) {
  std::lock_guard<std::mutex> guard{mtx_};
  committable_ = offset;
  handled_.store(offset);
}

std::string partition_progress::failure_reason() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failure_reason_;
}

std::pair<std::string, std::int32_t> partition_progress::source() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {source_topic_, source_partition_};
}

void partition_progress::set_source(std::string topic, std::int32_t partition) {
  std::lock_guard<std::mutex> guard{mtx_};
  source_topic_ = std::move(topic);
  source_partition_ = partition;
}

partition_progress::ticket* partition_progress::open(std::int64_t next_offset,
                                                     std::int64_t records) {
  auto t = std::make_unique<ticket>();
  t->owner = this;
  t->owner_ref = shared_from_this();
  t->next_offset = next_offset;
  t->records = records;
  std::lock_guard<std::mutex> guard{mtx_};
  open_tickets_.push_back(std::move(t));
  return open_tickets_.back().get();
}

void partition_progress::release(ticket* t, const std::string& error) {
  if (!error.empty()) {
    std::lock_guard<std::mutex> guard{t->owner->mtx_};
    t->failed = true;
    if (!t->owner->failed_.exchange(true))
      t->owner->failure_reason_ = error;
  }
  if (t->pending.fetch_sub(1) == 1) {
    // complete() may destroy the ticket and with it the last other reference to the owner.
    auto keep_alive = t->owner_ref;
    keep_alive->complete(t);
  }
}

void partition_progress::complete(ticket* t) {
  std::lock_guard<std::mutex> guard{mtx_};
  t->done = true;
  // A failed batch blocks the offset forever: the records after it may be processed, but
  // their offsets are never committed, so a restart handles the failed batch again.
  while (!open_tickets_.empty() && open_tickets_.front()->done
         && !open_tickets_.front()->failed) {
    committable_ = open_tickets_.front()->next_offset;
    in_flight_.fetch_sub(open_tickets_.front()->records);
    open_tickets_.pop_front();
  }
  if (failed_.load()) {
    // Still release the credit of completed batches behind the failure so the source is
    // not left waiting on them during the stop that follows.
    for (auto& open : open_tickets_)
      if (open->done) {
        in_flight_.fetch_sub(open->records);
        open->records = 0;
        open->owner_ref.reset(); // break the cycle: this ticket is never popped
      }
  }
}

} // namespace eddy::detail
