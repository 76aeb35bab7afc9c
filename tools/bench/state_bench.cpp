// State benchmark: how fast a service rebuilds its state from its journal, next to a plain
// consumer reading the same topic, and how fast a keyed aggregate runs in at_least_once
// and in exactly_once at two commit intervals — all in one run on the local broker.
//
//   bench-state [--events N] [--keys K]
//
// Reads the broker from EDDY_KAFKA_BOOTSTRAP_SERVERS (tools/dev bench state sets it). Last
// line: state: restore=<ev/s> raw_consume=<ev/s> alos=<rec/s> eos100=<rec/s> eos1000=<rec/s>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/internal/kafka.hpp>
#include <eddy/service.hpp>

#include "kafka_fixture.hpp"
#include "percentile.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct options {
  std::int64_t events = 1000000;
  std::int64_t keys = 10000;
};

/// The options from the command line; exits with the usage for --help or a bad value.
options parse(int argc, char** argv) {
  options opt;
  CLI::App app{"Restore rate against a plain consumer, and a keyed running count in "
               "at_least_once and exactly_once. The broker comes from "
               "EDDY_KAFKA_BOOTSTRAP_SERVERS; services log warnings only unless "
               "EDDY_LOG_LEVEL says otherwise.",
               "bench-state"};
  app.add_option("--events", opt.events, "journal events to restore and records to count")
    ->capture_default_str()
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  app.add_option("--keys", opt.keys, "distinct keys")
    ->capture_default_str()
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return opt;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// A plain consumer reading every partition of `topic` to its end: the ceiling for a restore.
double raw_consume(const std::string& bootstrap, const std::string& topic, std::int64_t n) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap).set("group.id", eddy::test::unique_name("bench-raw"));
  auto conf = eddy::internal::make_conf(cfg, eddy::client_kind::consumer);
  auto consumer = eddy::internal::make_consumer(**conf);
  std::vector<RdKafka::TopicPartition*> all;
  for (int p = 0; p < 4; ++p)
    all.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  // Timed from the assignment, as a restore is: librdkafka prefetches up to
  // queued.max.messages.kbytes in the background, so a clock started at the first record
  // would time reading from memory.
  auto start = clock_type::now();
  (*consumer)->assign(all);
  RdKafka::TopicPartition::destroy(all);
  std::int64_t read = 0;
  while (read < n) {
    std::unique_ptr<RdKafka::Message> m{(*consumer)->consume(1000)};
    if (m->err() == RdKafka::ERR_NO_ERROR)
      ++read;
  }
  double elapsed = seconds_since(start);
  (*consumer)->close();
  return static_cast<double>(n) / elapsed;
}

/// A per-key counter: every input record emits the key's next count to the journal.
std::unique_ptr<eddy::service> counter(const std::string& bootstrap, const std::string& in,
                                       const std::string& journal, const std::string& state_dir,
                                       const std::string& guarantee,
                                       const std::string& interval, std::atomic<bool>* started,
                                       clock_type::time_point* start) {
  eddy::config cfg;
  cfg.load_environment();
  cfg.set("bootstrap.servers", bootstrap)
    .set("group.id", eddy::test::unique_name("bench-state"))
    .set("eddy.state.dir", state_dir)
    .set("eddy.processing.guarantee", guarantee)
    .set("eddy.commit.interval.ms", interval);
  auto svc = std::make_unique<eddy::service>("bench-state", cfg);
  svc->journal(journal, 4, [](const eddy::record& event, eddy::state_view state) {
    state.put(event.key, event.value);
  });
  svc->consume(in, [started, start](const eddy::record& r, eddy::context& ctx) {
    if (started && !started->load(std::memory_order_relaxed) && !started->exchange(true))
      *start = clock_type::now();
    auto current = ctx.state().get(r.key);
    ctx.emit_event(r.key, std::to_string((current ? std::stoll(*current) : 0) + 1));
  });
  return svc;
}

/// Runs the counter over `in` (n records) and returns records/s, first record to all
/// input offsets committed.
double aggregate(const std::string& bootstrap, const std::string& in, std::int64_t n,
                 const std::string& guarantee, const std::string& interval,
                 const std::string& state_root) {
  auto journal = eddy::test::unique_name("bench-journal");
  std::atomic<bool> started{false};
  clock_type::time_point start;
  auto svc = counter(bootstrap, in, journal, state_root + "/" + journal, guarantee, interval,
                     &started, &start);
  eddy::test::service_thread running{*svc};
  eddy::test::eventually([&] { return svc->stats().records_handled >= n; }, 10min);
  double elapsed = seconds_since(start);
  if (!running.stop_and_join())
    std::cerr << "aggregate (" << guarantee << ") stopped with an error\n";
  return static_cast<double>(n) / elapsed;
}

} // namespace

int main(int argc, char** argv) {
  auto opt = parse(argc, argv);
  // The results stand apart from the services' logs: those log warnings only, unless
  // EDDY_LOG_LEVEL asks for more; the result lines go out a line at a time.
  ::setenv("EDDY_LOG_LEVEL", "warn", 0);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string bootstrap;
  try {
    bootstrap = eddy::test::broker_bootstrap();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  auto state_root =
    (std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-bench-state"))
      .string();
  auto key_of = [&](std::int64_t i) { return "key-" + std::to_string(i % opt.keys); };

  // (a) Restore: a journal of N events, replayed into empty stores.
  auto journal = eddy::test::unique_name("bench-history");
  auto idle = eddy::test::unique_name("bench-idle");
  // Created as service::journal() creates journals: keeping every event.
  eddy::test::create_topic(bootstrap, journal, 4,
                           {{"retention.ms", "-1"}, {"retention.bytes", "-1"}});
  eddy::test::create_topic(bootstrap, idle, 4);
  std::printf("preloading a journal of %lld events over %lld keys...\n",
              static_cast<long long>(opt.events), static_cast<long long>(opt.keys));
  std::fflush(stdout);
  eddy::test::produce(bootstrap, journal, opt.events, key_of,
                      [](std::int64_t i) { return std::to_string(i); });
  // The broker shares the machine, so single runs vary a lot: alternate the two contenders
  // for three rounds and compare medians.
  auto restore_once = [&](int round) {
    auto restorer =
      counter(bootstrap, idle, journal, state_root + "/restore-" + std::to_string(round),
              "at_least_once", "1000", nullptr, nullptr);
    eddy::test::service_thread running{*restorer};
    // Time the replay itself, not the start-up and group join before it.
    while (restorer->state() != eddy::service_state::restoring
           && restorer->stats().events_restored == 0)
      std::this_thread::sleep_for(std::chrono::microseconds{200});
    auto restore_start = clock_type::now();
    eddy::test::eventually([&] { return restorer->stats().events_restored >= opt.events; },
                           10min);
    auto rate = static_cast<double>(opt.events) / seconds_since(restore_start);
    running.stop_and_join();
    return rate;
  };
  std::vector<double> raws, restores;
  for (int round = 0; round < 3; ++round) {
    raws.push_back(raw_consume(bootstrap, journal, opt.events));
    restores.push_back(restore_once(round));
    std::printf(
      "round %d: raw consume %.0f events/s, restore into SQLite stores %.0f events/s\n",
      round + 1, raws.back(), restores.back());
    std::fflush(stdout);
  }
  double raw = eddy::test::quantile(raws, 0.5);
  double restore = eddy::test::quantile(restores, 0.5);
  std::printf("restore (median): %.0f events/s (%.2f of raw consume %.0f)\n", restore,
              restore / raw, raw);
  std::fflush(stdout);

  // (b) A keyed aggregate (a count per key) in each processing mode.
  auto in = eddy::test::unique_name("bench-commands");
  eddy::test::create_topic(bootstrap, in, 4);
  eddy::test::produce(bootstrap, in, opt.events, key_of, [](std::int64_t) { return "+1"; });
  double alos = aggregate(bootstrap, in, opt.events, "at_least_once", "1000", state_root);
  std::printf("keyed aggregate, at_least_once: %.0f records/s\n", alos);
  std::fflush(stdout);
  double eos100 = aggregate(bootstrap, in, opt.events, "exactly_once", "100", state_root);
  std::printf("keyed aggregate, exactly_once, 100 ms commits: %.0f records/s (%.2f of alos)\n",
              eos100, eos100 / alos);
  std::fflush(stdout);
  double eos1000 = aggregate(bootstrap, in, opt.events, "exactly_once", "1000", state_root);
  std::printf("keyed aggregate, exactly_once, 1 s commits: %.0f records/s (%.2f of alos)\n",
              eos1000, eos1000 / alos);
  std::filesystem::remove_all(state_root);
  std::printf("state: restore=%.0f raw_consume=%.0f alos=%.0f eos100=%.0f eos1000=%.0f\n",
              restore, raw, alos, eos100, eos1000);
  return 0;
}
