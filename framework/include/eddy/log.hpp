#pragma once

/// @file
/// Eddy's structured log: one line per event on stderr, `time level=… logger=… message
/// key=value…`, shared by the framework and the service's own handlers.

#include <spdlog/spdlog.h>

namespace eddy {

/// The process-wide Eddy logger. Its level comes from `EDDY_LOG_LEVEL` (trace, debug,
/// info, warn, error, off; default info). Safe to call from any thread.
spdlog::logger& logger();

} // namespace eddy
