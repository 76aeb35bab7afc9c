#pragma once

// The narrow views of Kafka that the runtime's roles speak through (internal to the
// runtime): what the committer needs of the group consumer and of the transactional
// producer, and what the restorer needs to read partitions from a given offset. The real
// ones wrap librdkafka (kafka_ports.cpp); unit tests drive the roles through fakes, with no
// broker and no sleeps.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>
#include <eddy/record.hpp>

namespace eddy::detail {

class sink;

/// A position in a topic partition.
struct partition_offset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1;
};

/// The outcome of a transactional call, classified as librdkafka classifies it.
struct txn_status {
  bool ok = true;
  /// The same call may be tried again.
  bool retriable = false;
  /// The transaction can only be aborted now.
  bool requires_abort = false;
  /// The producer is unusable; the service must stop.
  bool fatal = false;
  /// Another producer or group member took over (a fatal kind).
  bool fenced = false;
  std::string message;

  static txn_status success() { return {}; }
};

// -- the group consumer, as the committer and the poll loop use it --------------------------

class group_port {
public:
  virtual ~group_port() = default;

  /// Commits `offsets` (next offsets to read) for the consumer group; `sync` waits for the
  /// coordinator's answer.
  virtual expected<void> commit(const std::vector<partition_offset>& offsets, bool sync) = 0;

  /// Moves the next fetch of a partition to `at.offset`.
  virtual expected<void> seek(const partition_offset& at) = 0;
};

// -- the transactional producer, as the exactly_once committer uses it ----------------------

class transaction_port {
public:
  virtual ~transaction_port() = default;

  virtual txn_status begin() = 0;

  /// Adds the consumed `offsets` to the open transaction, for the group's current
  /// generation (a member that lost its place is refused).
  virtual txn_status send_offsets(const std::vector<partition_offset>& offsets) = 0;

  /// Commits the open transaction (flushing its outputs first).
  virtual txn_status commit() = 0;

  /// Aborts the open transaction; outputs produced into it are never visible to
  /// read_committed readers. No output of the aborted work is produced once it returns.
  virtual txn_status abort() = 0;
};

// -- reading partitions from an offset, as the restorer does ------------------------------

/// One read from a `log_reader`.
struct log_read {
  enum class kind {
    /// `rec` holds a record (`value_null` tells a tombstone from an empty value).
    record,
    /// The reader reached the current end of `rec.topic`/`rec.partition`.
    end_of_partition,
    /// Nothing arrived within the timeout.
    nothing,
    /// A transient error; `message` says which.
    error,
  };
  kind what = kind::nothing;
  record rec;
  bool value_null = false;
  std::string message;
};

class log_reader {
public:
  virtual ~log_reader() = default;

  /// The low (first offset still held) and high (next offset to be written) watermarks.
  virtual expected<std::pair<std::int64_t, std::int64_t>>
  watermarks(const std::string& topic, std::int32_t partition) = 0;

  /// Reads exactly `from` from now on (each at its offset), replacing earlier ones.
  virtual void assign(const std::vector<partition_offset>& from) = 0;

  /// The next read, waiting at most `timeout`; reuses `into`'s buffers.
  virtual void next(log_read& into, std::chrono::milliseconds timeout) = 0;

  /// The next offset the reader would read from a partition (past transaction markers and
  /// aborted records), or -1 if unknown.
  virtual std::int64_t position(const std::string& topic, std::int32_t partition) = 0;

  /// Stops reading every partition.
  virtual void unassign() = 0;
};

// -- the librdkafka implementations ---------------------------------------------------------

class fetch_waker;

/// The group consumer's commits and seeks. A seek is told to `waker` (if any), whose
/// position answers then follow it.
class kafka_group_port final : public group_port {
public:
  explicit kafka_group_port(RdKafka::KafkaConsumer& consumer, fetch_waker* waker = nullptr)
    : consumer_(consumer),
      waker_(waker) {}
  expected<void> commit(const std::vector<partition_offset>& offsets, bool sync) override;
  expected<void> seek(const partition_offset& at) override;

private:
  RdKafka::KafkaConsumer& consumer_;
  fetch_waker* waker_;
};

/// The sink's transactional producer, for the group of `consumer`. Each call waits at most
/// `timeout`; `abort` tries twice before it reports failure, and closes the sink's produce
/// gate while it runs, so no output of the aborted work slips past it.
class kafka_transaction_port final : public transaction_port {
public:
  kafka_transaction_port(sink& out, RdKafka::KafkaConsumer& consumer,
                         std::chrono::milliseconds timeout)
    : out_(out),
      consumer_(consumer),
      timeout_(timeout) {}
  txn_status begin() override;
  txn_status send_offsets(const std::vector<partition_offset>& offsets) override;
  txn_status commit() override;
  txn_status abort() override;

private:
  sink& out_;
  RdKafka::KafkaConsumer& consumer_;
  std::chrono::milliseconds timeout_;
};

/// A consumer outside the group (partition EOF events on), for restores.
class kafka_log_reader final : public log_reader {
public:
  explicit kafka_log_reader(std::unique_ptr<RdKafka::KafkaConsumer> consumer);
  ~kafka_log_reader() override;
  expected<std::pair<std::int64_t, std::int64_t>> watermarks(const std::string& topic,
                                                             std::int32_t partition) override;
  void assign(const std::vector<partition_offset>& from) override;
  void next(log_read& into, std::chrono::milliseconds timeout) override;
  std::int64_t position(const std::string& topic, std::int32_t partition) override;
  void unassign() override;

private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<fetch_waker> fetch_;
};

/// Appends the headers of `raw` to `out`, in the order they were written.
void append_headers(rd_kafka_message_t* raw, std::vector<header>& out);

/// Owns the TopicPartition objects of a list built for a librdkafka call.
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  partition_list() = default;
  explicit partition_list(const std::vector<partition_offset>& offsets);
  partition_list(const partition_list&) = delete;
  partition_list& operator=(const partition_list&) = delete;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
};

} // namespace eddy::detail
