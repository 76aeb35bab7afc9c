#pragma once

/// @file
/// What a handler may do besides reading its record: emit records to Kafka, read and write
/// the state of its partition, look rows up in tables, and report a record it skips.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <eddy/record.hpp>
#include <eddy/state_view.hpp>

namespace eddy {

/// Handed to a handler together with the record it handles. Records emitted through it
/// belong to that input record: its offset is committed only after all of them have been
/// delivered (at-least-once). A context is only valid during the handler call and only on
/// the handler's thread.
class context {
public:
  virtual ~context() = default;

  /// Produces a record to `topic`. The key decides the partition (murmur2, as Kafka's
  /// Java clients do), so records with the same key keep their order. The key is written
  /// as given: `no_key` (or any view whose `data()` is null, see `record::key_view`) is a
  /// null key, which Kafka spreads over partitions at random; an empty key is a key. The
  /// value is always written as a value, even an empty one: it is never a tombstone (use
  /// `emit_tombstone` to delete).
  virtual void emit(const std::string& topic, std::string_view key, std::string_view value,
                    const std::vector<header>& headers = {}) = 0;

  /// Produces a tombstone to `topic`: a record with a null value, which deletes `key` from
  /// a compacted topic and from the tables built from it. Keys as for `emit`.
  virtual void emit_tombstone(const std::string& topic, std::string_view key,
                              const std::vector<header>& headers = {}) = 0;

  /// The name of the running service.
  virtual const std::string& service_name() const noexcept = 0;

  /// The state of the partition being handled: the fold of the service's journal (see
  /// `service::journal`), as a view of its rows; valid during the handler call only.
  /// Throws std::logic_error if the service has no journal.
  virtual state_view state() { throw std::logic_error{"this service declares no journal"}; }

  /// Applies an event to `state()` with the service's journal applier, so the next record
  /// sees it, then emits it to the service's journal, to the partition of the record being
  /// handled. An event whose applier throws is not emitted; the exception propagates. The
  /// state becomes durable only through the journal. Throws std::logic_error without a
  /// journal.
  virtual void emit_event(std::string_view key, std::string_view value,
                          const std::vector<header>& headers = {}) {
    (void)key, (void)value, (void)headers;
    throw std::logic_error{"this service declares no journal"};
  }

  /// The value of `key` in the table of `topic` (see `service::table` and
  /// `service::global_table`), or nullopt if absent. A local table holds the partition of
  /// the record being handled, so look up keys of that partition. Throws
  /// std::logic_error if no such table is declared.
  virtual std::optional<std::string> lookup(const std::string& topic, const std::string& key) {
    (void)key;
    throw std::logic_error{"no table declared for topic '" + topic + "'"};
  }

  /// Reports that the handler skipped `input` without handling it, e.g. because the
  /// service does not consume its type or it has no `eddy.type` header; `reason` says
  /// which. The runtime counts it (`service_stats::records_skipped`) and logs it,
  /// rate-limited, so no record is dropped in silence. The default does nothing.
  virtual void skipped(const record& input, std::string_view reason) {
    (void)input, (void)reason;
  }

  /// Sends a record to the re-keying step `name` (see `service::repartition`) under a new
  /// key; the task owning that key handles it. Throws std::logic_error if no such step is
  /// declared.
  virtual void repartition(const std::string& name, std::string_view key,
                           std::string_view value, const std::vector<header>& headers = {}) {
    (void)key, (void)value, (void)headers;
    throw std::logic_error{"no repartition step named '" + name + "'"};
  }
};

} // namespace eddy
