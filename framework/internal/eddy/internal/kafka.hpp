#pragma once

// Internal to Eddy (not installed, not for service code): librdkafka plumbing shared by the
// runtime, the tests and the tools — building clients from a config, waiting for the
// cluster, and creating and describing topics through the admin API.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/config.hpp>
#include <eddy/error.hpp>

namespace eddy::internal {

/// A topic a service needs, with the partition count it must have.
struct topic_spec {
  std::string name;
  /// Partition count; 0 means any (a missing topic is then created with one partition).
  int partitions = 1;
  /// Replication factor; -1 lets the broker choose its default.
  int replication_factor = -1;
  /// Topic configs used when creating it, e.g. cleanup.policy=compact.
  std::map<std::string, std::string> configs;
};

/// Builds a librdkafka configuration for `kind` from `cfg`, with Eddy's defaults under it.
/// The error names the property librdkafka rejected.
expected<std::unique_ptr<RdKafka::Conf>> make_conf(const config& cfg, client_kind kind);

/// Logs a librdkafka log line or client error event through Eddy's structured log (what
/// the event callback `make_conf` installs does); other events are ignored. For callbacks
/// that replace it to handle more events.
void log_event(RdKafka::Event& event);

/// Creates a producer from `conf`; the error carries librdkafka's reason.
expected<std::unique_ptr<RdKafka::Producer>> make_producer(RdKafka::Conf& conf);

/// Creates a consumer-group member from `conf`.
expected<std::unique_ptr<RdKafka::KafkaConsumer>> make_consumer(RdKafka::Conf& conf);

/// Waits until the cluster answers a metadata request, for at most `timeout`.
expected<void> wait_for_cluster(RdKafka::Handle& handle, std::chrono::milliseconds timeout);

/// Returns the partition count of `topic`, or an error if it does not exist (yet).
expected<int> partition_count(RdKafka::Handle& handle, const std::string& topic,
                              std::chrono::milliseconds timeout);

/// Creates the missing topics among `topics` and checks that existing ones have the
/// stated partition count. Waits until every topic is visible in metadata.
expected<void> ensure_topics(RdKafka::Handle& handle, const std::vector<topic_spec>& topics,
                             std::chrono::milliseconds timeout);

/// The configs of `topic` as the broker reports them (DescribeConfigs), defaults included:
/// name → value (empty for a value the broker withholds). Fails with `errc::topic_error`
/// when the request fails or gets no answer within `timeout`, or the topic does not exist.
expected<std::map<std::string, std::string>>
describe_topic_configs(RdKafka::Handle& handle, const std::string& topic,
                       std::chrono::milliseconds timeout);

/// Why a topic with the broker configs `configs` (as `describe_topic_configs` returns them)
/// does not keep every record forever, naming each setting and its value, e.g.
/// "retention.ms=604800000 (cleanup.policy=delete removes older records)"; nullopt when
/// it keeps them all (cleanup.policy without compact, and delete only with retention.ms=-1
/// and retention.bytes=-1). A setting missing from `configs` counts as a reason.
std::optional<std::string> history_loss(const std::map<std::string, std::string>& configs);

} // namespace eddy::internal
