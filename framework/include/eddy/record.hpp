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

/// The null key for `context::emit`: a view whose `data()` is null. Any other view, even
/// an empty one (`""`, an empty std::string), is a key that is present.
inline constexpr std::string_view no_key{};

/// One record consumed from (or to be produced to) a Kafka topic.
///
/// Kafka tells a null key or value from an empty one, and so does a record: `key_null` and
/// `value_null` say which it is. A null value is a tombstone (a deletion on a compacted
/// topic, and in tables); an empty one is a value like any other, e.g. a Protobuf message
/// whose fields all have their defaults.
struct record {
  /// Topic the record was read from.
  std::string topic;
  /// Partition the record was read from.
  std::int32_t partition = -1;
  /// Offset of the record within its partition.
  std::int64_t offset = -1;
  /// Record timestamp in milliseconds since the epoch, or -1 if unknown.
  std::int64_t timestamp_ms = -1;
  /// Record key; empty when the key is empty or null (see `key_null`).
  std::string key;
  /// Record value (payload); empty when the value is empty or null (see `value_null`).
  std::string value;
  /// Record headers in the order they were written.
  std::vector<header> headers;
  /// True if the record has no key (a null key), false if it has one, perhaps empty.
  bool key_null = false;
  /// True if the record has no value (a null value: a tombstone), false if it has one,
  /// perhaps empty.
  bool value_null = false;

  /// True for a tombstone: a record with a null value, which deletes its key.
  bool is_tombstone() const noexcept { return value_null; }

  /// The key as `context::emit` takes it: `no_key` for a null key, so that emitting it
  /// again keeps it null.
  std::string_view key_view() const noexcept {
    return key_null ? std::string_view{} : std::string_view{key};
  }

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
