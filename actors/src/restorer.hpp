#pragma once

// The restorer (internal to the runtime): replays the journals and local tables of newly
// assigned partition numbers on a thread of its own, so a restore never runs inside the
// rebalance callback and the poll loop keeps polling (the member keeps its place in the
// group however long a restore takes). The poll loop keeps those partitions paused, asks
// for their restore, collects the restored states and only then hands them their inputs.
//
// Threads: `request`, `cancel` and `collect` are called from the poll loop's thread; the
// restore itself runs on the restorer's thread.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <eddy/error.hpp>

#include "kafka_ports.hpp"
#include "restore_pass.hpp"
#include "runtime.hpp"
#include "state_registry.hpp"

namespace eddy::detail {

class restorer {
public:
  /// What a restore produced since the last `collect`.
  struct outcome {
    /// Restored states, ready to be adopted by the state registry.
    std::vector<std::shared_ptr<partition_state>> restored;
    /// The first failure; the service must stop rather than handle inputs on partial state.
    std::optional<error> failure;
  };

  /// `make_reader` creates the reader the restores use (once, on first need).
  restorer(runtime& rt, const state_registry& states,
           std::function<std::unique_ptr<log_reader>()> make_reader, restore_settings settings);
  ~restorer();
  restorer(const restorer&) = delete;
  restorer& operator=(const restorer&) = delete;

  /// Asks for the restore of `numbers`; returns at once.
  void request(const std::vector<std::int32_t>& numbers);

  /// Forgets `numbers` (revoked): drops their queued or collected restores and waits until
  /// a restore under way has let go of them.
  void cancel(const std::set<std::int32_t>& numbers);

  /// Takes what was restored (or failed) since the last call.
  outcome collect();

  /// True while a restore is queued or under way.
  bool busy() const;

private:
  void work();

  runtime& rt_;
  const state_registry& states_;
  std::function<std::unique_ptr<log_reader>()> make_reader_;
  restore_settings settings_;
  std::unique_ptr<log_reader> reader_;

  mutable std::mutex mtx_;
  std::condition_variable wake_;
  std::set<std::int32_t> queued_;
  std::set<std::int32_t> current_;
  std::set<std::int32_t> cancelled_;
  outcome done_;
  bool stopping_ = false;
  std::thread worker_;
};

} // namespace eddy::detail
