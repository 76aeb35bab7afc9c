// The crash test of the shop's inventory service on the real broker: the `inventory`
// program runs in exactly_once while orders for the run's products keep coming, and is
// SIGKILLed three times while it handles them, restarting each time. Then every order has
// exactly one INVENTORY verdict (read_committed), the journal holds one decision per order
// agreeing with it, the reservations are the fold of the PASSes and never exceed the stock,
// and the state store left on disk agrees with that fold: probe orders of exactly one item
// too many fail, and of exactly what is left pass.

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "child_process.hpp"
#include "event_producer.hpp"
#include "inventory.hpp"
#include "kafka_fixture.hpp"
#include "shop_support.hpp"

using namespace std::chrono_literals;

namespace {

shop::Order order(const std::string& id, const std::string& product, int quantity) {
  shop::Order o;
  o.set_id(id);
  o.set_customer_id("customer-" + id);
  o.set_state(shop::Order::CREATED);
  o.set_product(product);
  o.set_quantity(quantity);
  o.set_price(2.5);
  return o;
}

/// The INVENTORY verdicts of `records` on orders whose id starts with `prefix`, per order.
std::map<std::string, std::vector<shop::OrderValidation::Result>>
verdicts_of(const std::vector<eddy::record>& records, const std::string& prefix) {
  std::map<std::string, std::vector<shop::OrderValidation::Result>> verdicts;
  for (auto& v : shop::test::events_of<shop::OrderValidation>(
         records, [&](const shop::OrderValidation& v) {
           return v.order_id().starts_with(prefix)
                  && v.check() == shop::OrderValidation::INVENTORY;
         }))
    verdicts[v.order_id()].push_back(v.result());
  return verdicts;
}

} // namespace

TEST_CASE("inventory SIGKILLed 3 times mid-run in exactly_once: one verdict per order, "
          "reservations the fold of the PASSes") {
  const auto run = eddy::test::unique_name("inventory-crash");
  const auto group = run + "-group";
  const auto bootstrap = eddy::test::broker_bootstrap();
  shop::test::temp_dir state_dir{run + "-state"};
  shop::test::start_at_end<shop::InventoryMetadata>(group);

  // 16 products with 150, 200, ... 900 items; 3000 orders of 1-4 items spread over them ask
  // for about 470 items of each, so the smaller stocks run out and the larger ones do not.
  constexpr int products = 16;
  constexpr int orders = 3000;
  std::map<std::string, int> stock;
  eddy::test::event_producer producer{bootstrap};
  for (int p = 0; p < products; ++p) {
    auto product = run + "-p" + std::to_string(p);
    stock[product] = 150 + 50 * p;
    shop::StockLevel level;
    level.set_product(product);
    level.set_quantity(stock[product]);
    producer.send("warehouse-inventory", product, level);
  }
  producer.flush();
  std::map<std::string, shop::Order> sent;
  for (int i = 0; i < orders; ++i) {
    auto id = run + "-" + std::to_string(i);
    sent[id] = order(id, run + "-p" + std::to_string(i * 7 % products), 1 + i % 4);
  }

  // The orders come at 100 per second while the service is killed and restarted.
  shop::test::topic_tail validations{bootstrap, "order-validations", 4, true};
  shop::test::topic_tail uncommitted{bootstrap, "order-validations", 4};
  std::atomic<bool> all_sent{false};
  std::jthread feeder{[&](std::stop_token stop) {
    eddy::test::event_producer feed{bootstrap};
    int i = 0;
    for (auto& [id, o] : sent) {
      if (stop.stop_requested())
        return;
      feed.send("orders", id, o);
      if (++i % 10 == 0)
        std::this_thread::sleep_for(100ms);
    }
    feed.flush();
    all_sent = true;
  }};

  std::vector<std::string> args{"-X", "bootstrap.servers=" + bootstrap,
                                "-X", "group.id=" + group,
                                "-X", "eddy.state.dir=" + state_dir.path().string(),
                                "-X", "eddy.processing.guarantee=exactly_once",
                                "-X", "session.timeout.ms=6000"};
  auto all_decided = [&] {
    validations.read_until([&](auto&) { return false; }, 300ms);
    return all_sent && verdicts_of(validations.records(), run + "-").size() == sent.size();
  };
  auto assigned = [](const std::string& output) {
    return output.find("partitions assigned") != std::string::npos;
  };
  REQUIRE(
    eddy::test::run_with_kills(EDDY_INVENTORY_BINARY, args, 3, all_decided, 180s, assigned));
  feeder.join();

  // One committed verdict per order, none more even a while later.
  validations.read_for(2s);
  auto verdicts = verdicts_of(validations.records(), run + "-");
  REQUIRE(verdicts.size() == sent.size());
  for (auto& [id, results] : verdicts) {
    INFO("order " << id);
    REQUIRE(results.size() == 1);
  }
  // What the kills cut short: verdicts of aborted transactions, given again after a restart.
  uncommitted.read_for(2s);
  std::size_t aborted = 0;
  for (auto& [id, results] : verdicts_of(uncommitted.records(), run + "-"))
    aborted += results.size() - 1;
  WARN("3 SIGKILLs in exactly_once: " << aborted << " verdicts of " << orders
                                      << " were aborted and given again");

  // One committed decision per order in the journal, agreeing with the verdict; the
  // reservations are the fold of the PASSes and never exceed the stock.
  std::map<std::string, int> decisions;
  std::map<std::string, int> reserved;
  for (auto& rec : eddy::test::consume(bootstrap, "inventory-reservations", 1, 5s, true)) {
    if (stock.count(rec.key) == 0)
      continue;
    bool pass = eddy::codegen::type_of(rec) == "shop.StockReserved";
    auto id = pass ? eddy::codegen::decode<shop::StockReserved>(rec).order_id()
                   : eddy::codegen::decode<shop::ReservationRefused>(rec).order_id();
    INFO("order " << id);
    REQUIRE(++decisions[id] == 1);
    CHECK(verdicts[id][0]
          == (pass ? shop::OrderValidation::PASS : shop::OrderValidation::FAIL));
    if (pass)
      reserved[rec.key] += sent[id].quantity();
  }
  CHECK(decisions.size() == sent.size());
  std::map<std::string, int> passed;
  for (auto& [id, results] : verdicts)
    if (results[0] == shop::OrderValidation::PASS)
      passed[sent[id].product()] += sent[id].quantity();
  CHECK(reserved == passed);
  int failed = 0;
  for (auto& [id, results] : verdicts) {
    auto& product = sent[id].product();
    INFO("order " << id << " of " << product);
    CHECK(reserved[product] <= stock[product]);
    if (results[0] == shop::OrderValidation::FAIL) {
      ++failed;
      // When it failed, no more than what is left at the end was left.
      CHECK(sent[id].quantity() > stock[product] - reserved[product]);
    }
  }
  CHECK(failed > 0);
  CHECK(failed < orders);

  // The store the killed runs left agrees with the fold: in-process now, same group and
  // state folder, one item more than is left fails, exactly what is left passes.
  auto cfg = shop::test::service_config(run, state_dir.path());
  cfg.set("eddy.processing.guarantee", "exactly_once");
  eddy::service svc{"inventory", cfg};
  shop::inventory handlers;
  shop::bind(svc, handlers);
  eddy::test::service_thread running{svc};
  REQUIRE(running.wait_assigned(8));
  auto probe = [&](const std::string& round, int extra) {
    std::map<std::string, shop::OrderValidation::Result> expected;
    for (auto& [product, items] : stock) {
      auto left = items - reserved[product];
      if (left + extra < 1)
        continue;
      auto id = run + "-" + round + "-" + product;
      producer.send("orders", id, order(id, product, left + extra));
      expected[id] = extra > 0 ? shop::OrderValidation::FAIL : shop::OrderValidation::PASS;
    }
    producer.flush();
    REQUIRE(validations.read_until(
      [&](auto& records) {
        return verdicts_of(records, run + "-" + round).size() == expected.size();
      },
      60s));
    for (auto& [id, results] : verdicts_of(validations.records(), run + "-" + round)) {
      INFO("probe " << id);
      CHECK(results == std::vector<shop::OrderValidation::Result>{expected[id]});
    }
  };
  probe("one-too-many", 1);
  probe("what-is-left", 0);
  REQUIRE(running.stop_and_join());
  CHECK(svc.stats().handler_errors == 0);
}
