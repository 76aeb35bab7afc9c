#pragma once
// SIGINT and SIGTERM while a service runs (internal to the runtime): the handlers set
// `signal_stop_requested`, which the poll loop reads, for as long as a scope holds them.
#include <atomic>
#include <csignal>

namespace eddy::detail {

/// Set by SIGINT/SIGTERM while a service runs with signal handling on.
extern std::atomic<bool> signal_stop_requested;

/// Installs the SIGINT/SIGTERM handlers for its lifetime (when `active`) and restores the
/// previous ones.
class stop_signal_scope {
public:
  explicit stop_signal_scope(bool active);
  ~stop_signal_scope();
  stop_signal_scope(const stop_signal_scope&) = delete;
  stop_signal_scope& operator=(const stop_signal_scope&) = delete;

private:
  bool active_;
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
};

} // namespace eddy::detail
