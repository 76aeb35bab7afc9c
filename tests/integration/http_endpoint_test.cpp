// The HTTP endpoint every service gets from `eddy.http.listen`, on the real broker:
// /health and /ready through a restore held back by its applier (never ready while a
// partition restores, ready after), /topology, /metrics (the figures move with the load,
// and promtool accepts them), and the errors: unknown paths, oversized bodies, malformed
// requests, an address that cannot be bound.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <eddy/service.hpp>

#include "kafka_fixture.hpp"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Holds every journal event an applier sees until `open()`.
class gate {
public:
  void pass() {
    std::unique_lock<std::mutex> lock{mtx_};
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  bool wait_for_waiter(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, timeout, [this] { return waiting_ > 0; });
  }
  void open() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

struct names {
  std::string in = eddy::test::unique_name("http-in");
  std::string journal = eddy::test::unique_name("http-journal");
  std::string group = eddy::test::unique_name("http-group");
  std::string state_dir =
    (std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-state")).string();
};

eddy::config endpoint_config(const names& n, const std::string& listen) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", n.group)
    .set("eddy.state.dir", n.state_dir)
    .set("eddy.commit.interval.ms", "200")
    .set("eddy.http.listen", listen)
    .set("eddy.http.max.body.bytes", "64")
    .set("consumer.statistics.interval.ms", "500");
  return cfg;
}

/// A counter per key whose journal applier waits at `held` while it restores.
std::unique_ptr<eddy::service> counter(const names& n, const std::string& listen, gate* held,
                                       const std::string& guarantee = "at_least_once") {
  auto cfg = endpoint_config(n, listen);
  cfg.set("eddy.processing.guarantee", guarantee);
  auto svc = std::make_unique<eddy::service>("http-it", cfg);
  svc->journal(n.journal, 2, [held](const eddy::record& event, eddy::state_view state) {
    if (held)
      held->pass();
    state.put(event.key, event.value);
  });
  svc->consume(n.in, [](const eddy::record& r, eddy::context& ctx) {
    auto current = ctx.state().get(r.key);
    ctx.emit_event(r.key, std::to_string((current ? std::stoll(*current) : 0) + 1));
  });
  return svc;
}

/// The status and JSON body of `GET path` at `address` (HOST:PORT).
std::pair<int, json> get(const std::string& address, const std::string& path) {
  httplib::Client client{"http://" + address};
  client.set_read_timeout(5, 0);
  auto res = client.Get(path.c_str());
  if (!res)
    return {0, json{}};
  return {res->status, json::parse(res->body, nullptr, false)};
}

/// The body of `GET /metrics` at `address`, or empty.
std::string metrics_of(const std::string& address) {
  httplib::Client client{"http://" + address};
  auto res = client.Get("/metrics");
  return res && res->status == 200 ? res->body : std::string{};
}

/// The value of the sample `name{...}` in a Prometheus exposition, or -1 if absent.
double sample(const std::string& exposition, const std::string& name) {
  std::regex line{"^" + name + R"(\{[^}]*\} ([0-9.e+-]+)$)"};
  std::istringstream in{exposition};
  std::smatch match;
  for (std::string text; std::getline(in, text);)
    if (std::regex_match(text, match, line))
      return std::stod(match[1]);
  return -1;
}

/// The value of the sample `name{...label="value"...}`, or -1 if absent.
double sample_with(const std::string& exposition, const std::string& name,
                   const std::string& label) {
  std::istringstream in{exposition};
  for (std::string text; std::getline(in, text);)
    if (text.rfind(name + "{", 0) == 0 && text.find(label) != std::string::npos)
      return std::stod(text.substr(text.rfind(' ') + 1));
  return -1;
}

/// What `promtool check metrics` says about `exposition`, and whether it accepted it.
std::pair<bool, std::string> promtool_check(const std::string& exposition) {
  auto dir = std::filesystem::temp_directory_path() / eddy::test::unique_name("promtool");
  std::filesystem::create_directories(dir);
  std::ofstream{dir / "metrics.txt"} << exposition;
  auto command = "promtool check metrics < " + (dir / "metrics.txt").string() + " > "
                 + (dir / "verdict.txt").string() + " 2>&1";
  int status = std::system(command.c_str());
  std::ifstream verdict{dir / "verdict.txt"};
  std::string said{std::istreambuf_iterator<char>{verdict}, {}};
  std::filesystem::remove_all(dir);
  return {status == 0, said};
}

/// What the server at `address` answers to `raw`, sent as is over a fresh connection,
/// until it closes the connection (after its keep-alive timeout) or 10 s pass.
std::string raw_exchange(const std::string& address, const std::string& raw) {
  auto colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr);
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval patience{10, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  REQUIRE(::connect(sock, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  REQUIRE(::send(sock, raw.data(), raw.size(), 0) == static_cast<ssize_t>(raw.size()));
  std::string answer;
  char buffer[4096];
  for (ssize_t got; (got = ::recv(sock, buffer, sizeof buffer, 0)) > 0;)
    answer.append(buffer, static_cast<std::size_t>(got));
  ::close(sock);
  return answer;
}

} // namespace

TEST_CASE("the endpoint is not ready while a partition restores, and says why") {
  names n;
  // Journal history for the restore to replay: two events on each partition.
  eddy::test::create_topic(eddy::test::broker_bootstrap(), n.journal, 2,
                           {{"retention.ms", "-1"}, {"retention.bytes", "-1"}});
  eddy::test::create_topic(eddy::test::broker_bootstrap(), n.in, 2);
  eddy::test::produce(
    eddy::test::broker_bootstrap(), n.journal, 4,
    [](std::int64_t i) { return "key-" + std::to_string(i); },
    [](std::int64_t) { return std::string{"1"}; });
  gate held;
  auto svc = counter(n, "127.0.0.1:0", &held);
  eddy::test::service_thread running{*svc};
  REQUIRE(held.wait_for_waiter(60s));

  auto address = svc->http_address();
  REQUIRE(address.rfind("127.0.0.1:", 0) == 0);
  REQUIRE(address != "127.0.0.1:0");

  auto [health_status, health] = get(address, "/health");
  CHECK(health_status == 200);
  CHECK(health["service"] == "http-it");
  CHECK(health["state"] == "restoring");
  CHECK(health["ready"] == false);
  CHECK(health["partitions_restoring"].get<int>() > 0);
  CHECK_FALSE(health["reason"].get<std::string>().empty());

  auto [ready_status, ready] = get(address, "/ready");
  CHECK(ready_status == 503);
  CHECK(ready["ready"] == false);
  CHECK(ready["reason"].get<std::string>().find("restor") != std::string::npos);

  held.open();
  REQUIRE(eddy::test::eventually([&] { return get(address, "/ready").first == 200; }, 30s));
  auto [after_status, after] = get(address, "/health");
  CHECK(after_status == 200);
  CHECK(after["state"] == "running");
  CHECK(after["ready"] == true);
  CHECK(after["assigned_partitions"] == 2);
  CHECK(after["partitions_restoring"] == 0);

  auto [topology_status, topology] = get(address, "/topology");
  CHECK(topology_status == 200);
  CHECK(topology["group_id"] == n.group);
  CHECK(topology["guarantee"] == "at_least_once");
  REQUIRE(topology["consumes"].size() == 1);
  CHECK(topology["consumes"][0]["topic"] == n.in);
  CHECK(topology["consumes"][0]["partitions"] == 2);
  CHECK(topology["journal"]["topic"] == n.journal);
  CHECK(topology["journal"]["partitions"] == 2);
  CHECK(topology["dead_letter_topic"] == "http-it-dlq");
  CHECK(topology["assignment"]["received"] == true);
  CHECK(topology["assignment"]["partitions"] == json::array({0, 1}));

  // Metrics: the restore's four events, then the load's records, handled and emitted.
  auto before = metrics_of(address);
  CHECK(sample(before, "eddy_events_restored_total") == 4);
  double restored = 0;
  for (int partition : {0, 1}) {
    auto at = "topic=\"" + n.journal + "\",partition=\"" + std::to_string(partition) + "\"";
    auto done = sample_with(before, "eddy_restore_records_restored", at);
    CHECK(done >= 0);
    CHECK(done == sample_with(before, "eddy_restore_records_to_restore", at));
    restored += done;
  }
  CHECK(restored == 4);
  CHECK(sample(before, "eddy_records_handled_total") == 0);
  CHECK(sample(before, "eddy_ready") == 1);
  CHECK(sample(before, "eddy_assigned_partitions") == 2);
  CHECK(before.find("instance=\"" + address + "\"") != std::string::npos);
  CHECK(before.find("service=\"http-it\"") != std::string::npos);
  constexpr std::int64_t load = 500;
  eddy::test::produce(
    eddy::test::broker_bootstrap(), n.in, load,
    [](std::int64_t i) { return "key-" + std::to_string(i % 20); },
    [](std::int64_t i) { return std::to_string(i); });
  REQUIRE(eddy::test::eventually(
    [&] { return sample(metrics_of(address), "eddy_records_handled_total") == load; }, 30s));
  auto after_load = metrics_of(address);
  CHECK(sample(after_load, "eddy_records_emitted_total") == load);
  CHECK(sample(after_load, "eddy_dead_letters_total") == 0);
  CHECK(sample(after_load, "eddy_rebalances_total") >= 1);
  // Every handler call timed, every record's age observed (the test just produced them).
  CHECK(sample(after_load, "eddy_handler_seconds_count") == load);
  CHECK(sample(after_load, "eddy_record_age_seconds_count") == load);
  CHECK(sample_with(after_load, "eddy_record_age_seconds_bucket", "le=\"+Inf\"") == load);
  auto young = sample_with(after_load, "eddy_record_age_seconds_bucket", "le=\"0.001\"");
  CHECK(young >= 0);
  CHECK(young < load);
  // Every record read: the lag of both input partitions falls to 0 (statistics each 500 ms).
  auto lag_of = [&](int partition) {
    return sample_with(metrics_of(address), "eddy_consumer_lag",
                       "topic=\"" + n.in + "\",partition=\"" + std::to_string(partition)
                         + "\"");
  };
  CHECK(eddy::test::eventually([&] { return lag_of(0) == 0 && lag_of(1) == 0; }, 20s));
  CHECK(eddy::test::eventually(
    [&] { return sample(metrics_of(address), "eddy_records_in_flight") == 0; }, 20s));
  auto [accepted, verdict] = promtool_check(after_load);
  INFO("promtool check metrics: " << verdict);
  CHECK(accepted);

  REQUIRE(running.stop_and_join());
  CHECK(svc->http_address().empty());
  CHECK(get(address, "/health").first == 0);
}

TEST_CASE("in exactly_once the lag still falls to 0, and bad requests get a reason") {
  names n;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), n.in, 2);
  auto svc = counter(n, "127.0.0.1:0", nullptr, "exactly_once");
  eddy::test::service_thread running{*svc};
  REQUIRE(running.wait_assigned(2));
  auto address = svc->http_address();

  // Offsets commit through the producer's transactions, which the consumer never sees:
  // the lag must come from what the service read, not from the consumer's commits.
  constexpr std::int64_t load = 200;
  eddy::test::produce(
    eddy::test::broker_bootstrap(), n.in, load,
    [](std::int64_t i) { return "key-" + std::to_string(i % 20); },
    [](std::int64_t i) { return std::to_string(i); });
  REQUIRE(eddy::test::eventually(
    [&] { return sample(metrics_of(address), "eddy_records_handled_total") == load; }, 30s));
  for (int partition : {0, 1}) {
    auto at = "topic=\"" + n.in + "\",partition=\"" + std::to_string(partition) + "\"";
    CHECK(eddy::test::eventually(
      [&] { return sample_with(metrics_of(address), "eddy_consumer_lag", at) == 0; }, 20s));
  }
  CHECK(sample(metrics_of(address), "eddy_commits_total") >= 1);

  auto [missing_status, missing] = get(address, "/no/such/thing");
  CHECK(missing_status == 404);
  CHECK(missing["error"].get<std::string>().find("/no/such/thing") != std::string::npos);

  httplib::Client client{"http://" + address};
  auto oversized = client.Post("/health", std::string(1000, 'x'), "text/plain");
  REQUIRE(oversized);
  CHECK(oversized->status == 413);
  CHECK(json::parse(oversized->body)["error"].get<std::string>().find("64 bytes")
        != std::string::npos);

  auto malformed = raw_exchange(address, "NOT AN HTTP REQUEST\r\n\r\n");
  CHECK(malformed.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(malformed.find("malformed request") != std::string::npos);

  // The endpoint still serves after all that.
  CHECK(get(address, "/health").first == 200);
  REQUIRE(running.stop_and_join());
}

TEST_CASE("a service whose endpoint cannot listen fails at start with the address") {
  names n;
  eddy::test::create_topic(eddy::test::broker_bootstrap(), n.in, 2);
  auto first = counter(n, "127.0.0.1:0", nullptr);
  eddy::test::service_thread running{*first};
  REQUIRE(running.wait_assigned(2));
  auto taken = first->http_address();

  names other;
  other.in = n.in;
  auto second = counter(other, taken, nullptr);
  auto outcome = second->run(false);
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error_value().code == eddy::errc::invalid_config);
  CHECK(outcome.error_value().message.find(taken) != std::string::npos);
  CHECK(second->state() == eddy::service_state::failed);
  REQUIRE(running.stop_and_join());

  auto bad = counter(other, "no-port-here", nullptr);
  auto refused = bad->run(false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error_value().message.find("eddy.http.listen") != std::string::npos);
}
