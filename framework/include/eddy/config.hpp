#pragma once

/// @file
/// Service configuration: Eddy's own settings plus every librdkafka property, merged from a
/// properties file, the environment and the command line (later sources win).
///
/// Keys starting with `eddy.` are Eddy settings (see `config::describe_settings()`);
/// keys starting with `app.` belong to the service itself and are not checked; keys
/// starting with `consumer.` or `producer.` are librdkafka properties for that client
/// only; every other key is a librdkafka property for both clients. Environment variables
/// map as `EDDY_KAFKA_BOOTSTRAP_SERVERS=x` → `bootstrap.servers` and
/// `EDDY_CREDIT_WINDOW=x` → `eddy.credit.window` (upper case, `_` for `.`).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include <eddy/error.hpp>
#include <eddy/error_policy.hpp>

namespace eddy {

/// Which librdkafka client a property is meant for.
enum class client_kind { consumer, producer };

/// What a crash may do to the effects of a record.
enum class processing_guarantee {
  /// Effects are never lost but may repeat after a crash (the default).
  at_least_once,
  /// Outputs and input offsets commit in one Kafka transaction: each effect once.
  exactly_once,
};

/// A TCP address to listen on: a host name or IP address (empty: every interface) and a
/// port (0: any free one).
struct listen_address {
  std::string host;
  int port = 0;
};

/// A validated-on-demand set of configuration keys and values.
class config {
public:
  // -- loading ----------------------------------------------------------------------------

  /// Sets `key` to `value`, replacing an earlier value.
  config& set(std::string key, std::string value);

  /// Loads `key=value` lines from a properties file; `#` starts a comment line.
  expected<void> load_file(const std::string& path);

  /// Loads every `EDDY_*` variable from the process environment.
  void load_environment();

  /// Builds a configuration from the environment, then `--config FILE` files, then
  /// `-X key=value` / `--set key=value` arguments, in that order of precedence (last
  /// wins). `--help` sets `help_requested()`. Unknown arguments are an error.
  static expected<config> from_command_line(int argc, const char* const* argv);

  /// The command-line usage text for `from_command_line`, including every Eddy setting.
  static std::string usage(const std::string& program);

  /// Lists every Eddy setting with its default and meaning, one per line.
  static std::string describe_settings();

  // -- validation -------------------------------------------------------------------------

  /// Checks that every Eddy setting is known and well-formed and that librdkafka accepts
  /// every other property; the error names the offending key.
  expected<void> validate() const;

  // -- properties -------------------------------------------------------------------------

  /// The raw value of `key`, if set.
  std::optional<std::string> get(const std::string& key) const;

  /// The integer value of `key` (an `app.*` setting, say), or `fallback` if it is unset.
  /// Throws std::invalid_argument naming the key, the range and the value if the value is
  /// not an integer from `minimum` to `maximum`; `service::main` reports that and exits 2.
  std::int64_t integer(const std::string& key, std::int64_t fallback,
                       std::int64_t minimum = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t maximum = std::numeric_limits<std::int64_t>::max()) const;

  /// True if `--help` was given on the command line.
  bool help_requested() const noexcept { return help_requested_; }

  /// The librdkafka properties that apply to `kind` (shared ones plus the prefixed ones).
  std::map<std::string, std::string> kafka_properties(client_kind kind) const;

  /// Maximum number of records a partition task may have in flight (handed to it but not
  /// yet fully delivered); when reached, the partition is paused. `eddy.credit.window`.
  std::int64_t credit_window() const;

  /// Maximum number of records sent to a partition task in one message.
  /// `eddy.batch.max.records`.
  std::int64_t batch_max_records() const;

  /// How often completed offsets are committed (and, in exactly_once, transactions
  /// committed). `eddy.commit.interval.ms`; default 1000 ms, 100 ms in exactly_once.
  std::chrono::milliseconds commit_interval() const;

  /// `eddy.processing.guarantee`: at_least_once (default) or exactly_once.
  processing_guarantee guarantee() const;

  /// The transactional.id for exactly_once; empty means derive a stable one per instance
  /// from the group, the state folder and the instance's slot in it.
  /// `eddy.transactional.id`.
  std::string transactional_id() const;

  /// How long start-up may wait for the cluster before failing. `eddy.startup.timeout.ms`.
  std::chrono::milliseconds startup_timeout() const;

  /// How long a graceful stop may wait for in-flight work. `eddy.shutdown.timeout.ms`.
  std::chrono::milliseconds shutdown_timeout() const;

  /// Number of CAF scheduler threads that run partition tasks. `eddy.scheduler.threads`.
  int scheduler_threads() const;

  /// How often an idle scheduler thread polls for work (50 us apart) before it sleeps until
  /// work is enqueued. `eddy.scheduler.idle.polls`.
  std::int64_t scheduler_idle_polls() const;

  /// Whether the start checks that the journal keeps every event (its topic configs).
  /// `eddy.journal.check.retention`, default true.
  bool check_journal_retention() const;

  /// Folder of the state stores. `eddy.state.dir`, default `eddy-state`.
  std::string state_dir() const;

  /// Topic of dead letters (see `error_response::dead_letter`); empty means
  /// `<service>-dlq`. `eddy.dead.letter.topic`.
  std::string dead_letter_topic() const;

  /// Whether a restore logs, counts and skips a journal event its applier rejects instead
  /// of failing. `eddy.errors.restore`: `fail` (the default) or `continue`.
  bool restore_skips_bad_events() const;

  /// Where the service's HTTP endpoint listens (`eddy.http.listen`, HOST:PORT; port 0
  /// picks a free one), or nullopt when it is off (unset or empty) or not a valid address
  /// (`validate()` reports that).
  std::optional<listen_address> http_listen() const;

  /// Threads answering HTTP requests. `eddy.http.threads`, default 4.
  int http_threads() const;

  /// The largest HTTP request body accepted; larger ones get 413.
  /// `eddy.http.max.body.bytes`, default 1 MiB.
  std::size_t http_max_body_bytes() const;

  /// The response of the shipped policy for `moment`: `eddy.errors.decode`,
  /// `eddy.errors.handler` or `eddy.errors.production`, each `dead_letter` (the default),
  /// `continue` or `fail`. For `production` it applies to permanent refusals only; other
  /// delivery failures stop the service (`error_policies::permanent_only`).
  error_response error_response_for(error_moment moment) const;

  /// All keys and values, sorted by key.
  const std::map<std::string, std::string>& entries() const noexcept { return entries_; }

private:
  std::int64_t integer_setting(const std::string& key) const;

  std::map<std::string, std::string> entries_;
  bool help_requested_ = false;
};

} // namespace eddy
