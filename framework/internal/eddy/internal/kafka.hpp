#pragma once

// Internal to Eddy (not installed, not for service code): librdkafka plumbing shared by the
// runtime, the tests and the tools — building clients from a config, waiting for the
// cluster, and creating topics through the admin API.

#include <chrono>
#include <map>
#include <memory>
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

} // namespace eddy::internal
