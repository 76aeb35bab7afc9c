#pragma once

/// @file
/// Which orders instance owns which partition, so that a request for any order can be
/// answered by any instance. Every instance publishes an `instance_entry` (its HTTP
/// endpoint and the partitions the consumer group assigned it) to a compacted registry
/// topic, keyed by instance id, whenever its assignment changes and as a heartbeat; every
/// instance reads the topic as a global table into an `instance_registry`.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <eddy/record.hpp>

namespace shop {

/// One instance's registry record.
struct instance_entry {
  /// The consumer group the instance belongs to; entries of other groups are ignored, so
  /// that several deployments (or test runs) may share the registry topic.
  std::string group;
  /// The base URL other instances forward to, e.g. `http://10.0.0.7:8080`.
  std::string endpoint;
  /// The partitions of the orders topic assigned to the instance, sorted.
  std::vector<std::int32_t> partitions;
  /// When the instance took this assignment (ms since the epoch, its clock): where two
  /// entries claim a partition during a rebalance, the newer assignment is tried first.
  std::int64_t assigned_ms = 0;
};

/// The value of `entry` in the registry topic (JSON).
std::string encode_entry(const instance_entry& entry);

/// Reads a registry value; nullopt if it is not a well-formed entry.
std::optional<instance_entry> decode_entry(const std::string& value);

/// The live entries of one consumer group, built from the registry topic's records.
/// An entry is live while it has been refreshed within the time to live; an instance that
/// stops cleanly deletes its entry (a tombstone), one that crashes expires. Thread-safe:
/// `apply` runs on the runtime's table thread, `owners_of` on request threads.
class instance_registry {
public:
  /// Keeps entries of `group`, except the one of `self` (this instance), alive for `ttl`
  /// after their latest record.
  instance_registry(std::string self, std::string group, std::chrono::milliseconds ttl);

  /// Applies one record of the registry topic (key: instance id; empty value: deletion).
  void apply(const eddy::record& rec);

  /// The endpoints of the other live instances claiming `partition`, newest assignment
  /// first. Empty when no other instance is known to own it.
  std::vector<std::string> owners_of(std::int32_t partition) const;

  /// The number of live instances of the group known, this one excluded.
  std::size_t size() const;

private:
  struct live_entry {
    instance_entry entry;
    std::chrono::steady_clock::time_point seen;
  };

  bool live(const live_entry& e, std::chrono::steady_clock::time_point now) const;

  std::string self_;
  std::string group_;
  std::chrono::milliseconds ttl_;
  mutable std::mutex mtx_;
  std::map<std::string, live_entry> entries_;
};

} // namespace shop
