#pragma once

// The state registry (internal to the runtime): the partition stores of this instance.
// It opens a partition number's store for the restorer, makes it live once restored (then
// handlers and `service::lookup` reach it), commits only the stores the committer names as
// complete, rolls back what an aborted transaction staged, and releases a store once no
// assigned partition uses it. User code never reaches it: handlers see a partition's rows
// only, never its commit or checkpoints.
//
// Threads: the poll loop calls every member except `open`, which the restorer calls.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <eddy/error.hpp>

#include "runtime.hpp"

namespace eddy::detail {

class state_registry {
public:
  explicit state_registry(runtime& rt)
    : rt_(rt) {}

  /// Opens (creating if missing) the store of partition number `partition`, not yet live.
  expected<std::shared_ptr<partition_state>> open(std::int32_t partition) const;

  /// Makes a restored state live for its partition number.
  void adopt(std::shared_ptr<partition_state> state);

  /// The live state of `partition`, or null.
  std::shared_ptr<partition_state> find(std::int32_t partition) const;

  /// True if `partition` has a live state.
  bool contains(std::int32_t partition) const { return states_.count(partition) != 0; }

  /// Commits the stores of `complete` partition numbers (those whose every handed-out
  /// record is handled and delivered), each with the journal offset its events reached.
  /// `write_snapshots` first produces their changed rows to the snapshot topic (at least
  /// once: and waits for them). Commits nothing once a failure was raised; a failed
  /// commit raises one.
  void commit(const std::set<std::int32_t>& complete, bool write_snapshots);

  /// Produces the staged journal rows of `partitions` to the snapshot topic, if any.
  void produce_snapshots(const std::set<std::int32_t>& partitions);

  /// Drops what every live store staged since its last commit.
  void rollback_all();

  /// Releases the live states of partition numbers not in `in_use`.
  void release_unused(const std::set<std::int32_t>& in_use);

  /// Releases every live state.
  void clear();

  /// The live partition numbers.
  std::set<std::int32_t> live() const;

private:
  runtime& rt_;
  std::map<std::int32_t, std::shared_ptr<partition_state>> states_;
};

} // namespace eddy::detail
