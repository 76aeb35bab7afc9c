#pragma once

/// @file
/// What a handler and a journal applier may do with the state of their partition: read,
/// write and remove keyed rows. Nothing else: committing, rolling back and checkpoints
/// belong to the runtime, which keeps rows and checkpoints consistent with the journal.

#include <optional>
#include <string>

namespace eddy {

class state_store;

/// The rows of one partition's state, as user code sees them. A handler gets one from
/// `context::state()`, a journal applier as its argument. Writes are staged in the
/// partition's store and become durable when the runtime commits them together with the
/// checkpoints of the records that caused them; a crash before that is repaired by replaying
/// the journal. The operations that decide durability (`commit`, `rollback`,
/// `set_checkpoint`, `staged_rows` of `state_store`) are not reachable through a view.
///
/// A view is a small handle, passed by value like `std::string_view`: it does not own the
/// store. It is valid only during the call that received it and only on that call's
/// thread (the partition's task, or the restore of the partition); do not keep it.
class state_view {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Views `store`, which must outlive the view. Implicit, so the runtime (and tests that
  /// own a store) can hand a store wherever a view is expected.
  state_view(state_store& store) noexcept
    : store_(&store) {}

  // -- rows -------------------------------------------------------------------------------

  /// The value of `key`, including the writes staged since the last commit (this call's
  /// and those of earlier records not yet committed), or nullopt if absent.
  std::optional<std::string> get(const std::string& key) const;

  /// Sets `key` to `value`; later `get`s see it at once.
  void put(const std::string& key, std::string value);

  /// Removes `key`; later `get`s return nullopt.
  void erase(const std::string& key);

private:
  state_store* store_;
};

} // namespace eddy
