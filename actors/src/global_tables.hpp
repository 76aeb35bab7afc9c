#pragma once

// The reader of a service's global tables (internal to the runtime): one consumer outside
// the group, assigned every partition of every global table. `load()` brings each table's
// store up to the end its partitions had when it began, before the service handles any
// input; `start()` then keeps the tables current on a thread of its own.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>

#include "fetch_waker.hpp"
#include "runtime.hpp"

namespace eddy::detail {

class global_table_reader {
public:
  /// `partitions` gives each global table's partition count.
  global_table_reader(runtime& rt, std::unique_ptr<RdKafka::KafkaConsumer> consumer,
                      std::map<std::string, int> partitions);
  ~global_table_reader();
  global_table_reader(const global_table_reader&) = delete;
  global_table_reader& operator=(const global_table_reader&) = delete;

  /// Opens the stores and reads every partition up to its current end; fails if a store
  /// cannot be opened or the end is not reached within `timeout` of no progress.
  expected<void> load(std::chrono::milliseconds timeout);

  /// Keeps reading on a background thread until destruction.
  void start();

private:
  /// Applies one record to its table; true if it belonged to one.
  void apply(RdKafka::Message& message);
  void commit_stores();

  runtime& rt_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  fetch_waker fetch_;
  std::map<std::string, int> partitions_;
  std::thread follower_;
  std::atomic<bool> running_{false};
};

} // namespace eddy::detail
