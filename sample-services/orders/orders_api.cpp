#include "orders_api.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <eddy/codegen/runtime.hpp>
#include <eddy/log.hpp>
#include <eddy/options.pb.h>
#include <eddy/record.hpp>

#include "change_notifier.hpp"
#include "forwarder.hpp"
#include "host_identity.hpp"
#include "instance_registry.hpp"
#include "order_json.hpp"

namespace shop {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

/// How often a waiting request re-checks ownership even without a change of its key.
constexpr milliseconds recheck_interval{250};

/// How long to wait between rounds of forwarding when no owner answered.
constexpr milliseconds forward_retry_interval{100};

/// How long a POST waits for the broker's acknowledgement.
constexpr milliseconds publish_timeout{30000};

/// How long `stop()` waits for the registry tombstone to be acknowledged.
constexpr milliseconds leave_timeout{2000};

/// The topic and partition count of shop.Order, from its schema's Eddy options.
std::string orders_topic() {
  return Order::descriptor()->options().GetExtension(eddy::topic);
}

int orders_partitions() {
  return Order::descriptor()->options().GetExtension(eddy::partitions);
}

void reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void refuse(httplib::Response& res, int status, const std::string& reason) {
  reply(res, status, nlohmann::json{{"error", reason}});
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The base URL of `host:port` as other machines reach it.
std::string endpoint_of(const std::string& host, int port) {
  std::string name = host;
  if (name.empty() || name == "0.0.0.0" || name == "::")
    name = host_name();
  else if (name.find(':') != std::string::npos)
    name = "[" + name + "]";
  return "http://" + name + ":" + std::to_string(port);
}

/// What this instance's table says about an order.
struct local_read {
  enum kind_t { found, absent, not_owned, failed } kind;
  Order order;
  std::string reason;
};

} // namespace

struct orders_api::impl {
  impl(eddy::service& s, orders_api_options o)
    : svc(s),
      opts(std::move(o)),
      topic(orders_topic()),
      partitions(orders_partitions()),
      registry(opts.instance_id, opts.group, 3 * opts.heartbeat) {}

  eddy::service& svc;
  orders_api_options opts;
  std::string topic;
  int partitions;
  instance_registry registry;
  change_notifier changes;
  httplib::Server server;
  std::string endpoint;
  std::thread server_thread;
  std::thread registry_thread;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  std::mutex stop_mtx;
  std::condition_variable stop_cv;

  /// Order ids with a POST in progress on this instance, and orders published but not yet
  /// seen in the table (by id: the order and its offset), so that a retried POST finds
  /// them.
  std::mutex posts_mtx;
  std::condition_variable posts_cv;
  std::set<std::string> posting;
  struct pending_order {
    Order order;
    std::int64_t offset;
    clock::time_point published;
  };
  std::map<std::string, pending_order> pending;

  /// Forwards requests for keys of other instances.
  forwarder forwarding{opts.instance_id, registry, publish_timeout};

  // -- the table --------------------------------------------------------------------------

  void on_order_changed(const eddy::record& rec) {
    {
      std::lock_guard<std::mutex> guard{posts_mtx};
      if (auto i = pending.find(rec.key); i != pending.end() && rec.offset >= i->second.offset)
        pending.erase(i);
    }
    changes.changed(rec.key);
  }

  local_read read_local(const std::string& id) const {
    auto value = svc.lookup(topic, id);
    if (!value) {
      if (value.error_value().code == eddy::errc::not_owned)
        return {local_read::not_owned, {}, value.error_value().message};
      return {local_read::failed, {}, value.error_value().what()};
    }
    if (!value->has_value())
      return {local_read::absent, {}, {}};
    local_read result{local_read::found, {}, {}};
    if (!result.order.ParseFromString(**value))
      return {local_read::failed,
              {},
              "the stored record of order '" + id + "' does not parse as shop.Order"};
    return result;
  }

  // -- forwarding -------------------------------------------------------------------------

  /// Answers 503 for `partition` when no owner answered before the deadline.
  void no_owner(httplib::Response& res, std::int32_t partition, const std::string& failure) {
    refuse(res, 503,
           "no instance owning partition " + std::to_string(partition) + " of '" + topic
             + "' answered (" + std::to_string(registry.size())
             + " other instances known; last: " + failure + ")");
  }

  /// Sleeps until `until` or the stop, whichever comes first.
  void pause_until(clock::time_point until) {
    std::unique_lock<std::mutex> lock{stop_mtx};
    stop_cv.wait_until(lock, until, [&] { return stopping.load(); });
  }

  // -- requests ---------------------------------------------------------------------------

  /// Parses `?timeout=ms`; nullopt (with `res` set to 400) if it is malformed or too long.
  std::optional<milliseconds> timeout_of(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("timeout"))
      return opts.default_timeout;
    auto text = req.get_param_value("timeout");
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    bool digits =
      !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), digit);
    if (!digits || std::stoll(text) > opts.max_timeout.count()) {
      refuse(res, 400,
             "query parameter 'timeout' must be a number of milliseconds from 0 to "
               + std::to_string(opts.max_timeout.count()));
      return std::nullopt;
    }
    return milliseconds{std::stoll(text)};
  }

  /// GET /v1/orders/{id} (`decided` false) and GET /v1/orders/{id}/validated (true):
  /// served from the table while this instance owns the key, else forwarded to the owner.
  void get_order(const httplib::Request& req, httplib::Response& res, bool decided) {
    std::string id = req.matches[1];
    if (!valid_order_id(id)) {
      refuse(res, 400, "'" + id + "' is not a valid order id");
      return;
    }
    auto timeout = timeout_of(req, res);
    if (!timeout)
      return;
    auto deadline = clock::now() + *timeout;
    bool was_forwarded = req.has_header(forwarded_header);
    auto partition = eddy::partition_for(id, partitions);
    auto path = "/v1/orders/" + id + (decided ? "/validated" : "");
    std::string failure = "the registry knows no instance owning it";
    change_notifier::watch watch{changes, id};
    for (;;) {
      if (stopping) {
        refuse(res, was_forwarded ? misdirected : 503,
               "instance " + opts.instance_id + " is shutting down");
        return;
      }
      auto local = read_local(id);
      if (local.kind == local_read::failed) {
        refuse(res, 500, local.reason);
        return;
      }
      bool is_ready =
        local.kind == local_read::found
        && (!decided || local.order.state() == Order::VALIDATED
            || local.order.state() == Order::FAILED || local.order.state() == Order::SHIPPED);
      if (is_ready) {
        reply(res, 200, order_to_json(local.order));
        return;
      }
      if (local.kind == local_read::not_owned) {
        if (was_forwarded) {
          refuse(res, misdirected,
                 "instance " + opts.instance_id + " does not own order '" + id
                   + "': " + local.reason);
          return;
        }
        if (forwarding.forward_round(req, res, partition, path, deadline, failure))
          return;
        if (clock::now() >= deadline) {
          no_owner(res, partition, failure);
          return;
        }
        pause_until(std::min(deadline, clock::now() + forward_retry_interval));
        continue;
      }
      if (clock::now() >= deadline) {
        auto what = local.kind == local_read::found
                      ? "is still " + Order::State_Name(local.order.state())
                      : std::string{"does not exist"};
        refuse(res, 504,
               "order '" + id + "' " + what + " after " + std::to_string(timeout->count())
                 + " ms");
        return;
      }
      watch.wait_until(std::min(deadline, clock::now() + recheck_interval));
    }
  }

  /// POST /v1/orders: an order without id gets a random one and is published here; one
  /// with a client-chosen id is created by the owner of its partition, which knows whether
  /// the id exists already.
  void post_order(const httplib::Request& req, httplib::Response& res) {
    auto parsed = order_from_json(req.body);
    if (!parsed.order) {
      refuse(res, 400, parsed.reason);
      return;
    }
    auto order = std::move(*parsed.order);
    if (order.id().empty()) {
      order.set_id(random_hex(16));
      publish_new(order, res);
      return;
    }
    auto deadline = clock::now() + opts.default_timeout;
    auto partition = eddy::partition_for(order.id(), partitions);
    std::string failure = "the registry knows no instance owning it";
    for (;;) {
      if (stopping) {
        refuse(res, req.has_header(forwarded_header) ? misdirected : 503,
               "instance " + opts.instance_id + " is shutting down");
        return;
      }
      if (read_local(order.id()).kind != local_read::not_owned) {
        create_owned(order, res);
        return;
      }
      if (req.has_header(forwarded_header)) {
        refuse(res, misdirected,
               "instance " + opts.instance_id + " does not own order '" + order.id() + "'");
        return;
      }
      if (forwarding.forward_round(req, res, partition, "/v1/orders", deadline, failure))
        return;
      if (clock::now() >= deadline) {
        no_owner(res, partition, failure);
        return;
      }
      pause_until(std::min(deadline, clock::now() + forward_retry_interval));
    }
  }

  /// Creates `order` (with a client-chosen id) on the instance owning it: a repeated POST
  /// of the same order answers 200 with it, one with other fields 409; POSTs of one id are
  /// handled one at a time.
  void create_owned(const Order& order, httplib::Response& res) {
    const auto& id = order.id();
    {
      std::unique_lock<std::mutex> lock{posts_mtx};
      posts_cv.wait(lock, [&] { return posting.count(id) == 0; });
      posting.insert(id);
    }
    struct release {
      impl& self;
      const std::string& id;
      ~release() {
        std::lock_guard<std::mutex> guard{self.posts_mtx};
        self.posting.erase(id);
        self.posts_cv.notify_all();
      }
    } released{*this, id};

    std::optional<Order> existing;
    auto local = read_local(id);
    if (local.kind == local_read::failed) {
      refuse(res, 500, local.reason);
      return;
    }
    if (local.kind == local_read::found) {
      existing = local.order;
    } else {
      std::lock_guard<std::mutex> guard{posts_mtx};
      if (auto i = pending.find(id); i != pending.end())
        existing = i->second.order;
    }
    if (!existing) {
      publish_new(order, res);
      return;
    }
    if (!same_request(*existing, order)) {
      reply(res, 409,
            nlohmann::json{{"error", "order '" + id + "' exists with other fields"},
                           {"order", order_to_json(*existing)}});
      return;
    }
    res.set_header("Location", "/v1/orders/" + id);
    reply(res, 200, order_to_json(*existing));
  }

  /// Publishes `order` as a new Order record; answers 201 once the broker acknowledged it.
  void publish_new(const Order& order, httplib::Response& res) {
    auto rec = eddy::codegen::encode(topic, order.id(), order);
    auto delivery = svc.publish(rec.topic, rec.key, rec.value, rec.headers);
    if (delivery.wait_for(publish_timeout) != std::future_status::ready) {
      refuse(res, 503,
             "the broker did not acknowledge order '" + order.id() + "' within "
               + std::to_string(publish_timeout.count())
               + " ms; it may still be written: retry with the same id");
      return;
    }
    auto offset = delivery.get();
    if (!offset) {
      refuse(res, 503,
             "order '" + order.id() + "' was not written: " + offset.error_value().what());
      return;
    }
    {
      std::lock_guard<std::mutex> guard{posts_mtx};
      auto now = clock::now();
      std::erase_if(pending, [&](auto& kv) { return now - kv.second.published > 60s; });
      pending[order.id()] = pending_order{order, *offset, now};
    }
    res.set_header("Location", "/v1/orders/" + order.id());
    reply(res, 201, order_to_json(order));
  }

  /// GET /v1/health.
  void health(httplib::Response& res) {
    auto owned = svc.owned_partitions();
    std::sort(owned.begin(), owned.end());
    reply(res, 200,
          nlohmann::json{{"instance", opts.instance_id},
                         {"endpoint", endpoint},
                         {"state", eddy::to_string(svc.state())},
                         {"partitions", owned},
                         {"known_instances", registry.size()}});
  }

  // -- the registry -----------------------------------------------------------------------

  /// Announces this instance's partitions whenever they change, and every heartbeat.
  void announce_loop() {
    std::vector<std::int32_t> announced;
    bool accepted = false;
    std::int64_t assigned_ms = 0;
    auto last = clock::time_point{};
    std::optional<std::future<eddy::expected<std::int64_t>>> in_flight;
    std::unique_lock<std::mutex> lock{stop_mtx};
    while (!stop_cv.wait_for(lock, milliseconds{200}, [&] { return stopping.load(); })) {
      if (in_flight && in_flight->wait_for(milliseconds{0}) == std::future_status::ready) {
        if (auto outcome = in_flight->get(); !outcome) {
          eddy::logger().warn("orders: registry entry not written: {}",
                              outcome.error_value().what());
          accepted = false;
        }
        in_flight.reset();
      }
      auto state = svc.state();
      if (state != eddy::service_state::running && state != eddy::service_state::restoring)
        continue;
      auto owned = svc.owned_partitions();
      std::sort(owned.begin(), owned.end());
      bool changed = !accepted || owned != announced;
      if (owned != announced)
        assigned_ms = wall_ms();
      if ((!changed && clock::now() - last < opts.heartbeat) || in_flight)
        continue;
      instance_entry entry{opts.group, endpoint, owned, assigned_ms};
      lock.unlock();
      in_flight = svc.publish(opts.registry_topic, opts.instance_id, encode_entry(entry));
      lock.lock();
      announced = owned;
      accepted = true;
      last = clock::now();
    }
  }

  /// Deletes this instance's registry entry, waiting briefly for the broker.
  void leave_registry() {
    auto gone = svc.publish_tombstone(opts.registry_topic, opts.instance_id);
    if (gone.wait_for(leave_timeout) != std::future_status::ready)
      eddy::logger().warn("orders: registry tombstone not acknowledged within {} ms",
                          leave_timeout.count());
    else if (auto outcome = gone.get(); !outcome)
      eddy::logger().info("orders: registry entry not deleted: {}",
                          outcome.error_value().what());
  }

  // -- the server -------------------------------------------------------------------------

  void routes() {
    // Every answer names the instance that gave it.
    auto served = [this](auto handler) {
      return [this, handler](const httplib::Request& req, httplib::Response& res) {
        res.set_header(served_by_header, opts.instance_id);
        handler(req, res);
      };
    };
    server.Post("/v1/orders", served([this](const httplib::Request& req,
                                            httplib::Response& res) { post_order(req, res); }));
    server.Get(R"(/v1/orders/([^/]+))",
               served([this](const httplib::Request& req, httplib::Response& res) {
                 get_order(req, res, false);
               }));
    server.Get(R"(/v1/orders/([^/]+)/validated)",
               served([this](const httplib::Request& req, httplib::Response& res) {
                 get_order(req, res, true);
               }));
    server.Get("/v1/health", served([this](const httplib::Request&, httplib::Response& res) {
                 health(res);
               }));
    server.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!res.has_header(served_by_header))
        res.set_header(served_by_header, opts.instance_id);
      if (!res.body.empty())
        return;
      switch (res.status) {
      case 404:
        refuse(res, 404,
               "no such resource: the API serves POST /v1/orders, "
               "GET /v1/orders/{id}[/validated] and GET /v1/health");
        break;
      case 413:
        refuse(res, 413,
               "the body is larger than " + std::to_string(opts.max_body_bytes) + " bytes");
        break;
      default:
        refuse(res, res.status, "HTTP status " + std::to_string(res.status));
      }
    });
    server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        refuse(res, 500, what);
      });
  }
};

// -- orders_api ---------------------------------------------------------------------------

orders_api::orders_api(eddy::service& svc, orders_api_options options)
  : impl_(std::make_unique<impl>(svc, std::move(options))) {
  auto& self = *impl_;
  svc.topic(self.topic, self.partitions);
  svc.topic(self.opts.registry_topic, 1, -1, {{"cleanup.policy", "compact"}});
  svc.table(self.topic, self.partitions,
            [&self](const eddy::record& rec) { self.on_order_changed(rec); });
  svc.global_table(self.opts.registry_topic,
                   [&self](const eddy::record& rec) { self.registry.apply(rec); });
}

orders_api::~orders_api() {
  stop();
}

eddy::expected<int> orders_api::start() {
  auto& self = *impl_;
  if (self.started)
    return eddy::error{eddy::errc::invalid_config, "the orders API was started already"};
  auto threads = static_cast<std::size_t>(self.opts.threads);
  self.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  self.server.set_payload_max_length(self.opts.max_body_bytes);
  self.routes();
  int port = self.opts.port;
  if (port == 0)
    port = self.server.bind_to_any_port(self.opts.host);
  else if (!self.server.bind_to_port(self.opts.host, port))
    port = -1;
  if (port <= 0)
    return eddy::error{eddy::errc::invalid_config,
                       "app.http.host/app.http.port: cannot listen on " + self.opts.host + ":"
                         + std::to_string(self.opts.port)};
  self.endpoint = self.opts.advertised_url.empty() ? endpoint_of(self.opts.host, port)
                                                   : self.opts.advertised_url;
  self.started = true;
  self.server_thread = std::thread{[&self] { self.server.listen_after_bind(); }};
  self.registry_thread = std::thread{[&self] { self.announce_loop(); }};
  return port;
}

void orders_api::stop() {
  auto& self = *impl_;
  if (!self.started || self.stopped)
    return;
  self.stopped = true;
  {
    std::lock_guard<std::mutex> guard{self.stop_mtx};
    self.stopping = true;
  }
  self.stop_cv.notify_all();
  self.changes.wake_all();
  self.forwarding.stop();
  self.registry_thread.join();
  self.leave_registry();
  self.server.stop();
  self.server_thread.join();
}

const std::string& orders_api::endpoint() const noexcept {
  return impl_->endpoint;
}

const std::string& orders_api::instance_id() const noexcept {
  return impl_->opts.instance_id;
}

} // namespace shop
