#include <eddy/error.hpp>

namespace eddy {

const char* to_string(errc code) noexcept {
  switch (code) {
  case errc::invalid_config:
    return "invalid_config";
  case errc::broker_unreachable:
    return "broker_unreachable";
  case errc::topic_error:
    return "topic_error";
  case errc::delivery_failed:
    return "delivery_failed";
  case errc::kafka_error:
    return "kafka_error";
  case errc::commit_failed:
    return "commit_failed";
  case errc::fenced:
    return "fenced";
  case errc::not_owned:
    return "not_owned";
  case errc::restore_failed:
    return "restore_failed";
  case errc::record_failed:
    return "record_failed";
  }
  return "unknown";
}

std::string error::what() const {
  return std::string{to_string(code)} + ": " + message;
}

} // namespace eddy
