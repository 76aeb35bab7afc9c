#include "order_load.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "percentile.hpp"

namespace shop_demo {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The longest single long-poll: a waiting worker notices a stop within this.
constexpr milliseconds poll_slice{1000};
/// How long a worker waits before asking again after an error answer.
constexpr milliseconds retry_pause{100};
/// Unexpected decisions listed in the summary at most.
constexpr std::size_t max_examples = 5;

/// The orders due for one endpoint, in order; closed when no more will come.
class order_queue {
public:
  void push(std::int64_t index) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      items_.push_back(index);
    }
    cv_.notify_one();
  }

  /// The next order, or nullopt once the queue is closed and empty.
  std::optional<std::int64_t> pop() {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty())
      return std::nullopt;
    auto index = items_.front();
    items_.pop_front();
    return index;
  }

  /// No more orders come; with `drop`, those not yet taken are dropped.
  void close(bool drop) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      closed_ = true;
      if (drop)
        items_.clear();
    }
    cv_.notify_all();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::int64_t> items_;
  bool closed_ = false;
};

/// Keep-alive connections to one orders instance, each lent to one order at a time, the
/// most recently returned first. Reusing connections avoids bursts of connects, which
/// overflow the small accept queue of cpp-httplib's server (5) and cost a SYN retransmit
/// (1 s) each; closing those idle for `max_idle` spares the server, which polls every idle
/// keep-alive connection every 10 ms. A request on a connection the server closed meanwhile
/// fails and is retried by the caller.
class connection_pool {
public:
  explicit connection_pool(std::string endpoint)
    : endpoint_(std::move(endpoint)) {}

  /// A connection for one order: an idle one, or a new one.
  std::unique_ptr<httplib::Client> acquire() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      prune();
      if (!idle_.empty()) {
        auto client = std::move(idle_.back().client);
        idle_.pop_back();
        return client;
      }
    }
    auto client = std::make_unique<httplib::Client>(endpoint_);
    client->set_keep_alive(true);
    client->set_connection_timeout(2, 0);
    client->set_read_timeout(static_cast<time_t>(read_timeout.count() / 1000), 0);
    return client;
  }

  /// Takes back a connection that served an order.
  void release(std::unique_ptr<httplib::Client> client) {
    std::lock_guard<std::mutex> guard{mtx_};
    idle_.push_back({std::move(client), clock_type::now()});
    prune();
  }

  /// Long enough for a long-poll slice plus a POST waiting for the broker (30 s).
  static constexpr milliseconds read_timeout{40000};
  /// Idle connections are closed after this.
  static constexpr milliseconds max_idle{1000};

private:
  struct idle_connection {
    std::unique_ptr<httplib::Client> client;
    clock_type::time_point since;
  };

  void prune() {
    auto now = clock_type::now();
    while (!idle_.empty() && now - idle_.front().since > max_idle)
      idle_.pop_front();
  }

  std::string endpoint_;
  std::mutex mtx_;
  std::deque<idle_connection> idle_;
};

double seconds_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// The string field `key` of the JSON object in `body`, or empty.
std::string string_field(const std::string& body, const char* key) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains(key) || !json[key].is_string())
    return {};
  return json[key].get<std::string>();
}

std::string describe(const httplib::Result& result) {
  if (!result)
    return httplib::to_string(result.error());
  return "HTTP " + std::to_string(result->status) + " " + result->body;
}

} // namespace

struct order_load::impl {
  impl(const order_mix& m, load_options o, posted_callback cb)
    : mix(m),
      opts(std::move(o)),
      on_posted(std::move(cb)),
      queues(opts.endpoints.size()),
      due_at(static_cast<std::size_t>(mix.count())) {
    for (auto& endpoint : opts.endpoints)
      connections.push_back(std::make_unique<connection_pool>(endpoint));
  }

  const order_mix& mix;
  load_options opts;
  posted_callback on_posted;
  std::vector<order_queue> queues;
  std::vector<std::unique_ptr<connection_pool>> connections;
  std::thread pacer;
  std::vector<std::thread> workers;
  std::atomic<bool> stopping{false};
  std::atomic<int> workers_left{0};
  std::atomic<bool> pacing{false};

  mutable std::mutex mtx;
  load_snapshot counts;
  std::vector<double> latencies_ms;
  std::vector<double> post_ms;
  /// When each order was due, by index.
  std::vector<clock_type::time_point> due_at;
  std::vector<std::string> validated;
  std::optional<clock_type::time_point> first_post;
  clock_type::time_point last_post;
  clock_type::time_point last_decision;

  /// Counts a request that failed and keeps the first reason.
  void note_error(const std::string& what) {
    std::lock_guard<std::mutex> guard{mtx};
    ++counts.errors;
    if (counts.first_error.empty())
      counts.first_error = what;
  }

  /// Hands each order to its endpoint's queue when it is due.
  void pace() {
    auto start = clock_type::now();
    for (std::int64_t i = 0; i < mix.count() && !stopping; ++i) {
      auto due = start
                 + std::chrono::duration_cast<clock_type::duration>(
                   std::chrono::duration<double>(static_cast<double>(i) / opts.rate));
      std::this_thread::sleep_until(due);
      if (stopping)
        break;
      {
        std::lock_guard<std::mutex> guard{mtx};
        ++counts.scheduled;
        due_at[static_cast<std::size_t>(i)] = due;
      }
      queues[static_cast<std::size_t>(i) % queues.size()].push(i);
    }
    pacing = false;
    for (auto& queue : queues)
      queue.close(stopping);
  }

  /// A worker: takes the orders of one endpoint, one at a time.
  void work(connection_pool& pool, order_queue& queue) {
    while (auto index = queue.pop()) {
      auto client = pool.acquire();
      try {
        handle(*client, *index);
        pool.release(std::move(client));
      } catch (const std::exception& e) {
        note_error("order " + std::to_string(*index) + ": " + e.what());
      }
    }
    --workers_left;
  }

  /// Posts order `index`, publishes its payment and waits for its decision.
  void handle(httplib::Client& client, std::int64_t index) {
    auto planned = mix.order(index);
    auto sent = clock_type::now();
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (!first_post)
        first_post = sent;
      auto late = std::chrono::duration<double, std::milli>(
                    sent - due_at[static_cast<std::size_t>(index)])
                    .count();
      if (late > 100)
        ++counts.late;
      counts.max_late_ms = std::max(counts.max_late_ms, late);
    }
    if (!create(client, planned, sent + opts.decision_wait)) {
      std::lock_guard<std::mutex> guard{mtx};
      ++counts.refused;
      return;
    }
    {
      std::lock_guard<std::mutex> guard{mtx};
      ++counts.posted;
      last_post = clock_type::now();
      post_ms.push_back(std::chrono::duration<double, std::milli>(last_post - sent).count());
    }
    on_posted(planned.id, planned);
    await_decision(client, planned, sent);
  }

  /// POSTs `planned` until the API accepts it (201, or 200 for a retry of an order it
  /// already has); the order's own id makes retries safe. False if it refuses the order,
  /// or does not accept it by `deadline` or a stop.
  bool create(httplib::Client& client, const planned_order& planned,
              clock_type::time_point deadline) {
    auto body = nlohmann::json{{"id", planned.id},
                               {"customer_id", planned.customer_id},
                               {"product", planned.product},
                               {"quantity", planned.quantity},
                               {"price", planned.price}}
                  .dump();
    for (;;) {
      auto answer = client.Post("/v1/orders", body, "application/json");
      if (answer && (answer->status == 201 || answer->status == 200))
        return true;
      note_error("POST /v1/orders (order " + planned.id + "): " + describe(answer));
      bool transient = !answer || answer->status == 503;
      if (!transient || stopping || clock_type::now() + retry_pause >= deadline)
        return false;
      std::this_thread::sleep_for(retry_pause);
    }
  }

  /// Long-polls the order's decision, a slice at a time, until it comes, the order's
  /// deadline passes or the load stops.
  void await_decision(httplib::Client& client, const planned_order& planned,
                      clock_type::time_point sent) {
    auto deadline = sent + opts.decision_wait;
    auto path = "/v1/orders/" + planned.id + "/validated?timeout=";
    for (;;) {
      auto now = clock_type::now();
      if (stopping || now >= deadline) {
        std::lock_guard<std::mutex> guard{mtx};
        ++(stopping ? counts.abandoned : counts.undecided);
        return;
      }
      auto slice =
        std::min(poll_slice, std::chrono::duration_cast<milliseconds>(deadline - now));
      auto answer = client.Get(path + std::to_string(slice.count()));
      if (answer && answer->status == 200) {
        auto decided = clock_type::now();
        auto state = string_field(answer->body, "state");
        record(planned, state, decided, decided - sent);
        return;
      }
      if (answer && answer->status == 504)
        continue;
      note_error("GET " + path + ": " + describe(answer));
      std::this_thread::sleep_for(retry_pause);
    }
  }

  /// Counts a decision and its latency, and whether it is the planned one.
  void record(const planned_order& planned, const std::string& state,
              clock_type::time_point decided, clock_type::duration latency) {
    std::lock_guard<std::mutex> guard{mtx};
    ++counts.decided;
    if (state == "VALIDATED") {
      ++counts.validated;
      validated.push_back(planned.id);
    } else if (state == "FAILED")
      ++counts.failed;
    if (state != shop::Order::State_Name(planned.expected())) {
      ++counts.unexpected;
      if (counts.unexpected_examples.size() < max_examples)
        counts.unexpected_examples.push_back(
          planned.id + " (" + to_string(planned.kind) + ", " + planned.customer_id + ", "
          + std::to_string(planned.quantity) + " x " + planned.product + "): " + state
          + ", expected " + shop::Order::State_Name(planned.expected()));
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(latency).count());
    last_decision = decided;
  }
};

order_load::order_load(const order_mix& mix, load_options options, posted_callback on_posted)
  : impl_(std::make_unique<impl>(mix, std::move(options), std::move(on_posted))) {}

order_load::~order_load() {
  stop();
  if (impl_->pacer.joinable())
    impl_->pacer.join();
  for (auto& worker : impl_->workers)
    worker.join();
}

void order_load::start() {
  auto& self = *impl_;
  self.pacing = true;
  self.workers_left = static_cast<int>(self.queues.size()) * self.opts.workers_per_endpoint;
  for (std::size_t e = 0; e < self.queues.size(); ++e)
    for (int w = 0; w < self.opts.workers_per_endpoint; ++w)
      self.workers.emplace_back(
        [&self, e] { self.work(*self.connections[e], self.queues[e]); });
  self.pacer = std::thread{[&self] { self.pace(); }};
}

void order_load::stop() {
  impl_->stopping = true;
}

bool order_load::finished() const {
  return !impl_->pacing && impl_->workers_left == 0;
}

load_snapshot order_load::snapshot() const {
  auto& self = *impl_;
  std::vector<double> sorted;
  std::vector<double> posts;
  load_snapshot result;
  {
    std::lock_guard<std::mutex> guard{self.mtx};
    result = self.counts;
    sorted = self.latencies_ms;
    posts = self.post_ms;
    if (result.posted > 0)
      result.posting_seconds = seconds_between(*self.first_post, self.last_post);
    if (result.decided > 0)
      result.deciding_seconds = seconds_between(*self.first_post, self.last_decision);
  }
  std::sort(sorted.begin(), sorted.end());
  result.p50_ms = eddy::test::quantile_of_sorted(sorted, 0.50);
  result.p99_ms = eddy::test::quantile_of_sorted(sorted, 0.99);
  result.max_ms = sorted.empty() ? 0 : sorted.back();
  std::sort(posts.begin(), posts.end());
  result.post_p50_ms = eddy::test::quantile_of_sorted(posts, 0.50);
  result.in_flight_cap =
    static_cast<std::int64_t>(self.queues.size()) * self.opts.workers_per_endpoint;
  return result;
}

std::vector<std::string> order_load::validated_ids() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->validated;
}

} // namespace shop_demo
