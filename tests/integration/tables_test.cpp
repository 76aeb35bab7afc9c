// Integration tests of the stateful building blocks on the real broker: local tables
// (restored with their partition before inputs, kept current, read by handlers and by
// other threads), global tables (complete on every instance before the first input),
// re-keying through a repartition topic, and a rebalance that moves partitions with their
// event-sourced state to another instance.

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;

namespace {

eddy::config base_config(const std::string& group, const std::string& state_dir,
                         const std::string& guarantee = "at_least_once") {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", group)
    .set("eddy.state.dir", state_dir)
    .set("eddy.commit.interval.ms", "200")
    .set("eddy.processing.guarantee", guarantee);
  return cfg;
}

std::string temp_dir(const std::string& prefix) {
  return (std::filesystem::temp_directory_path() / eddy::test::unique_name(prefix)).string();
}

/// The latest value per key of `topic` (which must hold at least `expected` records).
std::map<std::string, std::string> latest(const std::string& topic, std::int64_t expected) {
  std::map<std::string, std::string> result;
  for (auto& r :
       eddy::test::consume(eddy::test::broker_bootstrap(), topic, expected, 10s, true))
    result[r.key] = r.value;
  return result;
}

} // namespace

TEST_CASE("a local table is restored before inputs and kept current") {
  auto stock = eddy::test::unique_name("table-stock");
  auto requests = eddy::test::unique_name("table-requests");
  auto out = eddy::test::unique_name("table-out");
  auto group = eddy::test::unique_name("table-group");
  auto state_dir = temp_dir("eddy-state");
  for (auto& topic : {stock, requests, out})
    eddy::test::create_topic(eddy::test::broker_bootstrap(), topic, 4);
  constexpr int products = 200;
  auto product = [](std::int64_t i) { return "p-" + std::to_string(i % products); };
  eddy::test::produce(eddy::test::broker_bootstrap(), stock, products, product,
                      [](std::int64_t i) { return std::to_string(i * 10); });

  std::atomic<std::int64_t> changes{0};
  auto make = [&] {
    auto svc = std::make_unique<eddy::service>("table-it", base_config(group, state_dir));
    svc->table(stock, 4, [&](const eddy::record&) { changes.fetch_add(1); });
    svc->consume(requests, [&](const eddy::record& r, eddy::context& ctx) {
      ctx.emit(out, r.key, ctx.lookup(stock, r.key).value_or("missing"));
    });
    return svc;
  };
  {
    auto svc = make();
    eddy::test::service_thread running{*svc};
    REQUIRE(running.wait_assigned(8));
    // The table is complete as soon as its partitions are assigned.
    CHECK(svc->owned_partitions() == std::vector<std::int32_t>{0, 1, 2, 3});
    CHECK(svc->lookup(stock, "p-7").value() == std::optional<std::string>{"70"});
    CHECK(svc->lookup(stock, "p-unknown").value() == std::nullopt);
    CHECK(svc->lookup("no-such-table", "p-7").error_value().code == eddy::errc::invalid_config);

    eddy::test::produce(eddy::test::broker_bootstrap(), requests, products, product,
                        [](std::int64_t) { return std::string{"?"}; });
    auto answers = latest(out, products);
    REQUIRE(answers.size() == products);
    for (int i = 0; i < products; ++i)
      CHECK(answers["p-" + std::to_string(i)] == std::to_string(i * 10));

    // Updates reach the table while the service runs; a tombstone deletes a key.
    {
      eddy::test::test_producer producer{eddy::test::broker_bootstrap()};
      for (int i = 0; i < products; ++i) {
        eddy::record update;
        update.topic = stock;
        update.key = product(i);
        update.value = "new";
        update.value_null = i == 0;
        producer.send(update);
      }
      producer.flush();
    }
    REQUIRE(eddy::test::eventually([&] { return changes.load() >= products; }, 30s));
    CHECK(svc->lookup(stock, "p-0").value() == std::nullopt);
    CHECK(svc->lookup(stock, "p-1").value() == std::optional<std::string>{"new"});
    REQUIRE(running.stop_and_join());
  }
  // After a restart the store still holds the table; a request sees the latest value.
  {
    auto svc = make();
    eddy::test::service_thread running{*svc};
    REQUIRE(running.wait_assigned(8));
    CHECK(svc->lookup(stock, "p-5").value() == std::optional<std::string>{"new"});
    REQUIRE(running.stop_and_join());
  }
  std::filesystem::remove_all(state_dir);
}

TEST_CASE("a global table is complete on every instance before the first input") {
  auto customers = eddy::test::unique_name("global-customers");
  auto in = eddy::test::unique_name("global-in");
  auto out = eddy::test::unique_name("global-out");
  auto group = eddy::test::unique_name("global-group");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), customers, 3);
  eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 4);
  eddy::test::create_topic(eddy::test::broker_bootstrap(), out, 1);
  constexpr int count = 3000;
  auto customer = [](std::int64_t i) { return "c-" + std::to_string(i); };
  eddy::test::produce(eddy::test::broker_bootstrap(), customers, count, customer,
                      [](std::int64_t i) { return "customer " + std::to_string(i); });

  // Each handled record reports how many customers its instance sees.
  auto make = [&](const std::string& instance) {
    auto svc =
      std::make_unique<eddy::service>("global-it", base_config(group, temp_dir("eddy-global")));
    svc->global_table(customers);
    svc->consume(in, [&, instance](const eddy::record& r, eddy::context& ctx) {
      int seen = 0;
      for (int i = 0; i < count; ++i)
        seen += ctx.lookup(customers, customer(i)).has_value() ? 1 : 0;
      ctx.emit(out, instance, r.key + ":" + std::to_string(seen));
    });
    return svc;
  };
  auto first = make("first");
  auto second = make("second");
  eddy::test::service_thread first_running{*first};
  eddy::test::service_thread second_running{*second};
  REQUIRE(eddy::test::eventually(
    [&] {
      return first->stats().assigned_partitions > 0 && second->stats().assigned_partitions > 0
             && first->stats().assigned_partitions + second->stats().assigned_partitions == 4;
    },
    60s));
  eddy::test::produce(
    eddy::test::broker_bootstrap(), in, 40,
    [](std::int64_t i) { return "k-" + std::to_string(i); },
    [](std::int64_t) { return std::string{"x"}; });
  auto reports = eddy::test::consume(eddy::test::broker_bootstrap(), out, 40);
  REQUIRE(reports.size() == 40);
  std::set<std::string> instances;
  for (auto& r : reports) {
    instances.insert(r.key);
    CHECK(r.value.substr(r.value.find(':') + 1) == std::to_string(count));
  }
  CHECK(instances == std::set<std::string>{"first", "second"});

  // Later changes reach every instance.
  eddy::test::produce(
    eddy::test::broker_bootstrap(), customers, 1,
    [](std::int64_t) { return std::string{"c-late"}; },
    [](std::int64_t) { return std::string{"late"}; });
  for (auto* svc : {first.get(), second.get()})
    CHECK(eddy::test::eventually(
      [&] {
        return svc->lookup(customers, "c-late").value() == std::optional<std::string>{"late"};
      },
      20s));
  REQUIRE(first_running.stop_and_join());
  REQUIRE(second_running.stop_and_join());
}

TEST_CASE("re-keying routes records to the partition of their new key") {
  auto in = eddy::test::unique_name("rekey-in");
  auto out = eddy::test::unique_name("rekey-out");
  auto group = eddy::test::unique_name("rekey-group");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 4);
  eddy::test::create_topic(eddy::test::broker_bootstrap(), out, 1);
  eddy::service svc{"rekey-" + group,
                    base_config(group, temp_dir("eddy-rekey"), "exactly_once")};
  svc.consume(in, [](const eddy::record& r, eddy::context& ctx) {
    ctx.repartition("by-product", r.value, r.key);
  });
  svc.repartition("by-product", 4, [&](const eddy::record& r, eddy::context& ctx) {
    ctx.emit(out, r.key, r.value + "@" + std::to_string(r.partition));
  });
  CHECK(svc.repartition_topic("by-product") == "rekey-" + group + "-by-product-repartition");
  eddy::test::service_thread running{svc};
  constexpr int orders = 300;
  eddy::test::produce(
    eddy::test::broker_bootstrap(), in, orders,
    [](std::int64_t i) { return "o-" + std::to_string(i); },
    [](std::int64_t i) { return "prod-" + std::to_string(i % 7); });
  auto routed = eddy::test::consume(eddy::test::broker_bootstrap(), out, orders, 10s, true);
  REQUIRE(routed.size() == orders);
  std::set<std::string> seen;
  for (auto& r : routed) {
    auto at = r.value.find('@');
    seen.insert(r.value.substr(0, at));
    // The broker placed it where eddy::partition_for says the product key belongs.
    CHECK(std::stoi(r.value.substr(at + 1)) == eddy::partition_for(r.key, 4));
  }
  CHECK(seen.size() == orders);
  REQUIRE(running.stop_and_join());
}

TEST_CASE("a rebalance moves partitions with their state to another instance") {
  auto in = eddy::test::unique_name("move-in");
  auto journal = eddy::test::unique_name("move-journal");
  auto group = eddy::test::unique_name("move-group");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 4);
  constexpr int keys = 40;
  auto key_of = [](std::int64_t i) { return "key-" + std::to_string(i % keys); };
  auto value_of = [](std::int64_t) { return std::string{"+1"}; };
  auto make = [&](const std::string& state_dir) {
    auto svc =
      std::make_unique<eddy::service>("move-it", base_config(group, state_dir, "exactly_once"));
    svc->journal(journal, 4, [](const eddy::record& event, eddy::state_view state) {
      state.put(event.key, event.value);
    });
    svc->consume(in, [](const eddy::record& r, eddy::context& ctx) {
      auto current = ctx.state().get(r.key);
      ctx.emit_event(r.key, std::to_string((current ? std::stoll(*current) : 0) + 1));
    });
    return svc;
  };
  auto committed = [&](std::int64_t n) {
    return eddy::test::eventually(
      [&] {
        std::this_thread::sleep_for(200ms);
        return eddy::test::committed_total(eddy::test::broker_bootstrap(), group, in, 4) == n;
      },
      90s);
  };
  auto first_dir = temp_dir("eddy-move-a");
  auto second_dir = temp_dir("eddy-move-b");
  auto first = make(first_dir);
  eddy::test::service_thread first_running{*first};
  eddy::test::produce(eddy::test::broker_bootstrap(), in, 4000, key_of, value_of);
  REQUIRE(committed(4000));

  // A second instance takes over some partitions: it has no store for them, so it
  // rebuilds their state from the journal before handling their inputs.
  auto second = make(second_dir);
  eddy::test::service_thread second_running{*second};
  REQUIRE(eddy::test::eventually([&] { return second->stats().assigned_partitions > 0; }, 60s));
  eddy::test::produce(eddy::test::broker_bootstrap(), in, 4000, key_of, value_of, 4000);
  REQUIRE(committed(8000));
  REQUIRE(first_running.stop_and_join());
  REQUIRE(second_running.stop_and_join());
  CHECK(second->stats().events_restored > 0);
  CHECK(second->stats().records_handled > 0);

  // Every key counted 1, 2, … 200 exactly once, in order, across both owners.
  std::map<std::string, std::vector<std::int64_t>> counts;
  for (auto& e : eddy::test::consume(eddy::test::broker_bootstrap(), journal, 8000, 10s, true))
    counts[e.key].push_back(std::stoll(e.value));
  REQUIRE(counts.size() == keys);
  for (auto& [key, values] : counts) {
    INFO(key);
    REQUIRE(values.size() == 8000 / keys);
    for (std::size_t i = 0; i < values.size(); ++i)
      CHECK(values[i] == static_cast<std::int64_t>(i) + 1);
  }
  std::filesystem::remove_all(first_dir);
  std::filesystem::remove_all(second_dir);
}

TEST_CASE("publish produces from outside handlers and reports the broker's acknowledgement") {
  auto in = eddy::test::unique_name("publish-in");
  auto out = eddy::test::unique_name("publish-out");
  auto group = eddy::test::unique_name("publish-group");
  eddy::test::create_topic(eddy::test::broker_bootstrap(), in, 1);
  eddy::test::create_topic(eddy::test::broker_bootstrap(), out, 1);
  eddy::service svc{"publish-it", base_config(group, temp_dir("eddy-publish"))};
  svc.consume(in, [](const eddy::record&, eddy::context&) {});
  CHECK(svc.publish(out, "k", "v").get().error_value().code == eddy::errc::delivery_failed);
  {
    eddy::test::service_thread running{svc};
    REQUIRE(running.wait_assigned(1));
    std::vector<std::future<eddy::expected<std::int64_t>>> acks;
    for (int i = 0; i < 10; ++i)
      acks.push_back(svc.publish(out, "k", "v" + std::to_string(i), {{"h", "1"}}));
    for (int i = 0; i < 10; ++i)
      CHECK(acks[static_cast<std::size_t>(i)].get().value() == i);
    auto published = eddy::test::consume(eddy::test::broker_bootstrap(), out, 10);
    REQUIRE(published.size() == 10);
    CHECK(published[3].value == "v3");
    CHECK(*published[3].find_header("h") == "1");
    REQUIRE(running.stop_and_join());
  }
  eddy::service transactional{
    "publish-eos", base_config(group + "-eos", temp_dir("eddy-publish"), "exactly_once")};
  CHECK(transactional.publish(out, "k", "v").get().error_value().code
        == eddy::errc::invalid_config);
}
