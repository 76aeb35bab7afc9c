#pragma once
// The service's HTTP server (internal to the runtime): cpp-httplib answering on a pool of
// threads at `eddy.http.listen`. Routes reply in JSON; what no route takes (an unknown
// path, a body over the limit, a malformed request, a handler that threw) gets a JSON
// body with the reason. Handlers run on the server's threads only, never on a partition
// task's, so a slow or vanished client holds up nothing but its own connection.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include <eddy/config.hpp>
#include <eddy/error.hpp>

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace eddy::detail {

class http_endpoint {
public:
  using route = std::function<void(const httplib::Request&, httplib::Response&)>;

  /// A server answering with `threads` threads, refusing bodies over `max_body_bytes`.
  http_endpoint(int threads, std::size_t max_body_bytes);
  /// Stops the server if it runs.
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  /// Answers GET requests whose path matches `pattern` (a regular expression; its groups
  /// are the request's `matches`). Before `start()` only.
  void get(const std::string& pattern, route fn);

  /// Binds `where`. Returns the bound address as HOST:PORT (the port chosen when
  /// `where.port` is 0), or `errc::invalid_config` when the address cannot be bound.
  expected<std::string> bind(const listen_address& where);

  /// Serves the bound address on a thread of its own until `stop()`.
  void serve();

  /// Stops accepting, finishes the requests in progress and joins the server's threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Sets `res` to `body` as JSON with `status`.
void reply_json(httplib::Response& res, int status, const nlohmann::json& body);

/// Sets `res` to `{"error": reason}` with `status`.
void reply_error(httplib::Response& res, int status, const std::string& reason);

} // namespace eddy::detail
