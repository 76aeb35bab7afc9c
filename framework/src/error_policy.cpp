#include <eddy/error_policy.hpp>

namespace eddy {

const char* to_string(error_response response) noexcept {
  switch (response) {
  case error_response::fail:
    return "fail";
  case error_response::log_and_continue:
    return "continue";
  case error_response::dead_letter:
    return "dead_letter";
  }
  return "unknown";
}

const char* to_string(error_moment moment) noexcept {
  switch (moment) {
  case error_moment::decode:
    return "decode";
  case error_moment::handler:
    return "handler";
  case error_moment::production:
    return "production";
  }
  return "unknown";
}

std::optional<error_response> parse_error_response(std::string_view text) noexcept {
  for (auto response :
       {error_response::fail, error_response::log_and_continue, error_response::dead_letter})
    if (text == to_string(response))
      return response;
  return std::nullopt;
}

} // namespace eddy
