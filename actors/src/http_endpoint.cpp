#include "http_endpoint.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace eddy::detail {

namespace {

/// The kernel's queue of connections not yet accepted; cpp-httplib's own is 5, which a
/// burst of clients (a load balancer's probes and a benchmark's connections) overflows.
constexpr int accept_backlog = 1024;

std::string address_of(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const char* reason_phrase(int status) {
  switch (status) {
  case 400:
    return "malformed request";
  case 404:
    return "no such resource";
  case 405:
    return "method not allowed";
  case 413:
    return "request body too large";
  case 414:
    return "request URI too long";
  default:
    return "request failed";
  }
}

} // namespace

struct http_endpoint::impl {
  httplib::Server server;
  std::thread serving;
  std::atomic<int> listening_socket{-1};
  std::size_t max_body_bytes = 0;
};

http_endpoint::http_endpoint(int threads, std::size_t max_body_bytes)
  : impl_(std::make_unique<impl>()) {
  auto& server = impl_->server;
  impl_->max_body_bytes = max_body_bytes;
  auto pool_size = static_cast<std::size_t>(threads);
  server.new_task_queue = [pool_size] { return new httplib::ThreadPool(pool_size); };
  server.set_payload_max_length(max_body_bytes);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  // An idle keep-alive client (a scraper, a probe) holds a pool thread this long, and a
  // stop waits for it.
  server.set_keep_alive_timeout(1);
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which a second
  // instance given the same address would share the port instead of failing to start.
  server.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl_->listening_socket.store(sock);
  });
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty())
      return;
    std::string reason = reason_phrase(res.status);
    if (res.status == 404)
      reason += ": " + req.method + " " + req.path;
    else if (res.status == 413)
      reason += ": the limit is " + std::to_string(impl_->max_body_bytes)
                + " bytes (eddy.http.max.body.bytes)";
    reply_error(res, res.status, reason);
  });
  server.set_exception_handler(
    [](const httplib::Request&, httplib::Response& res, std::exception_ptr thrown) {
      std::string what = "unknown error";
      try {
        std::rethrow_exception(thrown);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      reply_error(res, 500, what);
    });
}

http_endpoint::~http_endpoint() {
  stop();
}

void http_endpoint::get(const std::string& pattern, route fn) {
  impl_->server.Get(pattern, std::move(fn));
}

expected<std::string> http_endpoint::bind(const listen_address& where) {
  auto& server = impl_->server;
  auto host = where.host.empty() ? std::string{"0.0.0.0"} : where.host;
  int port = where.port;
  if (port == 0)
    port = server.bind_to_any_port(host);
  else if (!server.bind_to_port(host, port))
    port = -1;
  if (port <= 0)
    return error{errc::invalid_config, "eddy.http.listen: cannot listen on "
                                         + address_of(host, where.port)
                                         + " (address in use, or not an address of this host)"};
  if (int sock = impl_->listening_socket.load(); sock >= 0)
    ::listen(sock, accept_backlog);
  return address_of(host, port);
}

void http_endpoint::serve() {
  auto& server = impl_->server;
  impl_->serving = std::thread{[&server] { server.listen_after_bind(); }};
  // A stop() before the server thread runs would be lost: wait until it serves.
  for (int waited_ms = 0; !server.is_running() && waited_ms < 5000; ++waited_ms)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
}

void http_endpoint::stop() {
  if (!impl_->serving.joinable())
    return;
  if (impl_->server.is_running()) {
    impl_->server.stop();
  } else if (int sock = impl_->listening_socket.load(); sock >= 0) {
    // The server thread has not begun listening (cpp-httplib's stop() does nothing then):
    // shut the socket down so that its accept() fails and the thread ends.
    ::shutdown(sock, SHUT_RDWR);
  }
  impl_->serving.join();
}

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& reason) {
  reply_json(res, status, nlohmann::json{{"error", reason}});
}

} // namespace eddy::detail
