#pragma once

// The partitions assigned to this instance, as the poll loop and the committer see them
// (internal to the runtime). The poll loop owns the table and is the only thread that
// changes it; the committer reads and updates the commit bookkeeping of its entries from
// the same thread.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>

#include <eddy/record.hpp>

#include "partition_progress.hpp"

namespace eddy::detail {

/// One assigned topic partition.
struct assigned_partition {
  std::string topic;
  std::int32_t partition = 0;
  /// The partition task, or invalid while the partition's state is being restored.
  caf::actor task;
  std::shared_ptr<partition_progress> progress;
  /// Records consumed but not handed to the task yet.
  std::vector<record> pending;
  /// The last committed offset (next to read), or -1.
  std::int64_t committed = -1;
  /// One past the last record handed to the task, or -1.
  std::int64_t dispatched_next = -1;
  /// exactly_once: offset of the first record handed out in the open transaction, or -1.
  std::int64_t transaction_start = -1;
  /// exactly_once: records handed out in the open transaction.
  std::int64_t transaction_records = 0;
  /// Paused in the consumer (for credit, a restore, or a commit that holds dispatch).
  bool paused = false;
  /// Waiting for its partition state to be restored: no task, nothing dispatched.
  bool restoring = false;

  /// True if every record handed to the task is handled and its outputs are delivered.
  bool drained() const { return progress->in_flight() == 0 || progress->failed(); }

  /// True if every record handed to the task is handled (outputs may be in flight).
  bool handled_all() const {
    return dispatched_next < 0 || progress->handled() >= dispatched_next || progress->failed();
  }
};

using partition_key = std::pair<std::string, std::int32_t>;

/// The assigned partitions by topic and partition.
using assignment = std::map<partition_key, assigned_partition>;

/// Pointers to every entry of `parts`.
inline std::vector<assigned_partition*> all_of(assignment& parts) {
  std::vector<assigned_partition*> result;
  result.reserve(parts.size());
  for (auto& [key, p] : parts)
    result.push_back(&p);
  return result;
}

} // namespace eddy::detail
