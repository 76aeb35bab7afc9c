#pragma once

// Runs a program as a child process for tests that check exit codes, timing, signals and
// memory of a whole service process.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace eddy::test {

class child_process {
public:
  /// Starts `program` with `args`; its stderr (and stdout) go to a temporary file.
  child_process(const std::string& program, const std::vector<std::string>& args);
  ~child_process();

  /// Waits up to `timeout` for the exit; returns the exit code, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  /// Sends `signal` to the child.
  void signal(int signal);

  /// Peak resident set size of the child so far, in KiB (VmHWM), or -1 once it exited.
  long peak_rss_kib() const;

  /// Everything the child wrote to stdout and stderr so far.
  std::string output() const;

private:
  pid_t pid_ = -1;
  std::string output_path_;
  bool exited_ = false;
};

/// Runs `program` with `args`, SIGKILLs it `kills` times after a random 1.5-4 s each
/// (restarting it each time), then runs it until `done()` holds (polled every 500 ms, at
/// most `timeout`) and stops it with SIGTERM. With `ready`, each of those lifetimes starts
/// only once `ready(output)` holds for the run's output so far (e.g. the service logged its
/// partition assignment; polled every 100 ms, at most 60 s), so that the kills hit work in
/// progress rather than start-up. Returns false if `done()` never held, `ready` did not
/// hold in time, or the last run did not exit cleanly.
bool run_with_kills(const std::string& program, const std::vector<std::string>& args,
                    int kills, const std::function<bool()>& done,
                    std::chrono::seconds timeout = std::chrono::seconds{180},
                    const std::function<bool(const std::string&)>& ready = {});

} // namespace eddy::test
