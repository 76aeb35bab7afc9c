#pragma once

/// @file
/// An in-process librdkafka mock cluster for fast unit tests and a quick try without Java.
/// It is NOT durable (everything lives in this process's memory), does not support the
/// admin API (create topics here instead), and does not emulate transactions: aborted
/// records reach read_committed consumers. Exactly-once needs the real broker.

#include <cstdint>
#include <memory>
#include <string>

namespace eddy::testing {

/// Owns a mock Kafka cluster for the lifetime of the object.
class mock_cluster {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Starts a mock cluster of `brokers` brokers; throws std::runtime_error on failure.
  explicit mock_cluster(int brokers = 1);
  ~mock_cluster();
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  // -- properties -------------------------------------------------------------------------

  /// The `bootstrap.servers` value that reaches this cluster.
  const std::string& bootstrap() const noexcept { return bootstrap_; }

  // -- topics -----------------------------------------------------------------------------

  /// Creates `topic` with `partitions` partitions; throws std::runtime_error on failure.
  void create_topic(const std::string& topic, int partitions);

  // -- faults -----------------------------------------------------------------------------

  /// Takes broker `id` (1 to the number of brokers) down: its connections close and it
  /// accepts none, until it is brought `up` again. Throws std::runtime_error on failure.
  void set_broker_up(int id, bool up);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string bootstrap_;
};

} // namespace eddy::testing
