#pragma once

/// @file
/// The service host: what a `main()` builds and runs. A service declares the topics it
/// needs and one handler per consumed topic; `run()` then joins the consumer group, feeds
/// each assigned partition's records in offset order to its own partition task actor, and
/// commits offsets only for records whose handling and outputs are complete.

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <eddy/config.hpp>
#include <eddy/context.hpp>
#include <eddy/error.hpp>
#include <eddy/error_policy.hpp>
#include <eddy/record.hpp>
#include <eddy/state_view.hpp>

namespace eddy {

/// Handles one record. An exception escaping it is caught and handed to the service's
/// error policy (`service::on_decode_error` for an `eddy::decode_error`,
/// `service::on_handler_error` for anything else); by default the record goes to the
/// dead-letter topic (with headers naming the source and the error) and the service goes
/// on.
using handler = std::function<void(const record&, context&)>;

/// Folds one event of the service's journal into the state of its partition, through a
/// view of its rows. Called for every event the service emits with `context::emit_event`
/// (before the event is produced: an event whose applier throws never reaches the journal)
/// and, on start or assignment, for every journal event past the store's checkpoint (the
/// restore). The view is valid during the call only.
using journal_applier = std::function<void(const record&, state_view)>;

/// Called after a table record was applied: the record (a tombstone, i.e.
/// `record::is_tombstone()`, is a deletion; an empty value is a value).
/// Runs on the thread that applied it, while that table partition is locked: it must be
/// quick and must not call `service::lookup` or the declaration functions (hand the work
/// to another thread instead, e.g. wake waiters).
using table_listener = std::function<void(const record&)>;

/// How a journal keeps its state quick to restore, and what history it must keep.
struct journal_options {
  /// Also keep a compacted snapshot topic `<journal>-snapshots`: at every state commit the
  /// rows changed since the last one are written there (latest value per key, deletions as
  /// tombstones) with the journal offset they reflect. A store that is missing or corrupt
  /// is then rebuilt from the snapshot topic plus the journal events after it, instead of
  /// the whole history. Worth it when a journal holds many events per key.
  bool snapshots = false;
  /// Accept that the snapshot topic replaces the journal's old history. By default a
  /// journal must keep every event (`retention.ms=-1`, `retention.bytes=-1`, as `journal()`
  /// creates it), and `run()` fails with `errc::topic_error` when the broker reports an
  /// existing journal with finite retention. With this set, finite retention is only a
  /// warning: a store rebuilt from scratch then relies on a snapshot newer than the oldest
  /// event still kept. Requires `snapshots` (`errc::invalid_config` otherwise); a compacted
  /// journal is refused even so, since compaction also drops events no snapshot covers yet.
  bool snapshots_replace_history = false;
};

/// The lifecycle of a service. Legal transitions: created → starting → running ⇄
/// restoring (while newly assigned partitions replay the journal) → stopping → stopped;
/// any state before stopped → failed.
enum class service_state { created, starting, running, stopping, stopped, failed, restoring };

/// Returns the name of a state, e.g. "running".
const char* to_string(service_state state) noexcept;

/// A snapshot of a service's counters.
struct service_stats {
  /// Records handed to handlers.
  std::int64_t records_handled = 0;
  /// Records emitted by handlers (including dead letters of consumed records).
  std::int64_t records_emitted = 0;
  /// Handler calls that threw anything but an `eddy::decode_error`, and journal or table
  /// records a restore skipped because they could not be applied.
  std::int64_t handler_errors = 0;
  /// Records a handler skipped and reported with `context::skipped`, e.g. of a type the
  /// service does not consume or without an `eddy.type` header (the generated dispatcher
  /// under `(eddy.unhandled) = SKIP`). Each is also logged, rate-limited. Included in
  /// `records_handled`.
  std::int64_t records_skipped = 0;
  /// Consumed records that did not decode (an `eddy::decode_error` escaped the handler).
  std::int64_t decode_errors = 0;
  /// Outputs the broker refused or that could not be delivered (dead letters included).
  std::int64_t production_errors = 0;
  /// Failed records and refused outputs sent to the dead-letter topic (any moment).
  std::int64_t dead_letters = 0;
  /// Failed records and refused outputs that the policy skipped (`log_and_continue`).
  std::int64_t errors_skipped = 0;
  /// Offset commits made.
  std::int64_t commits = 0;
  /// Partitions currently assigned to this instance.
  std::int64_t assigned_partitions = 0;
  /// Partitions currently paused for lack of credit.
  std::int64_t paused_partitions = 0;
  /// How often a partition was paused for lack of credit since start.
  std::int64_t pauses = 0;
  /// How often the poll loop woke a fetcher that librdkafka 2.0.2 had left idle after its
  /// queue filled (a workaround; see the README's design notes).
  std::int64_t fetch_wakeups = 0;
  /// Journal events replayed into state stores since start.
  std::int64_t events_restored = 0;
  /// Partitions taken from this instance without a revocation (it exceeded
  /// max.poll.interval.ms or the session timeout); their unfinished work is redone.
  std::int64_t partitions_lost = 0;
  /// Assigned partitions whose state is still being restored (paused, not yet handled);
  /// 0 means every assigned partition is ready.
  std::int64_t partitions_restoring = 0;
  /// exactly_once: transactions aborted (their work is undone and handled again).
  std::int64_t transactions_aborted = 0;
};

/// A running Eddy service: configuration, topics, handlers, and the actors that run them.
/// Build it, declare topics and handlers, then call `run()` once from one thread; `stop()`,
/// `state()` and `stats()` may be called from any thread.
class service {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Creates a service named `name`; the name is also its consumer group id unless the
  /// config sets `group.id`.
  service(std::string name, config cfg);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // -- declaration ------------------------------------------------------------------------

  /// Declares a topic the service needs; `run()` creates it if missing (with `configs`,
  /// e.g. {{"cleanup.policy", "compact"}}) and fails if it exists with another partition
  /// count. The configs of an existing topic are not changed.
  service& topic(std::string name, int partitions, int replication_factor = -1,
                 std::map<std::string, std::string> configs = {});

  /// Declares the service's own event topic (its journal) with `partitions` partitions,
  /// which must equal those of the consumed topics (co-partitioning). Each partition's
  /// state is a SQLite store under `eddy.state.dir`, rebuilt from the journal on start or
  /// assignment before any input is handled; it is a cache, never the source of truth.
  /// The journal is created to keep its events forever (`retention.ms=-1`,
  /// `retention.bytes=-1`); `run()` checks that an existing one does (see
  /// `journal_options::snapshots_replace_history`).
  service& journal(std::string topic, int partitions, journal_applier apply,
                   journal_options options = {});

  /// Declares a local table: the latest value per key of `topic` (KTable-like), sharded
  /// like the inputs: partition p of the table lives with partition p of every consumed
  /// topic, so `topic` must have `partitions` partitions like them. Each partition is
  /// restored into the partition's state store before its inputs are handled, then kept
  /// current as records arrive; handlers read it with `context::lookup`, other threads with
  /// `service::lookup`. A tombstone (a null value) deletes the key; an empty value is
  /// kept as a value. `on_change`, if set, is called
  /// after each applied record.
  service& table(std::string topic, int partitions, table_listener on_change = {});

  /// Declares a global table: every partition of `topic` on every instance
  /// (GlobalKTable-like), kept in a store of its own, loaded completely before the first
  /// input is handled and kept current while the service runs. Read it with
  /// `context::lookup` or `service::lookup`.
  service& global_table(std::string topic, table_listener on_change = {});

  /// Declares a re-keying step: the internal topic `repartition_topic(name)` with
  /// `partitions` partitions (created if missing) and the handler of its records. A
  /// handler calls `context::repartition(name, new_key, …)`; the record then reaches the
  /// task that owns `new_key`, which owns that key's state. Exactly-once covers the hop.
  service& repartition(std::string name, int partitions, handler fn);

  /// The topic behind the re-keying step `name`: `<service>-<name>-repartition`.
  std::string repartition_topic(const std::string& name) const;

  /// Registers the handler for the records of `topic`. The topic must exist at start,
  /// declared with `topic()` or created elsewhere.
  service& consume(std::string topic, handler fn);

  // -- error policies ---------------------------------------------------------------------

  /// Sets what happens to a consumed record that does not decode (its handler threw an
  /// `eddy::decode_error`). Without it, setting `eddy.errors.decode` picks a shipped policy
  /// (default: dead-letter). See <eddy/error_policy.hpp>.
  service& on_decode_error(processing_error_policy policy);

  /// Sets what happens to a record whose handler throws anything else. Without it, setting
  /// `eddy.errors.handler` picks a shipped policy (default: dead-letter).
  service& on_handler_error(processing_error_policy policy);

  /// Sets what happens to an output the broker refuses or that cannot be delivered.
  /// Without it, setting `eddy.errors.production` picks the response to permanent refusals
  /// (default: dead-letter) and every other failure stops the service. A dead letter of a
  /// refused output carries its key and headers, and its value unless that is too large
  /// for the dead-letter topic too (then the value is empty and headers
  /// `eddy.value.dropped` and `eddy.value.size` say so). In exactly_once the policy is
  /// asked only for errors reported when the record is produced; see
  /// `production_error_policy`.
  service& on_production_error(production_error_policy policy);

  // -- running ----------------------------------------------------------------------------

  /// Runs until `stop()` is called, SIGINT/SIGTERM arrive (if `handle_signals`), or a
  /// fatal error occurs (a failed delivery, an error policy that answered `fail`); then
  /// stops gracefully: stops fetching,
  /// finishes in-flight records, flushes outputs and commits. Returns the fatal error, if
  /// any, and fails fast on bad config or an unreachable cluster.
  expected<void> run(bool handle_signals = true);

  /// Produces a record from outside a handler (an HTTP request, a timer) with the service's
  /// producer, from any thread while `run()` runs. The future yields the record's offset
  /// once the broker acknowledged it (acks=all), or the delivery error. Keys as for
  /// `context::emit`; the value is a value even when empty, never a tombstone. Fails with
  /// `errc::invalid_config` in exactly_once, whose producer only writes inside
  /// transactions, and with `errc::delivery_failed` when the service is not running.
  std::future<expected<std::int64_t>> publish(const std::string& topic, std::string_view key,
                                              std::string_view value,
                                              const std::vector<header>& headers = {});

  /// Produces a tombstone (a null value, which deletes `key` from a compacted topic and
  /// its tables) from outside a handler, as `publish` does.
  std::future<expected<std::int64_t>>
  publish_tombstone(const std::string& topic, std::string_view key,
                    const std::vector<header>& headers = {});

  /// Requests a graceful stop; returns at once.
  void stop() noexcept;

  // -- properties -------------------------------------------------------------------------

  /// The service's name.
  const std::string& name() const noexcept;

  /// The current lifecycle state.
  service_state state() const noexcept;

  /// A snapshot of the counters.
  service_stats stats() const noexcept;

  /// Reads `key` from the table of `topic` (declared with `table` or `global_table`) from
  /// any thread: the value, nullopt if the key is absent, `errc::not_owned` if a local
  /// table's partition for the key is not on this instance, `errc::invalid_config` if no
  /// such table is declared.
  expected<std::optional<std::string>> lookup(const std::string& topic,
                                              const std::string& key) const;

  /// The address (HOST:PORT) the service's HTTP endpoint is bound to while `run()` runs
  /// with `eddy.http.listen` set, the port chosen by the system when the setting asked for
  /// port 0; empty otherwise. The endpoint answers `GET /health` (the lifecycle state and
  /// why, JSON), `GET /ready` (200 only while running with every assigned partition
  /// restored, 503 with the reason otherwise) and `GET /topology` (what the service
  /// consumes, journals, keeps and declares, with partition counts and its assignment).
  std::string http_address() const;

  /// The partition numbers of the consumed topics currently assigned to this instance.
  std::vector<std::int32_t> owned_partitions() const;

  /// Runs a service as a program: parses the command line (`--help` prints usage and
  /// settings), calls `setup` to declare topics and handlers, runs until a signal, and
  /// returns the process exit code (0 on a clean stop, 2 on bad config, 1 otherwise).
  static int main(int argc, const char* const* argv, std::string name,
                  const std::function<void(service&, const config&)>& setup);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace eddy
