#pragma once

// Test support shared by unit (mock cluster) and integration (real broker) tests: finding
// the local broker, unique topic names, bulk produce and consume, committed offsets, and
// running a service on a thread of its own.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <eddy/record.hpp>
#include <eddy/service.hpp>

namespace eddy::test {

/// The bootstrap address of the local broker started by tools/kafka/kafka-local:
/// EDDY_KAFKA_BOOTSTRAP_SERVERS if set, else the file the launcher writes. Throws with a
/// hint to start the broker when neither exists.
std::string broker_bootstrap();

/// A name unique to this process and call, e.g. "passthrough-in-4711-3".
std::string unique_name(const std::string& prefix);

/// Creates `topic` with `partitions` partitions on a real broker (replication factor 1)
/// and the topic configs `configs`, e.g. {{"cleanup.policy", "compact"}}. An existing topic
/// is kept as it is, if it has `partitions` partitions; else this throws.
void create_topic(const std::string& bootstrap, const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& configs = {});

/// A producer for test data: murmur2 partitioning like Eddy, large batches, and a count of
/// failed deliveries that `flush()` turns into an exception.
class test_producer {
public:
  explicit test_producer(const std::string& bootstrap);
  ~test_producer();

  /// Queues one record, waiting while the local queue is full.
  void send(const std::string& topic, const std::string& key, const std::string& value);

  /// Queues `r` to `r.topic` (and `r.partition` unless -1) as written: a null key or
  /// value stays null, headers included.
  void send(const record& r);

  /// Waits until everything queued is delivered; throws if any delivery failed.
  void flush();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Produces records `first` .. `first + count - 1` to `topic`; record i gets key
/// `key_of(i)` and value `value_of(i)`. Waits until all are delivered; throws on any
/// delivery failure.
void produce(const std::string& bootstrap, const std::string& topic, std::int64_t count,
             const std::function<std::string(std::int64_t)>& key_of,
             const std::function<std::string(std::int64_t)>& value_of, std::int64_t first = 0);

/// Reads `topic` from the beginning until it has at least `expected` records and has
/// reached the end of every partition, or nothing new came for `idle_timeout`; returns what
/// it read, in arrival order.
/// With `read_committed`, records of aborted or open transactions are skipped. Null keys
/// and values are reported as such (`record::key_null`, `record::value_null`).
std::vector<record> consume(const std::string& bootstrap, const std::string& topic,
                            std::int64_t expected,
                            std::chrono::milliseconds idle_timeout = std::chrono::seconds{10},
                            bool read_committed = false);

/// The value of config `key` of `topic` as the broker reports it (DescribeConfigs).
std::string topic_config(const std::string& bootstrap, const std::string& topic,
                         const std::string& key);

/// Sum over partitions of the offsets `group` committed for `topic` (0 for none).
std::int64_t committed_total(const std::string& bootstrap, const std::string& group,
                             const std::string& topic, int partitions);

/// Commits, for the consumer group `group`, the current end offset of every partition of
/// `topic`, so that the group's members start there instead of where `auto.offset.reset`
/// says: for tests on topics shared with other runs that read only what comes next. The
/// group must have no members.
void commit_end_offsets(const std::string& bootstrap, const std::string& group,
                        const std::string& topic, int partitions);

/// The configuration of a service under test on librdkafka's mock cluster at `bootstrap`:
/// quick commits (100 ms) and a short start-up timeout (5 s).
eddy::config mock_service_config(const std::string& bootstrap);

/// Runs a service's `run()` on a thread of its own; `stop_and_join()` stops it gracefully.
class service_thread {
public:
  explicit service_thread(eddy::service& svc);
  ~service_thread();

  /// Waits until the service is running and has at least `partitions` partitions, each
  /// with its state restored.
  bool wait_assigned(std::int64_t partitions,
                     std::chrono::milliseconds timeout = std::chrono::seconds{30});

  /// Requests a stop, joins, and returns what `run()` returned.
  expected<void> stop_and_join();

private:
  eddy::service& svc_;
  std::thread thread_;
  std::unique_ptr<expected<void>> outcome_;
};

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

} // namespace eddy::test
