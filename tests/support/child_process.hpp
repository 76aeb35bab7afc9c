#pragma once

// Runs a program as a child process, for the tests that check exit codes, signals and
// memory of a whole service process, and for the demos that run services as processes.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace eddy::test {

/// How a child process is started.
struct child_options {
  /// The file its stdout and stderr are appended to; empty: a temporary file, removed
  /// when the child_process is destroyed.
  std::filesystem::path log;
  /// A process group of its own, so that a Ctrl-C typed in the terminal reaches only the
  /// parent (which then stops the child in its own time).
  bool own_process_group = false;
  /// The kernel sends the child SIGTERM should the parent thread that started it die.
  bool terminate_with_parent = true;
};

/// A program running as a child process, its output in a log file.
///
/// Lifecycle: started by the constructor; `signal()` and `wait()` stop it; the destructor
/// kills (SIGKILL) and reaps a child that still runs. Everything the child needs is
/// prepared before fork(), so only async-signal-safe calls run between fork() and exec().
/// Not thread-safe: one thread drives it (the one that started it, which
/// `terminate_with_parent` is tied to).
class child_process {
public:
  /// Starts `program` with `args`. Throws std::runtime_error if the log cannot be opened or
  /// the process cannot be forked; a program that cannot be executed exits with 127.
  child_process(const std::string& program, const std::vector<std::string>& args,
                child_options options = {});

  /// Kills and reaps the child if it still runs; removes a temporary log.
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Sends `signal` to the child, if it still runs.
  void signal(int signal);

  /// True while the child has not exited (reaps it once it has).
  bool running();

  /// Waits up to `timeout` for the exit; returns the exit code (128 + the signal for a
  /// child killed by one), or nullopt if it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  /// The exit code, once the child exited and was reaped.
  std::optional<int> exit_code() const noexcept { return exit_code_; }

  /// Peak resident set size of the child so far, in KiB (VmHWM), or -1 once it exited.
  long peak_rss_kib() const;

  /// Everything the child wrote to stdout and stderr so far.
  std::string output() const;

  /// The last `lines` lines of the output, each indented by four spaces.
  std::string output_tail(std::size_t lines) const;

  /// The file the child writes to.
  const std::filesystem::path& log_path() const noexcept { return log_path_; }

private:
  pid_t pid_ = -1;
  std::filesystem::path log_path_;
  bool temporary_log_ = false;
  std::optional<int> exit_code_;
};

/// Runs `program` with `args`, SIGKILLs it `kills` times after a random 1.5-4 s each
/// (restarting it each time), then runs it until `done()` holds (polled every 500 ms, at
/// most `timeout`) and stops it with SIGTERM. With `ready`, each of those lifetimes starts
/// only once `ready(output)` holds for the run's output so far (e.g. the service logged its
/// partition assignment; polled every 100 ms, at most 60 s), so that the kills hit work in
/// progress rather than start-up. Returns false if `done()` never held, `ready` did not
/// hold in time, or the last run did not exit cleanly.
bool run_with_kills(const std::string& program, const std::vector<std::string>& args, int kills,
                    const std::function<bool()>& done,
                    std::chrono::seconds timeout = std::chrono::seconds{180},
                    const std::function<bool(const std::string&)>& ready = {});

} // namespace eddy::test
