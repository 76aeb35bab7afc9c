#pragma once

// One restore pass (internal to the runtime): brings the stores of newly assigned partition
// numbers up to date from the log, in one read over all their partitions — for fresh
// stores the latest snapshot rows first, then the journal events and local table records
// past each store's checkpoint, up to the end each partition had when the pass began.
//
// The log is the truth, so a pass never completes on less of it: a journal whose first
// offset is above what a store needs (its checkpoint, the offset a snapshot covers, or 0
// for an empty store), a watermark query that keeps failing, or an end that is not reached
// all fail the pass with `errc::restore_failed`, naming the partition and the offsets. One
// exception, so a poison event cannot turn every restart into a crash loop: an event
// whose applier throws is logged, counted as a handler error and passed over.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <eddy/error.hpp>

#include "kafka_ports.hpp"
#include "runtime.hpp"
#include "state_registry.hpp"

namespace eddy::detail {

/// How patient a restore pass is.
struct restore_settings {
  /// Watermark queries per partition before the pass fails.
  int watermark_attempts = 5;
  /// Wait between two watermark queries.
  std::chrono::milliseconds retry_delay{500};
  /// How long the pass may go without reading anything before it gives up on the end.
  /// read_committed stops at the last stable offset, which an open transaction of a
  /// crashed instance holds back until the broker aborts it (transaction.timeout.ms).
  std::chrono::milliseconds patience{20000};
  /// Show a progress bar on a terminal (otherwise progress is logged every second).
  bool progress = true;
};

/// Opens the stores of `numbers` with `states` and restores them by reading `reader`.
/// `cancelled` is asked between reads; a cancelled pass fails with `errc::restore_failed`
/// and the message "cancelled". The states are returned in the order of `numbers`.
expected<std::vector<std::shared_ptr<partition_state>>>
restore_partitions(runtime& rt, const state_registry& states, log_reader& reader,
                   const std::vector<std::int32_t>& numbers, const restore_settings& settings,
                   const std::function<bool()>& cancelled);

} // namespace eddy::detail
