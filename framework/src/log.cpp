#include <eddy/log.hpp>

#include <cstdlib>
#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace eddy {

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto result = spdlog::stderr_color_mt("eddy");
    result->set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l logger=%n %v");
    if (const char* level = std::getenv("EDDY_LOG_LEVEL"))
      result->set_level(spdlog::level::from_str(level));
    else
      result->set_level(spdlog::level::info);
    return result;
  }();
  return *instance;
}

} // namespace eddy
