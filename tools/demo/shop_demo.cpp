// shop-demo, the demo behind `tools/dev demo`: runs every built service of the shop as
// processes on a Kafka broker, posts orders over HTTP at a chosen rate with a live progress
// line, and prints how the orders were decided and how fast. Ctrl-C stops it cleanly.
//
//   shop-demo [--orders N] [--rate R] [--instances K] [--products P] [--keep] ...
//
// A run: create the shop's topics; give the run consumer groups of its own, starting at the
// current end of the shop's topics (so that it neither replays nor disturbs what earlier
// runs and tests wrote); seed stock and customers; start K instances of each service; wait
// until every instance holds its partitions; post the orders (and a payment for each) and
// long-poll each order's decision; summarise; stop the services with SIGTERM.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "demo_options.hpp"
#include "demo_summary.hpp"
#include "kafka_admin.hpp"
#include "order_load.hpp"
#include "order_mix.hpp"
#include "progress_line.hpp"
#include "service_logs.hpp"
#include "shop/email.pb.h"
#include "shop/payments.pb.h"
#include "shop_services.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using shop_demo::framework_endpoint;
using shop_demo::last_service_state;
using shop_demo::listening_endpoint;
using options = shop_demo::demo_options;
using shop_demo::progress_line;
namespace fs = std::filesystem;
using shop_demo::shop_service;

/// SIGINT and SIGTERM seen so far: the first stops the run gracefully, the second kills the
/// services at once.
std::atomic<int> interrupts{0};

extern "C" void on_interrupt(int) {
  interrupts.fetch_add(1);
}

/// The exit code of a run stopped by Ctrl-C.
constexpr int interrupted_exit = 130;
/// How long the services may take to be ready, and to stop after SIGTERM.
constexpr auto ready_timeout = 120s;
constexpr auto stop_timeout = 45s;
/// How long every service must have been ready before the first order is posted.
constexpr auto settle_time = 1s;
/// How long the demo waits for the confirmation mails of the validated orders.
constexpr auto mail_timeout = 20s;

/// One running instance of a shop service.
struct instance {
  const shop_service* service;
  std::string label;
  std::unique_ptr<eddy::test::child_process> process;
  /// The base URL of an orders instance, once its log named it.
  std::string endpoint;
};

/// Six hex digits naming a run.
std::string random_run_id() {
  std::random_device device;
  char id[8];
  std::snprintf(id, sizeof id, "%06x", static_cast<unsigned>(device()) & 0xffffffu);
  return id;
}

/// `value` formatted by the printf `pattern`.
std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

/// The shop's run: everything between the broker and the summary.
class shop_run {
public:
  explicit shop_run(options opts)
    : opts_(std::move(opts)),
      run_id_(random_run_id()),
      dir_((opts_.run_dir.empty() ? fs::temp_directory_path() : fs::path{opts_.run_dir})
           / ("eddy-shop-demo-" + run_id_)),
      mix_(run_id_, opts_.orders, opts_.products) {}

  /// Runs the demo; returns the exit code.
  int run() {
    std::printf("Eddy shop demo, run %s: %lld orders at %s/s, %d instance(s) per service, "
                "%d products\n",
                run_id_.c_str(), static_cast<long long>(opts_.orders),
                format("%g", opts_.rate).c_str(), opts_.instances, opts_.products);
    if (!find_services())
      return 1;
    fs::create_directories(dir_);
    std::printf("run folder %s (service logs: <service>-<n>.log)\n", dir_.c_str());
    int code = 1;
    try {
      code = run_services();
    } catch (const std::exception& e) {
      progress_.finish();
      std::fprintf(stderr, "shop-demo: %s\n", e.what());
    }
    if (!stop_services() && code == 0)
      code = 1;
    if (opts_.keep || (code != 0 && code != interrupted_exit)) {
      std::printf("logs and state kept in %s\n", dir_.c_str());
    } else {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
    return code;
  }

private:
  // -- preparing --------------------------------------------------------------------------

  /// Finds the built services; false if a required one is missing.
  bool find_services() {
    bool complete = true;
    std::printf("services (from %s):\n", opts_.services_dir.c_str());
    for (auto& svc : services_) {
      auto program = fs::path{opts_.services_dir} / svc.name / svc.name;
      if (::access(program.c_str(), X_OK) == 0) {
        std::printf("  %-24s %s\n", svc.name.c_str(), svc.role.c_str());
        present_.push_back(&svc);
        programs_[svc.name] = program;
      } else {
        std::printf("  %-24s NOT BUILT: %s\n", svc.name.c_str(), svc.without.c_str());
        complete = complete && !svc.required;
      }
    }
    if (!complete)
      std::fprintf(stderr, "shop-demo: a service the demo needs is not built; build them all "
                           "with tools/dev build\n");
    return complete;
  }

  std::string group_of(const shop_service& svc) const {
    return "shop-demo-" + run_id_ + "-" + svc.name;
  }

  /// Creates the topics, places the run's consumer groups at their end and seeds the stock
  /// and the customers.
  void prepare_kafka() {
    auto topics = shop_demo::shop_topics();
    admin_->create_topics(topics);
    std::vector<std::string> compacted;
    for (auto& topic : topics)
      if (topic.configs.count("cleanup.policy") != 0)
        compacted.push_back(topic.name);
    std::printf("topics: %zu shop topics present (compacted: ", topics.size());
    for (std::size_t i = 0; i < compacted.size(); ++i)
      std::printf("%s%s", i ? ", " : "", compacted[i].c_str());
    std::printf(")\n");

    // A service's own topics are named after it (re-keying, dead letters); they may
    // exist from earlier runs without being in its schema.
    auto existing = admin_->topic_names();
    for (auto* svc : present_) {
      std::vector<std::string> names;
      for (auto& topic : topics)
        names.push_back(topic.name);
      for (auto& name : existing)
        if (name.rfind(svc->name + "-", 0) == 0)
          names.push_back(name);
      admin_->start_group_at_end(group_of(*svc), names);
    }
    std::printf("consumer groups shop-demo-%s-<service>, starting at the end of the topics\n",
                run_id_.c_str());

    auto stock_topic = shop_demo::topic_of(*shop::StockLevel::descriptor());
    auto customers_topic = shop_demo::topic_of(*shop::Customer::descriptor());
    auto stock = mix_.stock();
    std::int32_t low = INT32_MAX, high = 0;
    for (auto& level : stock) {
      admin_->send(stock_topic, level.product(), level);
      low = std::min(low, level.quantity());
      high = std::max(high, level.quantity());
    }
    auto customers = mix_.customers();
    for (auto& customer : customers)
      admin_->send(customers_topic, customer.id(), customer);
    admin_->flush(30s);
    std::printf("seeded %zu products (stock %d to %d items) on %s and %zu customers on %s\n",
                stock.size(), low, high, stock_topic.c_str(), customers.size(),
                customers_topic.c_str());
  }

  // -- the services -----------------------------------------------------------------------

  /// Orders in flight per orders instance at most: enough for about a second of latency.
  int workers_per_endpoint() const {
    auto in_flight = std::clamp(static_cast<int>(opts_.rate), 16, 512);
    return (in_flight + opts_.instances - 1) / opts_.instances;
  }

  void start_services() {
    for (auto* svc : present_) {
      for (int n = 1; n <= opts_.instances; ++n) {
        auto label = svc->name + "-" + std::to_string(n);
        std::vector<std::string> args{"-X", "bootstrap.servers=" + opts_.bootstrap,
                                      "-X", "group.id=" + group_of(*svc),
                                      "-X", "eddy.state.dir=" + (dir_ / label).string(),
                                      "-X", "eddy.http.listen=127.0.0.1:0"};
        if (svc->exactly_once)
          args.insert(args.end(), {"-X", "eddy.processing.guarantee=exactly_once"});
        if (svc->http) {
          // Port 0: the instance binds a free port and logs it. Each waiting long-poll
          // holds a request thread, and so does each request forwarded to it.
          auto threads = std::min(1024, 2 * workers_per_endpoint() + 16);
          args.insert(args.end(), {"-X", "app.http.port=0", "-X",
                                   "app.http.threads=" + std::to_string(threads)});
        }
        instances_.push_back({svc,
                              label,
                              std::make_unique<eddy::test::child_process>(
                                programs_[svc->name], args,
                                eddy::test::child_options{.log = dir_ / (label + ".log"),
                                                          .own_process_group = true}),
                              {}});
      }
    }
    std::printf("started %zu processes\n", instances_.size());
  }

  /// Why the orders instances are not ready, or empty once they are: every instance runs,
  /// together they hold every partition of `orders`, and each knows the others (so that
  /// it can forward requests for keys it does not own).
  std::string orders_not_ready(const shop_service& svc) {
    std::set<int> partitions;
    for (auto& inst : instances_) {
      if (inst.service != &svc)
        continue;
      if (inst.endpoint.empty())
        inst.endpoint = listening_endpoint(inst.process->output());
      if (inst.endpoint.empty())
        return inst.label + " starting";
      httplib::Client client{inst.endpoint};
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(2, 0);
      auto health = client.Get("/v1/health");
      if (!health || health->status != 200)
        return inst.label + " not answering";
      auto body = nlohmann::json::parse(health->body, nullptr, false);
      if (!body.is_object())
        return inst.label + " answers /v1/health with no JSON object";
      auto state = body.value("state", "unknown");
      if (state != "running")
        return inst.label + " " + state;
      for (auto& p : body.value("partitions", nlohmann::json::array()))
        partitions.insert(p.get<int>());
      if (body.value("known_instances", 0) < opts_.instances - 1)
        return inst.label + " knows " + std::to_string(body.value("known_instances", 0))
               + " of the other " + std::to_string(opts_.instances - 1) + " instance(s)";
    }
    auto needed = svc.topics.front().partitions;
    if (static_cast<int>(partitions.size()) < needed)
      return svc.name + " holds " + std::to_string(partitions.size()) + " of "
             + std::to_string(needed) + " partitions";
    return {};
  }

  /// Why the instances of `svc` are not ready, or empty once they are: each has left its
  /// restore (its last state is running), and the group is stable with every instance as a
  /// member and every partition of the topics it subscribes to assigned.
  std::string group_not_ready(const shop_service& svc) {
    for (auto& inst : instances_)
      if (inst.service == &svc) {
        auto state = last_service_state(inst.process->output());
        if (state != "running")
          return inst.label + " " + state;
      }
    auto group = admin_->describe_group(group_of(svc));
    if (!group.stable)
      return svc.name + " group " + group.state;
    if (group.members != opts_.instances)
      return svc.name + " group has " + std::to_string(group.members) + " of "
             + std::to_string(opts_.instances) + " members";
    for (auto& topic : svc.group_topics) {
      auto spec = std::find_if(svc.topics.begin(), svc.topics.end(),
                               [&](auto& t) { return t.name == topic; });
      auto assigned = static_cast<int>(group.assigned[topic].size());
      if (spec != svc.topics.end() && assigned < spec->partitions)
        return svc.name + " has " + std::to_string(assigned) + " of "
               + std::to_string(spec->partitions) + " partitions of " + topic;
    }
    return {};
  }

  /// Why an instance is no longer running (it exited), or empty while all run. The end
  /// of its log is shown when the services are stopped.
  std::string exited_instance() {
    for (auto& inst : instances_)
      if (!inst.process->running())
        return inst.label + " exited with code " + std::to_string(*inst.process->exit_code());
    return {};
  }

  /// Where each instance's own endpoint (eddy.http.listen) answers.
  void print_framework_endpoints() {
    std::printf("service endpoints (GET /health, /ready, /topology, /metrics):");
    for (auto& inst : instances_) {
      auto address = framework_endpoint(inst.process->output());
      std::printf(" %s=%s", inst.label.c_str(), address.empty() ? "?" : address.c_str());
    }
    std::printf("\n");
  }

  /// Waits until every service is ready; false if interrupted.
  bool wait_until_ready() {
    auto started = clock_type::now();
    std::optional<clock_type::time_point> ready_since;
    while (interrupts == 0) {
      if (auto exited = exited_instance(); !exited.empty())
        throw std::runtime_error{exited + " while starting"};
      std::vector<std::string> waiting;
      for (auto* svc : present_) {
        auto reason = svc->http ? orders_not_ready(*svc) : group_not_ready(*svc);
        if (!reason.empty())
          waiting.push_back(reason);
      }
      auto now = clock_type::now();
      auto waited = std::chrono::duration<double>(now - started).count();
      if (waiting.empty()) {
        if (!ready_since)
          ready_since = now;
        if (now - *ready_since >= settle_time) {
          progress_.finish();
          std::printf("all services ready after %.1f s\n", waited);
          print_framework_endpoints();
          return true;
        }
      } else {
        ready_since.reset();
      }
      if (now - started > ready_timeout) {
        std::string all;
        for (auto& reason : waiting)
          all += "\n  " + reason;
        throw std::runtime_error{"the services were not ready within "
                                 + std::to_string(ready_timeout.count()) + " s:" + all};
      }
      std::string text = "waiting for the services (" + format("%.0f", waited) + " s): ";
      if (waiting.empty())
        text += "all ready, settling";
      else
        text +=
          waiting.front()
          + (waiting.size() > 1 ? " and " + std::to_string(waiting.size() - 1) + " more" : "");
      progress_.show(text);
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  /// Stops every instance: SIGTERM, then SIGKILL for those still running after the
  /// timeout or a second Ctrl-C. False if one did not exit cleanly.
  bool stop_services() {
    if (instances_.empty())
      return true;
    std::printf("stopping %zu processes\n", instances_.size());
    for (auto& inst : instances_)
      inst.process->signal(SIGTERM);
    auto deadline = clock_type::now() + stop_timeout;
    int seen_interrupts = interrupts;
    for (auto& inst : instances_) {
      bool killed = false;
      while (!inst.process->wait(100ms)) {
        bool hurry = interrupts >= 2 || interrupts > seen_interrupts;
        if (killed || (clock_type::now() < deadline && !hurry))
          continue;
        std::fprintf(stderr, "killing %s\n", inst.label.c_str());
        inst.process->signal(SIGKILL);
        killed = true;
      }
    }
    bool clean = true;
    for (auto& inst : instances_) {
      auto code = *inst.process->exit_code();
      if (code != 0) {
        clean = false;
        std::fprintf(stderr, "%s exited with code %d; its log (%s) ends:\n%s",
                     inst.label.c_str(), code, inst.process->log_path().c_str(),
                     inst.process->output_tail(10).c_str());
      }
    }
    if (clean)
      std::printf("all %zu processes stopped cleanly\n", instances_.size());
    instances_.clear();
    return clean;
  }

  // -- the orders -------------------------------------------------------------------------

  /// The live progress line.
  std::string progress_text(const shop_demo::load_snapshot& s) const {
    std::ostringstream text;
    text << "posted " << s.posted << "/" << opts_.orders << "  decided " << s.decided << " ("
         << s.validated << " validated, " << s.failed << " failed)";
    if (s.posting_seconds > 0)
      text << "  " << format("%.0f", static_cast<double>(s.posted) / s.posting_seconds)
           << " orders/s";
    if (s.decided > 0)
      text << "  p50 " << format("%.0f", s.p50_ms) << " ms";
    if (s.refused > 0)
      text << "  refused " << s.refused;
    if (s.undecided > 0)
      text << "  undecided " << s.undecided;
    return text.str();
  }

  /// Posts the orders until all are decided or Ctrl-C; returns what happened.
  shop_demo::load_snapshot post_orders() {
    shop_demo::load_options load;
    load.rate = opts_.rate;
    load.workers_per_endpoint = workers_per_endpoint();
    load.decision_wait = std::chrono::seconds{opts_.wait_seconds};
    for (auto& inst : instances_)
      if (inst.service->http)
        load.endpoints.push_back(inst.endpoint);
    auto payments_topic = shop_demo::topic_of(*shop::Payment::descriptor());
    shop_demo::order_load orders{
      mix_, load, [&](const std::string& id, const shop_demo::planned_order& planned) {
        shop::Payment payment;
        payment.set_id("pay-" + id);
        payment.set_order_id(id);
        payment.set_currency("EUR");
        payment.set_amount(planned.quantity * planned.price);
        admin_->send(payments_topic, id, payment);
      }};
    std::printf("posting to %zu orders instance(s), round-robin, at most %d orders in flight "
                "each; a payment for each order on %s\n",
                load.endpoints.size(), load.workers_per_endpoint, payments_topic.c_str());
    orders.start();
    while (!orders.finished()) {
      if (interrupts > 0 && !interrupted_) {
        interrupted_ = true;
        orders.stop();
        progress_.finish();
        std::fprintf(stderr, "interrupted: no more orders are posted\n");
      }
      if (service_failure_.empty()) {
        service_failure_ = exited_instance();
        if (!service_failure_.empty()) {
          orders.stop();
          progress_.finish();
          std::fprintf(stderr, "%s: no more orders are posted\n", service_failure_.c_str());
        }
      }
      progress_.show(progress_text(orders.snapshot()));
      std::this_thread::sleep_for(250ms);
    }
    auto result = orders.snapshot();
    progress_.show(progress_text(result), true);
    progress_.finish();
    validated_ids_ = orders.validated_ids();
    try {
      admin_->flush(30s);
    } catch (const std::exception& e) {
      payments_failure_ = e.what();
    }
    return result;
  }

  /// How many validated orders got their confirmation mail, if email runs.
  std::optional<std::size_t> count_mails(const std::map<std::int32_t, std::int64_t>& from) {
    if (from.empty() || interrupted_ || !service_failure_.empty() || validated_ids_.empty())
      return std::nullopt;
    std::set<std::string> keys{validated_ids_.begin(), validated_ids_.end()};
    auto found = admin_->find_keys(mail_topic_, "shop-demo-" + run_id_ + "-mail-reader", from,
                                   keys, mail_timeout);
    return found.size();
  }

  /// Prints the summary; returns the exit code.
  int summarise(const shop_demo::load_snapshot& s, std::optional<std::size_t> mails) {
    shop_demo::run_report run;
    run.run_id = run_id_;
    run.orders = opts_.orders;
    run.rate = opts_.rate;
    run.wait_seconds = opts_.wait_seconds;
    run.interrupted = interrupted_;
    run.service_failure = service_failure_;
    run.payments_failure = payments_failure_;
    run.mails = mails;
    run.validated = validated_ids_.size();
    run.mail_topic = mail_topic_;
    for (auto& svc : services_)
      if (programs_.count(svc.name) == 0)
        run.not_run += (run.not_run.empty() ? "" : ", ") + svc.name;
    shop_demo::print_summary(s, mix_.planned_kinds(s.scheduled), run);
    if (interrupted_)
      return interrupted_exit;
    if (!service_failure_.empty() || !payments_failure_.empty())
      return 1;
    bool complete = s.posted == opts_.orders && s.decided == s.posted && s.unexpected == 0;
    bool mailed = !mails || *mails == validated_ids_.size();
    return complete && mailed ? 0 : 1;
  }

  /// Everything from the broker to the summary; returns the exit code.
  int run_services() {
    admin_ = std::make_unique<shop_demo::kafka_admin>(opts_.bootstrap, 15s);
    std::printf("broker %s\n", opts_.bootstrap.c_str());
    prepare_kafka();
    std::map<std::int32_t, std::int64_t> mails_from;
    for (auto* svc : present_)
      if (svc->name == "email")
        mails_from = admin_->end_offsets(mail_topic_);
    start_services();
    if (!wait_until_ready()) {
      progress_.finish();
      std::printf("interrupted before any order was posted\n");
      return interrupted_exit;
    }
    auto result = post_orders();
    auto mails = count_mails(mails_from);
    return summarise(result, mails);
  }

  options opts_;
  std::string run_id_;
  fs::path dir_;
  shop_demo::order_mix mix_;
  std::vector<shop_service> services_ = shop_demo::shop_services();
  std::vector<const shop_service*> present_;
  std::map<std::string, fs::path> programs_;
  std::unique_ptr<shop_demo::kafka_admin> admin_;
  std::vector<instance> instances_;
  progress_line progress_;
  bool interrupted_ = false;
  /// Which service instance exited while orders were posted, if one did.
  std::string service_failure_;
  /// Why payments were not all delivered, if they were not.
  std::string payments_failure_;
  std::vector<std::string> validated_ids_;
  std::string mail_topic_ = shop_demo::topic_of(*shop::EmailNotification::descriptor());
};

} // namespace

int main(int argc, char** argv) {
  shop_demo::demo_options opts;
  CLI::App app{"The Eddy shop demo: runs the shop's services as processes on a Kafka broker, "
               "posts orders over HTTP at a steady rate with a live progress line, and "
               "summarises how they were decided and how fast. Ctrl-C stops it cleanly (twice: "
               "kills the services).",
               "shop-demo"};
  shop_demo::add_demo_options(app, opts);
  CLI11_PARSE(app, argc, argv);
  // Line by line, so that the steps and the progress (on stderr) appear in order.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  if (opts.bootstrap.empty())
    if (const char* env = std::getenv("EDDY_KAFKA_BOOTSTRAP_SERVERS"))
      opts.bootstrap = env;
  if (opts.bootstrap.empty()) {
    std::cerr << "shop-demo: no broker: pass --bootstrap or set EDDY_KAFKA_BOOTSTRAP_SERVERS "
                 "(tools/dev demo starts the local broker and sets it)\n";
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return shop_run{opts}.run();
}
