#pragma once

// State shared by the actors of one running service (internal to the runtime): the
// handlers, the sink, the settings they need, counters, and the stop request.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <eddy/config.hpp>
#include <eddy/service.hpp>

#include "sink.hpp"

namespace eddy::detail {

struct runtime_counters {
  std::atomic<std::int64_t> records_handled{0};
  std::atomic<std::int64_t> records_emitted{0};
  std::atomic<std::int64_t> handler_errors{0};
  std::atomic<std::int64_t> commits{0};
  std::atomic<std::int64_t> assigned_partitions{0};
  std::atomic<std::int64_t> paused_partitions{0};
  std::atomic<std::int64_t> pauses{0};
};

struct runtime {
  std::string service_name;
  std::string dead_letter_topic;
  std::map<std::string, handler> handlers;
  std::int64_t credit_window = 0;
  std::int64_t batch_max_records = 0;
  std::chrono::milliseconds commit_interval{0};
  std::chrono::milliseconds shutdown_timeout{0};
  /// True for processing.guarantee=exactly_once: outputs and offsets commit in transactions.
  bool exactly_once = false;
  sink* out = nullptr;
  /// Called on the source's thread when it begins a graceful stop.
  std::function<void()> on_stopping;
  runtime_counters counters;
  std::atomic<bool> stop_requested{false};
};

/// Set by SIGINT/SIGTERM while a service runs with signal handling on.
extern std::atomic<bool> signal_stop_requested;

} // namespace eddy::detail
