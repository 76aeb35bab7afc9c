#pragma once

/// @file
/// The orders service's HTTP API, in front of an Eddy service that keeps the `orders`
/// topic as a local table:
///
/// * `POST /v1/orders` with a JSON order: `201` with `Location: /v1/orders/{id}` once the
///   broker acknowledged the Order record (state CREATED);
/// * `GET /v1/orders/{id}[?timeout=ms]`: `200` with the order as soon as it exists, `504`
///   if it does not by the timeout;
/// * `GET /v1/orders/{id}/validated[?timeout=ms]`: `200` as soon as the order is VALIDATED,
///   FAILED or SHIPPED, `504` if it is not by the timeout;
/// * `GET /v1/health`: the instance, its service state and its partitions.
///
/// Every answer is JSON; refusals carry `{"error": reason}`. Any instance answers for any
/// order: a request for a key whose partition another instance owns is forwarded to that
/// instance, found through the instance registry (see instance_registry.hpp).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <eddy/config.hpp>
#include <eddy/error.hpp>
#include <eddy/service.hpp>

namespace shop {

/// The settings of the orders API, read from the service's `app.*` configuration.
struct orders_api_options {
  /// Address to listen on. `app.http.host`.
  std::string host = "127.0.0.1";
  /// Port to listen on; 0 picks a free one. `app.http.port`.
  int port = 8080;
  /// The base URL other instances use to reach this one; empty means
  /// `http://<host>:<port>`, with the machine's host name for a wildcard host.
  /// `app.http.advertised.url`.
  std::string advertised_url;
  /// Threads serving requests; each waiting long-poll holds one. `app.http.threads`.
  int threads = 32;
  /// Largest request body accepted; a larger one is refused with 413.
  /// `app.http.max.body.bytes`.
  std::size_t max_body_bytes = 64 * 1024;
  /// How long a GET waits when it gives no `timeout`. `app.poll.default.timeout.ms`.
  std::chrono::milliseconds default_timeout{10000};
  /// The longest `timeout` a GET may ask for. `app.poll.max.timeout.ms`.
  std::chrono::milliseconds max_timeout{60000};
  /// This instance's id in the registry; empty means `<host name>-<pid>-<random>`.
  /// `app.instance.id`.
  std::string instance_id;
  /// The consumer group; registry entries of other groups are ignored. `group.id`
  /// (or `consumer.group.id`), else the service's name.
  std::string group;
  /// The compacted topic of the instance registry. `app.registry.topic`.
  std::string registry_topic = "orders-instances";
  /// How often an instance refreshes its registry entry; an entry not refreshed for three
  /// periods is considered gone. `app.registry.heartbeat.ms`.
  std::chrono::milliseconds heartbeat{2000};

  /// Reads the settings from `cfg` for the service `service_name`; the error names the
  /// offending key.
  static eddy::expected<orders_api_options> from_config(const eddy::config& cfg,
                                                        const std::string& service_name);

  /// The `app.*` settings with their defaults and meaning, one per line, for `--help`.
  static std::string describe_settings();
};

/// Serves the orders API for one Eddy service instance.
///
/// Lifecycle: construct it before the service runs (the constructor declares the `orders`
/// table, the registry topic and its global table on the service), `start()` it, run the
/// service, `stop()` it before the service stops (so that the instance leaves the registry
/// while it can still publish). Requests that arrive before the service runs wait for it
/// like any long-poll. The API must outlive the service's `run()`: the service's table
/// listeners point into it. `start()` and `stop()` are called from one thread; requests
/// are served on threads of the API's own.
class orders_api {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Declares what the API needs on `svc`, which must outlive the API.
  orders_api(eddy::service& svc, orders_api_options options);

  /// Stops the API if it still runs.
  ~orders_api();

  orders_api(const orders_api&) = delete;
  orders_api& operator=(const orders_api&) = delete;

  // -- running ----------------------------------------------------------------------------

  /// Binds the listening socket and starts serving and announcing this instance. Returns
  /// the port bound, or an error naming the address that could not be bound.
  eddy::expected<int> start();

  /// Leaves the registry (waiting briefly for the broker), ends waiting long-polls with 503,
  /// and stops the server. Idempotent.
  void stop();

  // -- properties -------------------------------------------------------------------------

  /// The base URL other instances reach this one at; valid after `start()`.
  const std::string& endpoint() const noexcept;

  /// This instance's id in the registry.
  const std::string& instance_id() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace shop
