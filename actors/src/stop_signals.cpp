#include "stop_signals.hpp"

#include <csignal>

namespace eddy::detail {

std::atomic<bool> signal_stop_requested{false};

namespace {

extern "C" void on_stop_signal(int) {
  signal_stop_requested.store(true);
}

} // namespace

stop_signal_scope::stop_signal_scope(bool active)
  : active_(active) {
  if (!active_)
    return;
  signal_stop_requested.store(false);
  previous_int_ = std::signal(SIGINT, on_stop_signal);
  previous_term_ = std::signal(SIGTERM, on_stop_signal);
}

stop_signal_scope::~stop_signal_scope() {
  if (!active_)
    return;
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

} // namespace eddy::detail
