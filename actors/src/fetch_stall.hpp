#pragma once

// Spots when librdkafka 2.0.2 has stopped fetching because its local queue was full, so the
// poll loop can wake the fetcher at once instead of losing up to a second.
//
// librdkafka stops fetching a partition while the consumer's queue holds at least
// `queued.min.messages` records or `queued.max.messages.kbytes` of payload (the queues of
// all partitions are forwarded into one, so the whole queue counts). Nothing wakes the
// broker thread when the application drains the queue: it looks again only after its next
// one-second wait (confluentinc/librdkafka#2879; `fetch.queue.backoff.ms`, which bounds
// that wait, exists only from 2.2). A service that consumes faster than one queue-full per
// second therefore runs in bursts, idle most of every second.
//
// The fetcher can only have stopped if the queue reached a limit, and then the application
// consumes at least that many records (or bytes) before it next finds the queue empty. So a
// run of records between two empty polls that reaches a limit is the mark of a possible
// stall; seeking the running partitions to their positions at that moment (the queue is
// empty, so nothing queued is dropped) wakes the broker thread, which decides again and
// fetches.

#include <cstddef>
#include <cstdint>

namespace eddy::detail {

class fetch_stall_watch {
public:
  /// The consumer's queue limits: `queued.min.messages` and `queued.max.messages.kbytes`.
  fetch_stall_watch(std::int64_t queued_min_messages, std::int64_t queued_max_kbytes)
    // A little below the limits: librdkafka checks them before each fetch, and a fetch
    // response can overshoot; the payload bytes it counts are the values' lengths.
    : record_mark_(queued_min_messages * 9 / 10),
      byte_mark_(queued_max_kbytes * 1024 * 9 / 10) {}

  /// Counts a record consumed, with its value's length.
  void consumed(std::size_t value_bytes) {
    ++records_;
    bytes_ += static_cast<std::int64_t>(value_bytes);
  }

  /// The poll found the queue empty: true if the run of records since the last empty poll
  /// was long enough that the fetcher may have stopped. Starts a new run either way.
  bool drained() {
    bool stalled = records_ >= record_mark_ || bytes_ >= byte_mark_;
    records_ = 0;
    bytes_ = 0;
    return stalled;
  }

private:
  std::int64_t record_mark_;
  std::int64_t byte_mark_;
  std::int64_t records_ = 0;
  std::int64_t bytes_ = 0;
};

} // namespace eddy::detail
