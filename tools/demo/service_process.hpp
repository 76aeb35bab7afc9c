#pragma once

/// @file
/// One instance of a shop service, run by the shop demo as a child process.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace shop_demo {

/// A service program running as a child process, its output in a log file.
///
/// The problem it solves: the demo owns the terminal (for its progress line) and the order
/// in which things stop. So the child gets a process group of its own, and a Ctrl-C typed
/// in the terminal reaches only the demo, which stops posting before it stops the services;
/// the child's stdout and stderr go to a log file; and the kernel sends the child SIGTERM
/// should the demo die without stopping it.
///
/// Lifecycle: started by the constructor; `signal()` and `wait()` stop it; the destructor
/// kills (SIGKILL) and reaps a child that still runs. Not thread-safe: one thread (the one
/// that constructed it, which the death signal is tied to) drives it.
class service_process {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Starts `program` with `args`, its output appended to `log`. Throws std::runtime_error
  /// if the log cannot be opened or the process cannot be forked; a program that cannot be
  /// executed exits with 127, its reason in the log.
  service_process(std::string label, const std::string& program,
                  const std::vector<std::string>& args, std::filesystem::path log);

  /// Kills and reaps the child if it still runs.
  ~service_process();

  service_process(const service_process&) = delete;
  service_process& operator=(const service_process&) = delete;

  // -- running ----------------------------------------------------------------------------

  /// Sends `signal` to the child, if it still runs.
  void signal(int signal);

  /// True while the child has not exited (reaps it once it has).
  bool running();

  /// Waits up to `timeout` for the child to exit; returns its exit code (128 + the signal
  /// for a child killed by one), or nullopt if it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  // -- properties -------------------------------------------------------------------------

  /// The name the demo gives this instance, e.g. `fraud-1`.
  const std::string& label() const noexcept;

  /// The log file the child writes to.
  const std::filesystem::path& log_path() const noexcept;

  /// Everything the child logged so far.
  std::string log() const;

  /// The last `lines` lines the child logged.
  std::string log_tail(std::size_t lines) const;

  /// The exit code, once the child exited.
  std::optional<int> exit_code() const noexcept;

private:
  std::string label_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

} // namespace shop_demo
