#pragma once

/// @file
/// What a service does when a record cannot be handled or an output cannot be written.
///
/// A bad record must neither stop a service for ever (a crash loop: every restart meets it
/// again) nor vanish in silence. As Kafka Streams' `errors` package does, Eddy asks a
/// pluggable policy at each of three moments, and the policy answers with an
/// `error_response`:
///
/// | moment | what failed | shipped default |
/// |---|---|---|
/// | `decode` | a consumed record does not decode (a `decode_error` escaped its handler) |
/// `dead_letter` | | `handler` | its handler threw anything else | `dead_letter` | |
/// `production` | the broker refused an output, or its delivery failed |
/// `dead_letter_permanent` |
///
/// The framework logs and counts every error whatever the answer (`service_stats`), so a
/// policy only decides. Policies are called on the thread where the error surfaced (a
/// partition task's, or the producer's delivery thread), possibly on several at once:
/// they must be quick and thread-safe, and must not block. A policy that throws is taken
/// to answer `fail`.

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <eddy/record.hpp>

namespace eddy {

// -- errors a handler throws ----------------------------------------------------------------

/// Thrown by a handler (in practice by a generated dispatcher) when the record it handles
/// does not decode. The framework routes it to the `decode` policy instead of the `handler`
/// one. Throw it only for the consumed record itself: a stored row that does not parse is
/// the handler's failure, not the record's.
class decode_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// -- responses and moments ------------------------------------------------------------------

/// What the framework does with a failed record; the numeric values never change.
enum class error_response : std::uint8_t {
  /// Stop the service with an error naming the record. Nothing at or past the record's
  /// batch is committed, so a restart meets the record again.
  fail = 1,
  /// Log, count and skip: the record's offset is committed as if it had been handled.
  /// Setting value `continue`.
  log_and_continue = 2,
  /// Write the record to the service's dead-letter topic, with headers naming where it
  /// came from, the moment and the error; the record's offset is committed once the dead
  /// letter is delivered. A dead letter that cannot be delivered stops the service.
  dead_letter = 3,
};

/// When an error happened; the numeric values never change.
enum class error_moment : std::uint8_t {
  /// A consumed record did not decode.
  decode = 1,
  /// A handler threw.
  handler = 2,
  /// An output was refused by the broker or could not be delivered.
  production = 3,
};

/// Returns the setting value of a response: "fail", "continue" or "dead_letter".
const char* to_string(error_response response) noexcept;

/// Returns the name of a moment: "decode", "handler" or "production".
const char* to_string(error_moment moment) noexcept;

/// Parses a setting value ("fail", "continue", "dead_letter"); nullopt for anything else.
std::optional<error_response> parse_error_response(std::string_view text) noexcept;

// -- what a policy is told ------------------------------------------------------------------

/// A consumed record whose decoding or handling failed. Valid only during the policy call.
struct processing_error {
  /// `decode` or `handler`.
  error_moment moment;
  /// The record that failed.
  const record& input;
  /// What the exception said.
  std::string_view message;
};

/// An output that could not be written. Valid only during the policy call.
struct production_error {
  /// The record that was refused (topic, partition if chosen, key, value and headers);
  /// its `offset` is -1.
  const record& output;
  /// librdkafka's error code (an `RdKafka::ErrorCode`), e.g. 10 for MSG_SIZE_TOO_LARGE.
  int code;
  /// The code's name, e.g. "MSG_SIZE_TOO_LARGE".
  std::string_view code_name;
  /// The error's text.
  std::string_view message;
  /// True if retrying cannot help: the broker (or the client, before sending) refused the
  /// record for good — too large, invalid, or for a topic or partition that does not
  /// exist. False when retries ran out (timeouts, unreachable brokers, lost leaders).
  bool permanent;
};

/// Decides what happens to a consumed record that did not decode or whose handler threw.
using processing_error_policy = std::function<error_response(const processing_error&)>;

/// Decides what happens to an output that could not be written. In exactly_once it is
/// asked only for errors that librdkafka reports when the record is produced (e.g. a
/// record larger than the client's `message.max.bytes`, an unknown topic or partition
/// already known as such): a delivery that fails later lies inside a transaction that
/// can then only abort, so the service stops whatever the policy would say.
using production_error_policy = std::function<error_response(const production_error&)>;

// -- shipped policies -----------------------------------------------------------------------

namespace error_policies {

/// A policy that gives the same response to every error of any moment, e.g.
/// `svc.on_handler_error(eddy::error_policies::log_and_fail)`.
struct fixed {
  /// The response it always gives.
  error_response response;

  /// Returns `response`.
  template <class Error>
  error_response operator()(const Error&) const noexcept {
    return response;
  }
};

/// Stops the service at the first error (Kafka Streams' LogAndFailExceptionHandler).
inline constexpr fixed log_and_fail{error_response::fail};

/// Logs, counts and skips (Kafka Streams' LogAndContinueExceptionHandler).
inline constexpr fixed log_and_continue{error_response::log_and_continue};

/// Sends every failed record to the dead-letter topic.
inline constexpr fixed dead_letter{error_response::dead_letter};

/// For the production moment: gives `response` to permanent refusals and `fail` to
/// errors that retrying might cure, which point at the cluster rather than the record.
struct permanent_only {
  /// The response to permanent refusals.
  error_response response;

  /// `response` if `err.permanent`, else `fail`.
  error_response operator()(const production_error& err) const noexcept {
    return err.permanent ? response : error_response::fail;
  }
};

/// The production default: permanent refusals go to the dead-letter topic, the rest stop
/// the service.
inline constexpr permanent_only dead_letter_permanent{error_response::dead_letter};

} // namespace error_policies

} // namespace eddy
