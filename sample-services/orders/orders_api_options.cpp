// The orders API's settings: read from the service's config, range-checked, and described
// for `--help`.
#include "orders_api.hpp"

#include <stdexcept>

#include <unistd.h>

#include "host_identity.hpp"

namespace shop {

namespace {

using std::chrono::milliseconds;

} // namespace

// -- orders_api_options -------------------------------------------------------------------

eddy::expected<orders_api_options>
orders_api_options::from_config(const eddy::config& cfg, const std::string& service_name) {
  orders_api_options opts;
  opts.host = cfg.get("app.http.host").value_or(opts.host);
  opts.advertised_url = cfg.get("app.http.advertised.url").value_or("");
  opts.instance_id = cfg.get("app.instance.id").value_or("");
  if (opts.instance_id.empty())
    opts.instance_id = host_name() + "-" + std::to_string(getpid()) + "-" + random_hex(4);
  opts.registry_topic = cfg.get("app.registry.topic").value_or(opts.registry_topic);
  opts.group =
    cfg.get("consumer.group.id").value_or(cfg.get("group.id").value_or(service_name));

  std::int64_t port = 0, threads = 0, body = 0, default_timeout = 0, max_timeout = 0,
               heartbeat = 0;
  try {
    port = cfg.integer("app.http.port", opts.port, 0, 65535);
    threads = cfg.integer("app.http.threads", opts.threads, 2, 1024);
    body = cfg.integer("app.http.max.body.bytes",
                       static_cast<std::int64_t>(opts.max_body_bytes), 1, 64 << 20);
    max_timeout = cfg.integer("app.poll.max.timeout.ms", opts.max_timeout.count(), 0, 3600000);
    default_timeout =
      cfg.integer("app.poll.default.timeout.ms", opts.default_timeout.count(), 0, 3600000);
    heartbeat = cfg.integer("app.registry.heartbeat.ms", opts.heartbeat.count(), 100, 600000);
  } catch (const std::invalid_argument& e) {
    return eddy::error{eddy::errc::invalid_config, e.what()};
  }
  if (default_timeout > max_timeout)
    return eddy::error{eddy::errc::invalid_config,
                       "app.poll.default.timeout.ms must not exceed app.poll.max.timeout.ms ("
                         + std::to_string(max_timeout) + ")"};
  opts.port = static_cast<int>(port);
  opts.threads = static_cast<int>(threads);
  opts.max_body_bytes = static_cast<std::size_t>(body);
  opts.default_timeout = milliseconds{default_timeout};
  opts.max_timeout = milliseconds{max_timeout};
  opts.heartbeat = milliseconds{heartbeat};
  return opts;
}

std::string orders_api_options::describe_settings() {
  return "  app.http.host                 address to listen on (default 127.0.0.1)\n"
         "  app.http.port                 port to listen on; 0 picks a free one (default "
         "8080)\n"
         "  app.http.advertised.url       base URL other instances forward to (default\n"
         "                                http://HOST:PORT, the host name for 0.0.0.0)\n"
         "  app.http.threads              request threads; a waiting long-poll holds one "
         "(default 32)\n"
         "  app.http.max.body.bytes       largest POST body, larger ones get 413 (default "
         "65536)\n"
         "  app.poll.default.timeout.ms   GET long-poll time without ?timeout= (default "
         "10000)\n"
         "  app.poll.max.timeout.ms       largest ?timeout= accepted (default 60000)\n"
         "  app.instance.id               this instance's registry id (default "
         "HOST-PID-RANDOM)\n"
         "  app.registry.topic            compacted topic of the instance registry (default\n"
         "                                orders-instances)\n"
         "  app.registry.heartbeat.ms     registry refresh period; entries expire after three\n"
         "                                (default 2000)\n";
}

} // namespace shop
