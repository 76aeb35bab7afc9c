#pragma once

/// @file
/// Errors as values at Eddy's library boundary: a stable error code, a message that names
/// what went wrong, and `expected<T>` for functions that either produce a value or fail.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace eddy {

/// Stable error codes; the numeric values never change once released.
enum class errc : std::uint8_t {
  /// A configuration key is unknown or its value is invalid.
  invalid_config = 1,
  /// The Kafka cluster could not be reached or did not answer in time.
  broker_unreachable = 2,
  /// A topic is missing, could not be created, or has the wrong partition count.
  topic_error = 3,
  /// A record could not be delivered to Kafka.
  delivery_failed = 4,
  /// The Kafka client reported an error that is not covered by a more specific code.
  kafka_error = 5,
  /// Committing consumed offsets (or a transaction) failed.
  commit_failed = 6,
  /// Another instance with the same transactional.id took over; this one must stop.
  fenced = 7,
  /// The partition a key belongs to is not assigned to this instance (ask its owner).
  not_owned = 8,
  /// A partition's state could not be restored completely (events it needs are gone from
  /// the journal, or its end was not reached); its inputs are not handled on partial state.
  restore_failed = 9,
  /// A consumed record did not decode or its handler threw, and the error policy said
  /// `fail` (see <eddy/error_policy.hpp>).
  record_failed = 10,
};

/// Returns the name of an error code, e.g. "invalid_config".
const char* to_string(errc code) noexcept;

/// An error code with a human-readable message naming the failing element.
struct error {
  errc code;
  std::string message;

  /// Returns "<code>: <message>".
  std::string what() const;
};

/// Either a value of type `T` or an `error`.
template <class T>
class expected {
public:
  // -- constructors -----------------------------------------------------------------------

  expected(T value)
    : state_(std::move(value)) {}
  expected(error err)
    : state_(std::move(err)) {}

  // -- properties -------------------------------------------------------------------------

  /// True if this holds a value.
  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; must only be called when `has_value()`.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; must only be called when `!has_value()`.
  const error& error_value() const { return std::get<1>(state_); }

private:
  std::variant<T, error> state_;
};

/// The result of an operation that produces no value: empty on success.
template <>
class expected<void> {
public:
  expected() = default;
  expected(error err)
    : error_(std::move(err)),
      failed_(true) {}

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  const error& error_value() const { return error_; }

private:
  error error_{};
  bool failed_ = false;
};

} // namespace eddy
