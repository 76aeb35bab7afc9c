// Integration test of the shop's orders HTTP API on the real local broker: orders
// instances run in-process (an Eddy service plus its HTTP front end each, on free ports)
// or, once, as the `orders` program; requests go over HTTP, Order records are read from
// and written to the real `orders` topic.
//
// `orders` and the registry topic are shared with other runs, so every order id and
// consumer group carries a name unique to this run.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <eddy/codegen/runtime.hpp>
#include <eddy/service.hpp>

#include "child_process.hpp"
#include "event_producer.hpp"
#include "kafka_fixture.hpp"
#include "orders_api.hpp"
#include "shop/orders.pb.h"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// A folder removed when the test ends.
class temp_dir {
public:
  temp_dir()
    : path_(std::filesystem::temp_directory_path() / eddy::test::unique_name("orders")) {
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string string() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

/// One orders instance in-process: an Eddy service with its own state folder, the HTTP
/// API on a free port, the service running on a thread of its own.
class orders_instance {
public:
  explicit orders_instance(const std::string& group)
    : svc_{"orders", config_for(group)} {
    auto options = shop::orders_api_options::from_config(config_for(group), "orders");
    REQUIRE(options);
    options->heartbeat = 500ms;
    api_ = std::make_unique<shop::orders_api>(svc_, *options);
    auto port = api_->start();
    REQUIRE(port);
    port_ = *port;
    running_ = std::make_unique<eddy::test::service_thread>(svc_);
  }

  ~orders_instance() { stop(); }

  /// Leaves the registry, stops the API and the service.
  void stop() {
    if (!running_)
      return;
    api_->stop();
    CHECK(running_->stop_and_join());
    running_.reset();
  }

  /// Waits until the service runs with at least `partitions` partitions.
  bool wait_assigned(std::int64_t partitions) { return running_->wait_assigned(partitions); }

  /// A client of this instance's API.
  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", port_};
    c.set_read_timeout(70, 0);
    return c;
  }

  const std::string& id() const { return api_->instance_id(); }
  eddy::service& service() { return svc_; }

private:
  eddy::config config_for(const std::string& group) const {
    eddy::config cfg;
    cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
      .set("group.id", group)
      .set("eddy.state.dir", state_.string())
      .set("eddy.commit.interval.ms", "200")
      .set("app.http.port", "0");
    return cfg;
  }

  temp_dir state_;
  eddy::service svc_;
  std::unique_ptr<shop::orders_api> api_;
  int port_ = 0;
  std::unique_ptr<eddy::test::service_thread> running_;
};

json order_body(const std::string& id, const std::string& product = "jumper", int quantity = 2,
                double price = 12.5) {
  json body{{"customer_id", "customer-" + id},
            {"product", product},
            {"quantity", quantity},
            {"price", price}};
  if (!id.empty())
    body["id"] = id;
  return body;
}

/// The Order the orders topic would hold for `body` in `state`.
shop::Order order_of(const json& body, shop::Order::State state) {
  shop::Order o;
  o.set_id(body.at("id").get<std::string>());
  o.set_customer_id(body.at("customer_id").get<std::string>());
  o.set_product(body.at("product").get<std::string>());
  o.set_quantity(body.at("quantity").get<int>());
  o.set_price(body.at("price").get<double>());
  o.set_state(state);
  return o;
}

httplib::Result post(httplib::Client& c, const std::string& body) {
  return c.Post("/v1/orders", body, "application/json");
}

httplib::Result get(httplib::Client& c, const std::string& path) {
  return c.Get(path);
}

/// Ids `<prefix>-<n>`, `per_partition` of them in each of the 4 partitions of `orders`.
std::vector<std::string> ids_covering_partitions(const std::string& prefix, int per_partition) {
  std::map<std::int32_t, int> taken;
  std::vector<std::string> ids;
  for (int n = 0; ids.size() < static_cast<std::size_t>(4 * per_partition); ++n) {
    auto id = prefix + "-" + std::to_string(n);
    if (taken[eddy::partition_for(id, 4)]++ < per_partition)
      ids.push_back(id);
  }
  return ids;
}

} // namespace

TEST_CASE("GET /validated of an unknown order with timeout=100 answers 504 after 100 ms") {
  orders_instance orders{eddy::test::unique_name("orders-group")};
  REQUIRE(orders.wait_assigned(4));
  auto client = orders.client();
  auto id = eddy::test::unique_name("orders-unknown");

  auto started = std::chrono::steady_clock::now();
  auto res = get(client, "/v1/orders/" + id + "/validated?timeout=100");
  auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(res);
  CHECK(res->status == 504);
  CHECK(json::parse(res->body).at("error").get<std::string>().find(id) != std::string::npos);
  CHECK(elapsed >= 100ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("a malformed POST answers 400 (an oversized one 413) with a reason, writes nothing") {
  orders_instance orders{eddy::test::unique_name("orders-group")};
  REQUIRE(orders.wait_assigned(4));
  auto client = orders.client();
  auto run = eddy::test::unique_name("orders-bad");

  std::vector<std::pair<std::string, std::string>> bad; // body, expected words of the reason
  auto with = [&](int n, auto&& change) {
    auto body = order_body(run + "-" + std::to_string(n));
    change(body);
    return body.dump();
  };
  bad.emplace_back("{\"id\": \"" + run + "-0\", \"customer_id\": ", "not valid JSON");
  bad.emplace_back("[" + order_body(run + "-1").dump() + "]", "JSON object");
  bad.emplace_back(with(2, [](json& b) { b.erase("customer_id"); }),
                   "'customer_id' is missing");
  bad.emplace_back(with(3, [](json& b) { b["quantity"] = "2"; }), "'quantity' must be an int");
  bad.emplace_back(with(4, [](json& b) { b["quantity"] = 2.5; }), "'quantity' must be an int");
  bad.emplace_back(with(5, [](json& b) { b["quantity"] = 1LL << 40; }), "'quantity' is out of");
  bad.emplace_back(with(6, [](json& b) { b["price"] = "free"; }), "'price' must be a number");
  bad.emplace_back(with(7, [](json& b) { b["product"] = ""; }),
                   "'product' must be a non-empty");
  bad.emplace_back(with(8, [](json& b) { b["state"] = "VALIDATED"; }), "'state' is set by");
  bad.emplace_back(with(9, [](json& b) { b["colour"] = "red"; }), "unknown field 'colour'");
  bad.emplace_back(with(10, [&](json& b) { b["id"] = run + "/10"; }), "field 'id'");
  bad.emplace_back("", "not valid JSON");
  for (auto& [body, reason] : bad) {
    INFO(body);
    auto res = post(client, body);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(json::parse(res->body).at("error").get<std::string>().find(reason)
          != std::string::npos);
  }

  auto huge = order_body(run + "-11");
  huge["product"] = std::string(70 * 1024, 'x');
  auto res = post(client, huge.dump());
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(json::parse(res->body).at("error").get<std::string>().find("65536")
        != std::string::npos);

  // Nothing of it reached the topic, nor the table.
  for (int n = 0; n <= 11; ++n) {
    auto answer = get(client, "/v1/orders/" + run + "-" + std::to_string(n) + "?timeout=0");
    REQUIRE(answer);
    CHECK(answer->status == 504);
  }
  std::vector<std::string> written;
  for (auto& rec : eddy::test::consume(eddy::test::broker_bootstrap(), "orders", 1, 2s))
    if (rec.key.starts_with(run))
      written.push_back(rec.key);
  CHECK(written.empty());
}

TEST_CASE("POST then GET returns the same fields; a repeated POST of an id is idempotent") {
  orders_instance orders{eddy::test::unique_name("orders-group")};
  REQUIRE(orders.wait_assigned(4));
  auto client = orders.client();

  SECTION("an order without id gets one, and the Location to read it") {
    auto body = order_body("", "scarf", 3, 9.75);
    auto created = post(client, body.dump());
    REQUIRE(created);
    REQUIRE(created->status == 201);
    auto order = json::parse(created->body);
    auto id = order.at("id").get<std::string>();
    CHECK(id.size() == 32);
    CHECK(created->get_header_value("Location") == "/v1/orders/" + id);
    auto read = get(client, created->get_header_value("Location"));
    REQUIRE(read);
    REQUIRE(read->status == 200);
    auto stored = json::parse(read->body);
    CHECK(stored == order);
    CHECK(stored.at("state") == "CREATED");
    CHECK(stored.at("customer_id") == body.at("customer_id"));
    CHECK(stored.at("product") == "scarf");
    CHECK(stored.at("quantity") == 3);
    CHECK(stored.at("price") == 9.75);
  }

  SECTION("a client-chosen id: same order again answers 200, other fields 409") {
    auto id = eddy::test::unique_name("orders-own-id");
    auto body = order_body(id);
    auto created = post(client, body.dump());
    REQUIRE(created);
    REQUIRE(created->status == 201);
    CHECK(created->get_header_value("Location") == "/v1/orders/" + id);
    auto again = post(client, body.dump());
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(json::parse(again->body) == json::parse(created->body));
    body["quantity"] = 7;
    auto conflict = post(client, body.dump());
    REQUIRE(conflict);
    CHECK(conflict->status == 409);
    auto read = get(client, "/v1/orders/" + id);
    REQUIRE(read);
    REQUIRE(read->status == 200);
    CHECK(json::parse(read->body).at("quantity") == 2);
    // Exactly one record was written.
    int records = 0;
    for (auto& rec : eddy::test::consume(eddy::test::broker_bootstrap(), "orders", 1, 2s))
      if (rec.key == id) {
        ++records;
        REQUIRE(rec.find_header("eddy.type") != nullptr);
        CHECK(*rec.find_header("eddy.type") == "shop.Order");
      }
    CHECK(records == 1);
  }
}

TEST_CASE("GET /validated waits until a VALIDATED or FAILED record of the order appears") {
  orders_instance orders{eddy::test::unique_name("orders-group")};
  REQUIRE(orders.wait_assigned(4));
  auto run = eddy::test::unique_name("orders-poll");
  eddy::test::event_producer producer{eddy::test::broker_bootstrap()};

  for (auto decided : {shop::Order::VALIDATED, shop::Order::FAILED}) {
    auto body = order_body(run + "-" + shop::Order::State_Name(decided));
    auto id = body.at("id").get<std::string>();
    INFO(id);
    auto client = orders.client();
    auto created = post(client, body.dump());
    REQUIRE(created);
    REQUIRE(created->status == 201);

    // 201 means the broker has the record; the view may take a moment longer to read it.
    auto exists = get(client, "/v1/orders/" + id + "?timeout=10000");
    REQUIRE(exists);
    REQUIRE(exists->status == 200);
    auto pending = get(client, "/v1/orders/" + id + "/validated?timeout=300");
    REQUIRE(pending);
    CHECK(pending->status == 504);
    CHECK(json::parse(pending->body).at("error").get<std::string>().find("CREATED")
          != std::string::npos);

    auto poll = std::async(std::launch::async, [&] {
      auto c = orders.client();
      return get(c, "/v1/orders/" + id + "/validated?timeout=30000");
    });
    REQUIRE(poll.wait_for(1s) == std::future_status::timeout);
    auto produced = std::chrono::steady_clock::now();
    producer.send("orders", id, order_of(body, decided));
    producer.flush();
    REQUIRE(poll.wait_for(10s) == std::future_status::ready);
    CHECK(std::chrono::steady_clock::now() - produced < 5s);
    auto res = poll.get();
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto order = json::parse(res->body);
    CHECK(order.at("state") == shop::Order::State_Name(decided));
    CHECK(order.at("id") == id);
    CHECK(order.at("product") == body.at("product"));
  }
}

TEST_CASE("with two instances a GET on either answers for every order") {
  auto group = eddy::test::unique_name("orders-group");
  orders_instance a{group};
  orders_instance b{group};
  REQUIRE(eddy::test::eventually(
    [&] {
      auto sa = a.service().stats().assigned_partitions;
      auto sb = b.service().stats().assigned_partitions;
      return sa > 0 && sb > 0 && sa + sb == 4;
    },
    60s));
  auto ca = a.client();
  auto cb = b.client();

  // Two ids in every partition, each POSTed through both instances in turn: a POST with a
  // chosen id is created by the owner of its partition.
  auto ids = ids_covering_partitions(eddy::test::unique_name("orders-two"), 2);
  std::map<std::string, json> created;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto res = post(i % 2 == 0 ? ca : cb, order_body(ids[i]).dump());
    REQUIRE(res);
    REQUIRE(res->status == 201);
    created[ids[i]] = json::parse(res->body);
  }

  std::set<std::string> owners;
  for (auto& id : ids) {
    INFO(id);
    auto from_a = get(ca, "/v1/orders/" + id + "?timeout=10000");
    auto from_b = get(cb, "/v1/orders/" + id + "?timeout=10000");
    REQUIRE(from_a);
    REQUIRE(from_b);
    REQUIRE(from_a->status == 200);
    REQUIRE(from_b->status == 200);
    CHECK(json::parse(from_a->body) == created[id]);
    CHECK(json::parse(from_b->body) == created[id]);
    auto served_a = from_a->get_header_value("X-Eddy-Served-By");
    CHECK(served_a == from_b->get_header_value("X-Eddy-Served-By"));
    owners.insert(served_a);
  }
  CHECK(owners == std::set<std::string>{a.id(), b.id()});

  // A long-poll through the instance that does not own the order is woken as well.
  eddy::test::event_producer producer{eddy::test::broker_bootstrap()};
  for (auto& id : {ids[0], ids[1]}) {
    auto owner_is_a =
      get(ca, "/v1/orders/" + id)->get_header_value("X-Eddy-Served-By") == a.id();
    auto poll = std::async(std::launch::async, [&, id, owner_is_a] {
      auto c = owner_is_a ? b.client() : a.client();
      return get(c, "/v1/orders/" + id + "/validated?timeout=30000");
    });
    REQUIRE(poll.wait_for(1s) == std::future_status::timeout);
    auto body = created[id];
    producer.send("orders", id, order_of(body, shop::Order::VALIDATED));
    producer.flush();
    REQUIRE(poll.wait_for(10s) == std::future_status::ready);
    auto res = poll.get();
    REQUIRE(res);
    REQUIRE(res->status == 200);
    CHECK(json::parse(res->body).at("state") == "VALIDATED");
  }

  // Once an instance stops, the other one takes all partitions and answers for every order.
  b.stop();
  for (auto& id : ids) {
    auto res = get(ca, "/v1/orders/" + id + "?timeout=30000");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    CHECK(res->get_header_value("X-Eddy-Served-By") == a.id());
  }
}

TEST_CASE("the orders program serves until SIGTERM and then exits 0") {
  temp_dir state;
  eddy::test::child_process orders{EDDY_ORDERS_BINARY,
                                   {"-X", "bootstrap.servers=" + eddy::test::broker_bootstrap(),
                                    "-X", "group.id=" + eddy::test::unique_name("orders-group"),
                                    "-X", "eddy.state.dir=" + state.string(), "-X",
                                    "app.http.port=0"}};
  std::smatch listening;
  std::string output;
  REQUIRE(eddy::test::eventually(
    [&] {
      output = orders.output();
      std::regex endpoint{"listening on http://127\\.0\\.0\\.1:([0-9]+)"};
      return std::regex_search(output, listening, endpoint);
    },
    20s));
  httplib::Client client{"127.0.0.1", std::stoi(listening[1])};
  client.set_read_timeout(30, 0);
  REQUIRE(eddy::test::eventually(
    [&] {
      auto health = client.Get("/v1/health");
      return health && json::parse(health->body).at("partitions").size() == 4;
    },
    30s));
  auto created = client.Post("/v1/orders", order_body("").dump(), "application/json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  auto read = client.Get(created->get_header_value("Location"));
  REQUIRE(read);
  CHECK(read->status == 200);
  CHECK(json::parse(read->body) == json::parse(created->body));

  orders.signal(SIGTERM);
  auto code = orders.wait(30s);
  INFO(orders.output());
  REQUIRE(code);
  CHECK(*code == 0);
}
