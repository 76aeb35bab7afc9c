#pragma once

/// @file
/// The shop demo's own Kafka client: creating topics, placing a consumer group at the end of
/// topics, describing a group, and producing the events the demo seeds and publishes.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/codegen/runtime.hpp>
#include <eddy/internal/kafka.hpp>
#include <eddy/record.hpp>

namespace shop_demo {

/// What a consumer group's coordinator says about the group.
struct group_view {
  /// The group's state by name, e.g. "Stable", "PreparingRebalance", "Empty".
  std::string state;
  /// Whether the state is Stable: no rebalance in progress.
  bool stable = false;
  /// How many members the group has.
  int members = 0;
  /// Members with at least one partition.
  int members_with_partitions = 0;
  /// The partitions assigned to the members, by topic.
  std::map<std::string, std::set<std::int32_t>> assigned;
};

/// One connection to the cluster for everything the demo does on Kafka itself.
///
/// Every call throws std::runtime_error, naming what failed, when the cluster refuses or
/// does not answer. `send()` may be called from any thread; the other functions from one.
class kafka_admin {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Connects to `bootstrap`; throws if the cluster does not answer within `timeout`.
  kafka_admin(std::string bootstrap, std::chrono::milliseconds timeout);

  /// Waits briefly for queued events, then disconnects.
  ~kafka_admin();

  kafka_admin(const kafka_admin&) = delete;
  kafka_admin& operator=(const kafka_admin&) = delete;

  // -- topics and groups ------------------------------------------------------------------

  /// Creates the missing topics among `topics` (existing ones must have the stated
  /// partition count) and waits until all are visible.
  void create_topics(const std::vector<eddy::internal::topic_spec>& topics);

  /// The names of the topics the cluster has.
  std::vector<std::string> topic_names();

  /// Commits, for consumer group `group`, the current end offset of every partition of
  /// `topics`, so that members of the group (which must have none yet) start there rather
  /// than at the start of the topics' history.
  void start_group_at_end(const std::string& group, const std::vector<std::string>& topics);

  /// Describes consumer group `group` (an unknown group is "Dead" with no members).
  group_view describe_group(const std::string& group);

  // -- reading ----------------------------------------------------------------------------

  /// The end offset of every partition of `topic`, by partition.
  std::map<std::int32_t, std::int64_t> end_offsets(const std::string& topic);

  /// Reads `topic` from the offsets `from` (by partition) as a member of no group (`group`
  /// only names the reader; nothing is committed) and returns the records' keys that are
  /// among `keys`; stops once it found them all or after `timeout`.
  std::set<std::string> find_keys(const std::string& topic, const std::string& group,
                                  const std::map<std::int32_t, std::int64_t>& from,
                                  const std::set<std::string>& keys,
                                  std::chrono::milliseconds timeout);

  // -- producing --------------------------------------------------------------------------

  /// Queues `event` on `topic` under `key`, as generated code emits it: with the
  /// `eddy.type` header, partitioned by murmur2 of the key.
  template <class Event>
  void send(std::string_view topic, std::string key, const Event& event) {
    send(eddy::codegen::encode(topic, std::move(key), event));
  }

  /// Queues `rec` (topic, key, value, headers); waits while the local queue is full.
  void send(const eddy::record& rec);

  /// Waits until every queued record is delivered or failed; throws if any failed.
  void flush(std::chrono::milliseconds timeout);

  /// Records that could not be delivered so far.
  std::int64_t failed_deliveries() const;

private:
  struct delivery_counter;

  std::string bootstrap_;
  std::unique_ptr<delivery_counter> deliveries_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

} // namespace shop_demo
