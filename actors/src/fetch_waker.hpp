#pragma once

// Keeps a consumer fetching at full speed on librdkafka 2.0.2, whose fetcher idles for up
// to a second whenever its queue has filled (see fetch_stall.hpp for the mechanism). Every
// consumer of the runtime reads through one: the poll loop, the restorer's reader and the
// global tables' reader.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "fetch_stall.hpp"
#include "kafka_ports.hpp"

namespace eddy::detail {

/// Wakes the fetchers of one consumer by seeking partitions to their positions, and answers
/// positions as if it had not: librdkafka forgets a partition's position at a seek until
/// its next record is consumed.
class fetch_waker {
public:
  /// Reads the queue limits `consumer` was configured with.
  explicit fetch_waker(RdKafka::KafkaConsumer& consumer);

  /// Like `consumer.consume(timeout_ms)`, but when the queue is found empty after a run that
  /// may have stopped the fetcher, wakes every assigned partition's fetcher first.
  std::unique_ptr<RdKafka::Message> consume(int timeout_ms);

  /// For a caller that consumes itself: counts a record it consumed.
  void consumed(RdKafka::Message& message);

  /// For a caller that consumes itself: it found the queue empty. True if the fetchers of
  /// the running partitions should be woken now (with `wake`).
  bool drained() { return watch_.drained(); }

  /// Seeks `partitions` to their positions, which wakes their fetchers at once; partitions
  /// without a position are left alone. Only for partitions none of whose records are
  /// queued (an empty queue, or a partition just resumed after a pause): what the seek
  /// finds queued is dropped and fetched again. False if a seek was refused.
  bool wake(partition_list& partitions);

  /// Sets the offsets of `partitions` to their positions, as `consumer.position` does, but
  /// also for a partition whose position a wake-up seek reset (its sought offset).
  void positions(std::vector<RdKafka::TopicPartition*>& partitions);

  /// The position of one partition (see `positions`); negative if it has none.
  std::int64_t position(const std::string& topic, std::int32_t partition);

  /// Notes that `partition` was sought to `offset` by someone else (a rewind), so a later
  /// position answer is that offset, not what a wake-up sought before.
  void note_seek(const std::string& topic, std::int32_t partition, std::int64_t offset);

  /// Forgets what wake-ups sought for `partitions` (they are revoked or newly assigned), or
  /// for every partition.
  void forget(const std::vector<RdKafka::TopicPartition*>& partitions);
  void forget_all() { sought_.clear(); }

private:
  struct sought_offset {
    std::string topic;
    std::int32_t partition;
    std::int64_t offset;
  };

  /// The entry of `topic`/`partition` in `sought_`, or its end.
  std::vector<sought_offset>::iterator find(std::string_view topic, std::int32_t partition);
  void set_sought(const std::string& topic, std::int32_t partition, std::int64_t offset);

  RdKafka::KafkaConsumer& consumer_;
  fetch_stall_watch watch_;
  /// Offsets sought, per partition, until the partition's next record. A few entries at
  /// most (one per assigned partition), searched without building a string per record.
  std::vector<sought_offset> sought_;
};

} // namespace eddy::detail
