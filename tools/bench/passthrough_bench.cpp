// Passthrough benchmark: how close an Eddy service comes to a plain librdkafka
// consume→produce loop on the same broker, data and client settings, in one run.
//
//   bench-passthrough [--records N] [--partitions P] [--value-bytes B] [--rounds R]
//
// Reads the broker from EDDY_KAFKA_BOOTSTRAP_SERVERS (tools/dev bench passthrough sets it).
// Each side is timed from its first consumed record to the last output acknowledged by
// the broker, so group join time is not counted. The Eddy service runs twice, in
// exactly_once and in at_least_once. Last line:
//   passthrough: eddy=<records/s> raw=<records/s> ratio=<eddy/raw>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/internal/kafka.hpp>
#include <eddy/service.hpp>

#include "kafka_fixture.hpp"
#include "percentile.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  // Long enough that the first transactions (whose size grows from a batch) and a
  // partition's first fetches weigh little: at 1 M records a run lasts about a second.
  std::int64_t records = 3000000;
  int partitions = 4;
  std::size_t value_bytes = 100;
  int rounds = 3;
};

/// The options from the command line; exits with the usage for --help or a bad value.
options parse(int argc, char** argv) {
  options result;
  CLI::App app{"How close an Eddy passthrough service comes to a plain librdkafka "
               "consume->produce loop on the same broker and data (alternating rounds). The "
               "broker comes from EDDY_KAFKA_BOOTSTRAP_SERVERS; services log warnings only "
               "unless EDDY_LOG_LEVEL says otherwise.",
               "bench-passthrough"};
  app.add_option("--records", result.records, "records preloaded and passed through per run")
    ->capture_default_str()
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  app.add_option("--partitions", result.partitions, "partitions of the input and output")
    ->capture_default_str()
    ->check(CLI::Range(1, 1024));
  app.add_option("--value-bytes", result.value_bytes, "bytes per record value")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--rounds", result.rounds, "rounds of raw, at_least_once and exactly_once")
    ->capture_default_str()
    ->check(CLI::Range(1, 100));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return result;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// The baseline: one thread, consume → produce, with Eddy's default client settings
/// (idempotent producer, acks=all, linger 5 ms, offsets committed every second).
double raw_loop(const std::string& bootstrap, const std::string& in, const std::string& out,
                const options& opt) {
  struct counter : RdKafka::DeliveryReportCb {
    std::atomic<std::int64_t> delivered{0};
    void dr_cb(RdKafka::Message& m) override {
      if (m.err() == RdKafka::ERR_NO_ERROR)
        ++delivered;
    }
  } report;
  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap).set("group.id", eddy::test::unique_name("bench-raw"));
  auto pconf = eddy::internal::make_conf(cfg, eddy::client_kind::producer);
  auto cconf = eddy::internal::make_conf(cfg, eddy::client_kind::consumer);
  std::string reason;
  (*pconf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&report), reason);
  auto producer = eddy::internal::make_producer(**pconf);
  auto consumer = eddy::internal::make_consumer(**cconf);
  if (!producer || !consumer) {
    std::cerr << "cannot create clients\n";
    std::exit(1);
  }
  (*consumer)->subscribe({in});
  std::int64_t consumed = 0;
  clock_type::time_point start;
  auto next_commit = clock_type::now();
  while (report.delivered < opt.records) {
    std::unique_ptr<RdKafka::Message> m{(*consumer)->consume(consumed < opt.records ? 100 : 1)};
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      if (consumed++ == 0)
        start = clock_type::now();
      while ((*producer)->produce(out, RdKafka::Topic::PARTITION_UA,
                                  RdKafka::Producer::RK_MSG_COPY, m->payload(), m->len(),
                                  m->key_pointer(), m->key_len(), 0, nullptr, nullptr)
             == RdKafka::ERR__QUEUE_FULL)
        (*producer)->poll(1);
    }
    (*producer)->poll(0);
    if (clock_type::now() >= next_commit) {
      (*consumer)->commitAsync();
      next_commit = clock_type::now() + std::chrono::seconds{1};
    }
  }
  double elapsed = seconds_since(start);
  (*consumer)->commitSync();
  (*consumer)->close();
  return static_cast<double>(opt.records) / elapsed;
}

/// Sum of the high watermarks of `topic`: how many records it holds.
std::int64_t records_in(RdKafka::Handle& handle, const std::string& topic, int partitions) {
  std::int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (handle.query_watermark_offsets(topic, p, &low, &high, 5000) == RdKafka::ERR_NO_ERROR)
      total += high;
  }
  return total;
}

/// The contender: an Eddy service that decodes each record, calls a handler, emits it.
double eddy_service(const std::string& bootstrap, const std::string& in, const std::string& out,
                    const options& opt, const std::string& guarantee) {
  eddy::config cfg;
  cfg.load_environment(); // EDDY_* variables tune the service under test
  cfg.set("bootstrap.servers", bootstrap)
    .set("group.id", eddy::test::unique_name("bench-eddy"))
    .set("eddy.processing.guarantee", guarantee);
  eddy::service svc{"bench-passthrough", cfg};
  svc.topic(out, opt.partitions);
  std::atomic<bool> started{false};
  clock_type::time_point start;
  svc.consume(in, [&](const eddy::record& r, eddy::context& ctx) {
    if (!started.load(std::memory_order_relaxed) && !started.exchange(true))
      start = clock_type::now();
    ctx.emit(out, r.key, r.value);
  });
  eddy::test::service_thread running{svc};
  eddy::config watcher_cfg;
  watcher_cfg.set("bootstrap.servers", bootstrap);
  auto wconf = eddy::internal::make_conf(watcher_cfg, eddy::client_kind::producer);
  auto watcher = eddy::internal::make_producer(**wconf);
  eddy::test::eventually([&] { return svc.stats().records_handled >= opt.records; },
                         std::chrono::minutes{10});
  eddy::test::eventually(
    [&] { return records_in(**watcher, out, opt.partitions) >= opt.records; },
    std::chrono::minutes{1});
  double elapsed = seconds_since(start);
  if (!running.stop_and_join())
    std::cerr << "eddy service stopped with an error\n";
  auto stats = svc.stats();
  std::printf("  (%s: %lld commits, %lld partition pauses for credit, %lld fetch wake-ups)\n",
              guarantee.c_str(), static_cast<long long>(stats.commits),
              static_cast<long long>(stats.pauses),
              static_cast<long long>(stats.fetch_wakeups));
  return static_cast<double>(opt.records) / elapsed;
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
  auto in = eddy::test::unique_name("bench-in");
  eddy::test::create_topic(bootstrap, in, opt.partitions);
  std::string payload(opt.value_bytes, 'v');
  auto preload_start = clock_type::now();
  std::printf("preloading %lld records of %zu bytes into %d partitions...\n",
              static_cast<long long>(opt.records), opt.value_bytes, opt.partitions);
  std::fflush(stdout);
  eddy::test::produce(
    bootstrap, in, opt.records,
    [](std::int64_t i) { return "key-" + std::to_string(i % 10000); },
    [&](std::int64_t) { return payload; });
  std::printf("preload: %.0f records/s\n", opt.records / seconds_since(preload_start));
  std::fflush(stdout);
  // The broker shares the machine, so single runs vary by tens of percent: alternate the
  // contenders for a few rounds and compare medians.
  std::vector<double> raw, alos, eos;
  for (int round = 1; round <= opt.rounds; ++round) {
    auto suffix = "-" + std::to_string(round);
    eddy::test::create_topic(bootstrap, in + "-raw-out" + suffix, opt.partitions);
    raw.push_back(raw_loop(bootstrap, in, in + "-raw-out" + suffix, opt));
    std::printf("round %d: raw librdkafka consume->produce: %.0f records/s\n", round,
                raw.back());
    std::fflush(stdout);
    alos.push_back(
      eddy_service(bootstrap, in, in + "-alos-out" + suffix, opt, "at_least_once"));
    std::printf("round %d: eddy passthrough, at_least_once: %.0f records/s\n", round,
                alos.back());
    std::fflush(stdout);
    eos.push_back(eddy_service(bootstrap, in, in + "-eos-out" + suffix, opt, "exactly_once"));
    std::printf(
      "round %d: eddy passthrough, exactly_once (100 ms transactions): %.0f records/s\n", round,
      eos.back());
    std::fflush(stdout);
  }
  double raw_median = eddy::test::quantile(raw, 0.5);
  double eddy_median = eddy::test::quantile(alos, 0.5);
  double eos_median = eddy::test::quantile(eos, 0.5);
  std::printf(
    "medians: raw=%.0f eddy=%.0f eddy_exactly_once=%.0f exactly_once/at_least_once=%.2f\n",
    raw_median, eddy_median, eos_median, eos_median / eddy_median);
  std::printf("passthrough: eddy=%.0f raw=%.0f ratio=%.2f\n", eddy_median, raw_median,
              eddy_median / raw_median);
  return 0;
}
