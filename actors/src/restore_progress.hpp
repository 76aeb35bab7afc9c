#pragma once

// Progress of a restore, for the operator (internal to the runtime): a bar redrawn on a
// terminal, a log line a second otherwise, and a summary line at the end.

#include <chrono>
#include <cstdint>
#include <string>

namespace eddy::detail {

class restore_progress {
public:
  using clock = std::chrono::steady_clock;

  /// Starts showing the restore of `total` records of `service`; `enabled` false shows
  /// only the summary.
  restore_progress(std::string service, std::int64_t total, bool enabled);

  /// Counts one more record restored; redraws at most five times a second.
  void advance(clock::time_point now);

  /// Ends the bar and logs the summary over `partitions` partitions.
  void finish(std::size_t partitions);

  /// Records restored so far.
  std::int64_t done() const noexcept { return done_; }

private:
  void draw(clock::time_point now, bool last);

  std::string service_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  bool enabled_;
  bool terminal_;
  clock::time_point started_;
  clock::time_point last_report_;
};

} // namespace eddy::detail
