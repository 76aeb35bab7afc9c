// How an orders API instance hands a request to the instance that owns its key: plain HTTP
// with a header that marks it forwarded, and 421 from an instance that does not own it.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <httplib.h>

#include "instance_registry.hpp"

namespace shop {

/// Marks a request forwarded by another instance (its value: that instance's id). An
/// instance never forwards such a request again, so a stale registry cannot make a loop.
inline constexpr const char* forwarded_header = "X-Eddy-Forwarded-By";

/// Names the instance that answered, on every response.
inline constexpr const char* served_by_header = "X-Eddy-Served-By";

/// "This instance does not own the key": the forwarder tries another owner.
inline constexpr int misdirected = 421;

/// The answer of another instance, or why there was none.
struct forwarded {
  std::optional<httplib::Response> response;
  std::string failure;
};

/// Forwards requests to the owners the registry names; `stop` aborts those in progress.
class forwarder {
public:
  using clock = std::chrono::steady_clock;

  /// Forwards as `instance_id`; a forwarded POST may take `post_budget`.
  forwarder(std::string instance_id, const instance_registry& registry,
            std::chrono::milliseconds post_budget)
    : instance_id_(std::move(instance_id)),
      registry_(registry),
      post_budget_(post_budget) {}

  /// Sends `req` (path `path`) to the instance at `to`, allowing it `budget`.
  forwarded forward(const std::string& to, const httplib::Request& req, const std::string& path,
                    std::chrono::milliseconds budget);

  /// Relays another instance's answer.
  static void relay(const httplib::Response& from, httplib::Response& res);

  /// One round of forwarding `req` to the owners of `partition` the registry knows, as
  /// `path`; a GET passes on the time left until `deadline`. True once `res` holds an
  /// answer; otherwise `failure` says why no owner answered.
  bool forward_round(const httplib::Request& req, httplib::Response& res,
                     std::int32_t partition, const std::string& path,
                     clock::time_point deadline, std::string& failure);

  /// Aborts the forwarded requests in progress and refuses new ones.
  void stop();

private:
  std::string instance_id_;
  const instance_registry& registry_;
  std::chrono::milliseconds post_budget_;
  std::mutex mtx_;
  bool stopping_ = false;
  std::set<httplib::Client*> clients_;
};

} // namespace shop
