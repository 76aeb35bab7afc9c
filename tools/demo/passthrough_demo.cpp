// The demo behind `tools/dev demo passthrough`: starts passthrough service processes on the
// local broker, feeds them records at a chosen rate with a live progress line, reads what
// they emit, and prints throughput and end-to-end latency. Ctrl-C stops everything cleanly.
//
//   passthrough-demo --service PATH [--records N] [--rate R] [--instances K]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <eddy/internal/kafka.hpp>

#include "child_process.hpp"
#include "kafka_fixture.hpp"
#include "percentile.hpp"

namespace {

using namespace std::chrono_literals;

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted = true;
}

struct options {
  std::string service;
  std::int64_t records = 200000;
  std::int64_t rate = 50000;
  int instances = 2;
};

/// The options from the command line; exits with the usage for --help or a bad value.
options parse(int argc, char** argv) {
  options opt;
  CLI::App app{"Runs passthrough processes in one consumer group and feeds them records at a "
               "steady rate, with live progress and end-to-end latency.",
               "passthrough-demo"};
  app.add_option("--service", opt.service, "the passthrough program")
    ->required()
    ->check(CLI::ExistingFile);
  app.add_option("--records", opt.records, "records to send (each keeps a latency sample)")
    ->capture_default_str()
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000000}));
  app.add_option("--rate", opt.rate, "records per second")
    ->capture_default_str()
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000000}));
  app.add_option("--instances", opt.instances, "passthrough processes in the group")
    ->capture_default_str()
    ->check(CLI::Range(1, 64));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return opt;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The latency at quantile `q` of `samples` (microseconds), in milliseconds.
double latency_ms(const std::vector<std::int64_t>& sorted, double q) {
  return static_cast<double>(eddy::test::quantile_of_sorted(sorted, q)) / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  auto opt = parse(argc, argv);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto bootstrap = eddy::test::broker_bootstrap();
  auto in = eddy::test::unique_name("demo-in");
  auto out = eddy::test::unique_name("demo-out");
  eddy::test::create_topic(bootstrap, in, 4);
  eddy::test::create_topic(bootstrap, out, 4);
  std::cerr << "broker " << bootstrap << ", topics " << in << " -> " << out << "\n";

  std::vector<std::unique_ptr<eddy::test::child_process>> services;
  for (int i = 0; i < opt.instances; ++i)
    services.push_back(std::make_unique<eddy::test::child_process>(
      opt.service,
      std::vector<std::string>{"-X", "bootstrap.servers=" + bootstrap, "-X", "app.input=" + in,
                               "-X", "app.output=" + out, "-X", "group.id=" + in}));
  std::cerr << "started " << opt.instances
            << " passthrough instance(s); waiting for the group\n";
  // Latency should measure the pipeline, not the group join: wait until every instance
  // has been through a rebalance, then let a cooperative second round settle.
  auto joined = [&] {
    for (auto& svc : services)
      if (svc->output().find("partitions assigned") == std::string::npos)
        return false;
    return true;
  };
  if (!eddy::test::eventually(joined, 60s)) {
    std::cerr << "the services did not join the group within 60 s:\n" << services[0]->output();
    return 1;
  }
  std::this_thread::sleep_for(2s);

  std::atomic<std::int64_t> sent{0};
  std::thread producer{[&] {
    // Send in 10 ms slices to hold the rate; each value carries its send time.
    eddy::test::test_producer sender{bootstrap};
    const std::int64_t per_slice = std::max<std::int64_t>(1, opt.rate / 100);
    auto next = std::chrono::steady_clock::now();
    while (sent < opt.records && !interrupted) {
      auto n = std::min(per_slice, opt.records - sent.load());
      for (std::int64_t i = 0; i < n; ++i)
        sender.send(in, std::to_string((sent + i) % 1000), std::to_string(now_us()));
      sent += n;
      next += 10ms;
      std::this_thread::sleep_until(next);
    }
    sender.flush();
  }};

  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap);
  auto conf = eddy::internal::make_conf(cfg, eddy::client_kind::consumer);
  std::string reason;
  (*conf)->set("group.id", out, reason);
  auto reader = eddy::internal::make_consumer(**conf);
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int p = 0; p < 4; ++p)
    assignment.push_back(
      RdKafka::TopicPartition::create(out, p, RdKafka::Topic::OFFSET_BEGINNING));
  (*reader)->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);

  std::vector<std::int64_t> latencies;
  latencies.reserve(static_cast<std::size_t>(opt.records));
  auto start = std::chrono::steady_clock::now();
  auto next_progress = start;
  auto last_output = start;
  while (static_cast<std::int64_t>(latencies.size()) < opt.records && !interrupted) {
    std::unique_ptr<RdKafka::Message> m{(*reader)->consume(50)};
    auto now = std::chrono::steady_clock::now();
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      std::string value{static_cast<const char*>(m->payload()), m->len()};
      latencies.push_back(now_us() - std::stoll(value));
      last_output = now;
    } else if (sent == opt.records && now - last_output > 30s) {
      std::cerr << "\nno output for 30 s; giving up\n";
      break;
    }
    if (now >= next_progress) {
      double elapsed = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr, "\rsent %lld/%lld  processed %zu  (%.0f records/s)   ",
                   static_cast<long long>(sent.load()), static_cast<long long>(opt.records),
                   latencies.size(), static_cast<double>(latencies.size()) / elapsed);
      next_progress = now + 250ms;
    }
  }
  double elapsed =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  interrupted = true;
  producer.join();
  (*reader)->close();
  int failures = 0;
  for (auto& svc : services) {
    svc->signal(SIGTERM);
    auto code = svc->wait(60s);
    if (!code || *code != 0) {
      ++failures;
      std::cerr << "\na passthrough instance exited with " << (code ? *code : -1) << ":\n"
                << svc->output();
    }
  }
  auto processed = latencies.size();
  std::sort(latencies.begin(), latencies.end());
  std::fprintf(stderr, "\n");
  std::printf("records sent %lld, processed %zu in %.1f s: %.0f records/s\n",
              static_cast<long long>(sent.load()), processed, elapsed,
              static_cast<double>(processed) / elapsed);
  std::printf(
    "end-to-end latency (produce -> passthrough -> consume): p50 %.1f ms, p99 %.1f ms\n",
    latency_ms(latencies, 0.50), latency_ms(latencies, 0.99));
  return failures == 0 && static_cast<std::int64_t>(processed) >= sent ? 0 : 1;
}
