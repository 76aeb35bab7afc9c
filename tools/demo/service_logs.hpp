// What a shop service's log says about it: its lifecycle state and where it listens.
#pragma once

#include <string>

namespace shop_demo {

/// The state the last "service state" line of a service log names, or "starting".
std::string last_service_state(const std::string& log);

/// The base URL an orders instance says it listens on, or empty if it has not yet.
std::string listening_endpoint(const std::string& log);

/// The HOST:PORT of a service's own HTTP endpoint (`eddy.http.listen`), as its log line
/// "http endpoint ... address=" names it, or empty if it has not logged one.
std::string framework_endpoint(const std::string& log);

} // namespace shop_demo
