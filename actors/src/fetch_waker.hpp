#pragma once

// Keeps a consumer fetching at full speed on librdkafka 2.0.2, whose fetcher idles for up
// to a second whenever its queue has filled (see fetch_stall.hpp for the mechanism). Every
// consumer of the runtime reads through one: the poll loop, the restorer's reader and the
// global tables' reader.

#include <cstdint>
#include <memory>

#include <librdkafka/rdkafkacpp.h>

#include "fetch_stall.hpp"
#include "kafka_ports.hpp"

namespace eddy::detail {

class fetch_waker {
public:
  /// Reads the queue limits `consumer` was configured with.
  explicit fetch_waker(RdKafka::KafkaConsumer& consumer);

  /// Like `consumer.consume(timeout_ms)`, but when the queue is found empty after a run that
  /// may have stopped the fetcher, wakes every assigned partition's fetcher first.
  std::unique_ptr<RdKafka::Message> consume(int timeout_ms);

  /// For a caller that consumes itself: counts a record it consumed.
  void consumed(const RdKafka::Message& message) { watch_.consumed(message.len()); }

  /// For a caller that consumes itself: it found the queue empty. True if the fetchers of
  /// the running partitions should be woken now (with `wake`).
  bool drained() { return watch_.drained(); }

  /// Seeks `partitions` to their positions, which wakes their fetchers at once; partitions
  /// without a position are left alone. Only for partitions none of whose records are
  /// queued (an empty queue, or a partition just resumed after a pause): what the seek
  /// finds queued is dropped and fetched again. False if a seek failed.
  bool wake(partition_list& partitions);

  /// How often fetchers were woken after a possible stall.
  std::int64_t wakeups() const { return wakeups_; }

private:
  RdKafka::KafkaConsumer& consumer_;
  fetch_stall_watch watch_;
  std::int64_t wakeups_ = 0;
};

} // namespace eddy::detail
