#include "service_logs.hpp"

namespace shop_demo {

std::string last_service_state(const std::string& log) {
  static const std::string marker = "service state service=";
  auto at = log.rfind(marker);
  if (at == std::string::npos)
    return "starting";
  auto state = log.find("state=", at + marker.size());
  if (state == std::string::npos)
    return "starting";
  state += 6;
  auto end = log.find_first_of(" \n", state);
  return log.substr(state, end == std::string::npos ? std::string::npos : end - state);
}

std::string listening_endpoint(const std::string& log) {
  static const std::string marker = " listening on ";
  auto at = log.find(marker);
  if (at == std::string::npos)
    return {};
  auto start = at + marker.size();
  auto end = log.find_first_of(" \n", start);
  if (end == std::string::npos)
    return {};
  return log.substr(start, end - start);
}

std::string framework_endpoint(const std::string& log) {
  auto line = log.find("http endpoint service=");
  if (line == std::string::npos)
    return {};
  static const std::string marker = "address=";
  auto at = log.find(marker, line);
  if (at == std::string::npos)
    return {};
  auto start = at + marker.size();
  auto end = log.find_first_of(" \n", start);
  return end == std::string::npos ? std::string{} : log.substr(start, end - start);
}

} // namespace shop_demo
