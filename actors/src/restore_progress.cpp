#include "restore_progress.hpp"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include <eddy/log.hpp>

namespace eddy::detail {

restore_progress::restore_progress(std::string service, std::int64_t total, bool enabled)
  : service_(std::move(service)),
    total_(total),
    enabled_(enabled),
    terminal_(enabled && ::isatty(STDERR_FILENO) != 0),
    started_(clock::now()),
    last_report_(started_) {}

void restore_progress::advance(clock::time_point now) {
  ++done_;
  if (!enabled_)
    return;
  if (terminal_ && now - last_report_ > std::chrono::milliseconds{200}) {
    draw(now, false);
    last_report_ = now;
  } else if (!terminal_ && now - last_report_ > std::chrono::seconds{1}) {
    logger().info("restoring service={} done={}/{}", service_, done_, total_);
    last_report_ = now;
  }
}

void restore_progress::finish(std::size_t partitions) {
  auto now = clock::now();
  if (terminal_)
    draw(now, true);
  auto seconds = std::chrono::duration<double>(now - started_).count();
  logger().info("restored service={} partitions={} records={} seconds={:.2f} rate={:.0f}/s",
                service_, partitions, done_, seconds,
                static_cast<double>(done_) / std::max(seconds, 1e-6));
}

void restore_progress::draw(clock::time_point now, bool last) {
  constexpr int width = 30;
  auto fraction = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  auto filled = std::clamp(static_cast<int>(fraction * width), 0, width);
  auto seconds = std::max(std::chrono::duration<double>(now - started_).count(), 1e-6);
  std::fprintf(stderr, "\rrestoring %s [%s%s] %lld/%lld records, %.0f records/s%s",
               service_.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), static_cast<long long>(done_),
               static_cast<long long>(total_), static_cast<double>(done_) / seconds,
               last ? "\n" : "");
  std::fflush(stderr);
}

} // namespace eddy::detail
