// The demos' live progress line on stderr.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace shop_demo {

/// Writes the live progress line to stderr: rewritten in place on a terminal, otherwise a
/// new line every few seconds.
class progress_line {
public:
  progress_line()
    : terminal_(::isatty(STDERR_FILENO) != 0) {}

  /// Shows `text` as the current progress; off a terminal only every few seconds, unless
  /// `always`.
  void show(const std::string& text, bool always = false) {
    auto now = std::chrono::steady_clock::now();
    if (terminal_) {
      std::fprintf(stderr, "\r%s\033[K", text.c_str());
      shown_ = true;
    } else if (always || now - last_ >= std::chrono::seconds{2}) {
      std::fprintf(stderr, "%s\n", text.c_str());
      last_ = now;
    }
    std::fflush(stderr);
  }

  /// Ends the line so that the next output starts on a fresh one.
  void finish() {
    if (terminal_ && shown_)
      std::fprintf(stderr, "\n");
    shown_ = false;
    last_ = {};
  }

private:
  bool terminal_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

} // namespace shop_demo
