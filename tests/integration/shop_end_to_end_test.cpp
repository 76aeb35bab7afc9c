// End-to-end test of the shop on the real local broker: the orders HTTP API and the
// order-details, fraud, inventory and validations-aggregator services run in-process, each
// built from its schema with its generated bind(), each with a consumer group of its own.
// Orders are POSTed over HTTP and their outcome read with `GET /v1/orders/{id}/validated`;
// the stock is seeded on `warehouse-inventory`.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <eddy/service.hpp>

#include "event_producer.hpp"
#include "fraud.hpp"
#include "inventory.hpp"
#include "kafka_fixture.hpp"
#include "order_details.hpp"
#include "order_json.hpp"
#include "orders_api.hpp"
#include "shop_support.hpp"
#include "validations_aggregator.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// A shop service in-process: the service, its handlers bound by the generated bind(), and
/// the thread running it. Its group is `<run>-<name>-group` and starts at the end of the
/// shared topics it consumes.
template <class Handlers, class Metadata>
struct running_service {
  running_service(const std::string& run, const std::string& name,
                  const std::filesystem::path& state_dir)
    : svc{name, config(run + "-" + name, state_dir)} {
    shop::bind(svc, handlers);
    thread = std::make_unique<eddy::test::service_thread>(svc);
  }

  static eddy::config config(const std::string& prefix,
                             const std::filesystem::path& state_dir) {
    shop::test::start_at_end<Metadata>(prefix + "-group");
    return shop::test::service_config(prefix, state_dir);
  }

  Handlers handlers;
  eddy::service svc;
  std::unique_ptr<eddy::test::service_thread> thread;
};

/// The orders API in-process on a free port, in front of its own Eddy service.
struct orders_front_end {
  orders_front_end(const std::string& run, const std::filesystem::path& state_dir)
    : svc{"orders", config(run, state_dir)} {
    auto options = shop::orders_api_options::from_config(config(run, state_dir), "orders");
    REQUIRE(options);
    api = std::make_unique<shop::orders_api>(svc, *options);
    auto bound = api->start();
    REQUIRE(bound);
    port = *bound;
    thread = std::make_unique<eddy::test::service_thread>(svc);
  }

  ~orders_front_end() { api->stop(); }

  static eddy::config config(const std::string& run, const std::filesystem::path& state_dir) {
    auto cfg = shop::test::service_config(run + "-orders", state_dir);
    cfg.set("app.http.port", "0");
    return cfg;
  }

  /// A client of the API.
  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", port};
    c.set_read_timeout(70, 0);
    return c;
  }

  eddy::service svc;
  std::unique_ptr<shop::orders_api> api;
  int port = 0;
  std::unique_ptr<eddy::test::service_thread> thread;
};

shop::Order order(const std::string& id, const std::string& product, int quantity,
                  double price) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("customer-" + id);
  o.set_state(shop::Order::CREATED);
  o.set_product(product);
  o.set_quantity(quantity);
  o.set_price(price);
  return o;
}

/// POSTs `o` (its client-chosen fields and id) and requires a 201.
void post(httplib::Client& client, const shop::Order& o) {
  json body{{"id", o.id()},
            {"customer_id", o.customer_id()},
            {"product", o.product()},
            {"quantity", o.quantity()},
            {"price", o.price()}};
  auto res = client.Post("/v1/orders", body.dump(), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 201);
}

/// Waits for the outcome of `o` and requires it to be `o` in state `state`, fields unchanged.
void require_decided(httplib::Client& client, shop::Order o, shop::Order::State state) {
  INFO("order " << o.id());
  auto res = client.Get("/v1/orders/" + o.id() + "/validated?timeout=60000");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  o.set_state(state);
  CHECK(json::parse(res->body) == shop::order_to_json(o));
}

} // namespace

TEST_CASE("the shop validates orders end to end: in stock VALIDATED with fields unchanged, out "
          "of stock FAILED") {
  const auto run = eddy::test::unique_name("shop-e2e");
  shop::test::temp_dir state_dir{run + "-state"};
  const auto bootstrap = eddy::test::broker_bootstrap();
  eddy::test::event_producer producer{bootstrap};

  running_service<shop::order_details, shop::OrderDetailsMetadata> details{run, "order-details",
                                                                           state_dir.path()};
  running_service<shop::fraud, shop::FraudMetadata> fraud{run, "fraud", state_dir.path()};
  running_service<shop::inventory, shop::InventoryMetadata> inventory{run, "inventory",
                                                                      state_dir.path()};
  running_service<shop::validations_aggregator, shop::ValidationsAggregatorMetadata> aggregator{
    run, "validations-aggregator", state_dir.path()};
  orders_front_end orders{run, state_dir.path()};
  REQUIRE(details.thread->wait_assigned(4));
  REQUIRE(fraud.thread->wait_assigned(8));
  REQUIRE(inventory.thread->wait_assigned(8));
  REQUIRE(aggregator.thread->wait_assigned(8));
  REQUIRE(orders.thread->wait_assigned(4));
  shop::test::topic_tail validations{bootstrap, "order-validations", 4};

  const auto single = run + "-single";     // 10 in stock, one order of 1
  const auto plenty = run + "-plenty";     // 100 in stock, ten orders of 1-3
  const auto sold_out = run + "-sold-out"; // none in stock, ten orders
  for (auto [product, items] :
       {std::pair{single, 10}, std::pair{plenty, 100}, std::pair{sold_out, 0}}) {
    shop::StockLevel level;
    level.set_product(product);
    level.set_quantity(items);
    producer.send("warehouse-inventory", product, level);
  }
  producer.flush();
  REQUIRE(shop::test::wait_for_rows(inventory.svc, "warehouse-inventory",
                                    {single, plenty, sold_out}));
  auto client = orders.client();

  // One order of 1 with 10 in stock.
  auto first = order(run + "-first", single, 1, 19.99);
  post(client, first);
  require_decided(client, first, shop::Order::VALIDATED);

  // Ten valid orders, all posted before any is read back.
  std::vector<shop::Order> valid;
  for (int i = 0; i < 10; ++i)
    valid.push_back(order(run + "-valid-" + std::to_string(i), plenty, 1 + i % 3, 5.5 + i));
  for (auto& o : valid)
    post(client, o);
  for (auto& o : valid)
    require_decided(client, o, shop::Order::VALIDATED);

  // Ten orders of a product the warehouse has none of.
  std::vector<shop::Order> unavailable;
  for (int i = 0; i < 10; ++i)
    unavailable.push_back(order(run + "-unavailable-" + std::to_string(i), sold_out, 1, 7.25));
  for (auto& o : unavailable)
    post(client, o);
  for (auto& o : unavailable)
    require_decided(client, o, shop::Order::FAILED);

  // Each order got each check once; only inventory failed the unavailable ones.
  auto ours = [&](const shop::OrderValidation& v) { return v.order_id().starts_with(run); };
  REQUIRE(validations.read_until(
    [&](auto& records) {
      return shop::test::events_of<shop::OrderValidation>(records, ours).size() >= 3 * 21;
    },
    30s));
  validations.read_for(1s);
  std::map<std::string, std::map<shop::OrderValidation::Check, shop::OrderValidation::Result>>
    checks;
  for (auto& v : shop::test::events_of<shop::OrderValidation>(validations.records(), ours)) {
    INFO("order " << v.order_id() << " check " << v.check());
    CHECK(checks[v.order_id()].emplace(v.check(), v.result()).second);
  }
  CHECK(checks.size() == 21);
  for (auto& [id, results] : checks) {
    INFO("order " << id);
    bool available = id.find("-unavailable-") == std::string::npos;
    CHECK(results
          == std::map<shop::OrderValidation::Check, shop::OrderValidation::Result>{
            {shop::OrderValidation::INVENTORY,
             available ? shop::OrderValidation::PASS : shop::OrderValidation::FAIL},
            {shop::OrderValidation::FRAUD, shop::OrderValidation::PASS},
            {shop::OrderValidation::ORDER_DETAILS, shop::OrderValidation::PASS}});
  }

  orders.api->stop();
  for (auto* running : {orders.thread.get(), aggregator.thread.get(), inventory.thread.get(),
                        fraud.thread.get(), details.thread.get()})
    CHECK(running->stop_and_join());
  for (auto* svc : {&details.svc, &fraud.svc, &inventory.svc, &aggregator.svc})
    CHECK(svc->stats().handler_errors == 0);
}
