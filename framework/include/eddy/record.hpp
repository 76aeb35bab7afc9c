#pragma once

/// @file
/// The unit of data that flows through a service: one Kafka record, decoded into owned
/// strings so that it can safely cross actor boundaries.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy {

/// A Kafka record header: a name and an opaque byte value.
using header = std::pair<std::string, std::string>;

/// One record consumed from (or to be produced to) a Kafka topic.
struct record {
  /// Topic the record was read from.
  std::string topic;
  /// Partition the record was read from.
  std::int32_t partition = -1;
  /// Offset of the record within its partition.
  std::int64_t offset = -1;
  /// Record timestamp in milliseconds since the epoch, or -1 if unknown.
  std::int64_t timestamp_ms = -1;
  /// Record key; empty when the record has no key.
  std::string key;
  /// Record value (payload).
  std::string value;
  /// Record headers in the order they were written.
  std::vector<header> headers;

  /// Returns the value of the first header named `name`, or nullptr if there is none.
  const std::string* find_header(const std::string& name) const {
    for (auto& h : headers)
      if (h.first == name)
        return &h.second;
    return nullptr;
  }
};

/// The partition of `key` among `partitions`, as Kafka's Java clients and Eddy's producers
/// choose it (murmur2 of the key bytes, positive, modulo the count). Services use it to
/// find which instance owns a key.
std::int32_t partition_for(std::string_view key, std::int32_t partitions) noexcept;

} // namespace eddy
