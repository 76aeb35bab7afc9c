#pragma once

/// @file
/// The local state of one partition task: keyed rows plus the checkpoint (next offset to
/// read) of every source partition, kept in one SQLite file and always written in the same
/// SQLite transaction. The log is the source of truth; a store is a cache that can be
/// thrown away and rebuilt by replaying it, and is never trusted past its checkpoint.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <eddy/error.hpp>

namespace eddy {

/// A keyed byte store with checkpoints, backed by SQLite in WAL mode. Changes are staged
/// in memory and become durable together with the checkpoints on `commit()`, so a crash
/// leaves rows and checkpoints consistent with each other. Not thread-safe: one partition
/// task owns one store.
///
/// The runtime owns the stores and alone decides when they commit; handlers and journal
/// appliers reach a store's rows only through a `state_view`, never its commit, rollback
/// or checkpoints. Tools and tests that own a store use it directly.
class state_store {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Opens the store at `path`, creating it (and its folder) if missing. A file that is
  /// not a healthy SQLite store is moved aside to `<path>.corrupt-<unix time>` and a fresh,
  /// empty store takes its place: `recovered_from_corruption()` then says so, and the
  /// caller replays from offset 0.
  static expected<state_store> open(const std::string& path);

  /// Opens a store that lives in memory only (for test kits and tools); never fails.
  static state_store open_in_memory();

  state_store(state_store&&) noexcept;
  state_store& operator=(state_store&&) noexcept;
  ~state_store();

  // -- rows -------------------------------------------------------------------------------

  /// The value of `key`, including staged changes, or nullopt if absent.
  std::optional<std::string> get(const std::string& key) const;

  /// Stages `key` = `value`.
  void put(const std::string& key, std::string value);

  /// Stages the removal of `key`.
  void erase(const std::string& key);

  // -- checkpoints ------------------------------------------------------------------------

  /// Stages the next offset to read from `topic`/`partition`.
  void set_checkpoint(const std::string& topic, std::int32_t partition,
                      std::int64_t next_offset);

  /// The next offset to read from `topic`/`partition`, including staged changes, or
  /// nullopt if this store never saw that partition.
  std::optional<std::int64_t> checkpoint(const std::string& topic,
                                         std::int32_t partition) const;

  // -- transactions -----------------------------------------------------------------------

  /// Writes every staged row and checkpoint in one SQLite transaction.
  expected<void> commit();

  /// Drops every staged change.
  void rollback() noexcept;

  /// Number of staged changes (rows and checkpoints).
  std::size_t staged() const noexcept;

  /// The staged row changes, by key: the new value, or nullopt for a removal.
  const std::map<std::string, std::optional<std::string>>& staged_rows() const noexcept;

  // -- properties -------------------------------------------------------------------------

  /// True if `open` found a corrupt file, moved it aside and started empty.
  bool recovered_from_corruption() const noexcept;

  /// The store's file.
  const std::string& path() const noexcept;

private:
  struct impl;
  explicit state_store(std::unique_ptr<impl> self);
  std::unique_ptr<impl> impl_;
};

} // namespace eddy
