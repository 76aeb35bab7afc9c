#include <eddy/service.hpp>

#include <optional>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <eddy/internal/kafka.hpp>
#include <eddy/log.hpp>

#include "consumer_stats.hpp"
#include "global_tables.hpp"
#include "http_endpoint.hpp"
#include "instance_slot.hpp"
#include "journal_history.hpp"
#include "poll_loop.hpp"
#include "runtime.hpp"
#include "service_face.hpp"
#include "sink.hpp"
#include "stop_signals.hpp"

namespace eddy {

const char* to_string(service_state state) noexcept {
  switch (state) {
  case service_state::created:
    return "created";
  case service_state::starting:
    return "starting";
  case service_state::running:
    return "running";
  case service_state::stopping:
    return "stopping";
  case service_state::stopped:
    return "stopped";
  case service_state::failed:
    return "failed";
  case service_state::restoring:
    return "restoring";
  }
  return "unknown";
}

struct service::impl {
  std::string name;
  config cfg;
  std::vector<internal::topic_spec> topics;
  /// The options of the journal, if one is declared.
  journal_options journal_opts;
  detail::runtime rt;
  std::atomic<service_state> state{service_state::created};
  /// Guards `publishing` against the sink going away under a publish().
  std::mutex publish_mtx;
  bool publishing = false;
  /// Policies set in code; where unset, the settings pick shipped ones at run().
  processing_error_policy on_decode_error;
  processing_error_policy on_handler_error;
  production_error_policy on_production_error;

  /// Why the service is in its state, for /health. `status_mtx` guards it, the changes of
  /// `state`, and `http_address`.
  std::string state_reason = "run() was not called yet";
  mutable std::mutex status_mtx;
  /// What the HTTP endpoint reads, and the address it is bound to.
  detail::service_face face;
  std::string http_address;
  /// The group consumer's lag per partition, for /metrics (fed while the endpoint is on).
  detail::consumer_stats consumer_stats;
  /// The HTTP endpoint while `run()` runs (`eddy.http.listen`); declared last, so that it
  /// would stop before what it reads is destroyed (run() stops it anyway).
  std::unique_ptr<detail::http_endpoint> http;

  void transition(service_state next, std::string reason) {
    {
      std::lock_guard<std::mutex> guard{status_mtx};
      state_reason = std::move(reason);
      state.store(next);
    }
    logger().info("service state service={} state={}", name, to_string(next));
  }

  /// As `transition`, unless the service is already stopping, stopped or failed: a restore
  /// that ends (or one cancelled by a stop) must not make such a service look running.
  void transition_unless_ending(service_state next, std::string reason) {
    {
      std::lock_guard<std::mutex> guard{status_mtx};
      auto now = state.load();
      if (now == service_state::stopping || now == service_state::stopped
          || now == service_state::failed)
        return;
      state_reason = std::move(reason);
      state.store(next);
    }
    logger().info("service state service={} state={}", name, to_string(next));
  }

  std::string reason() const {
    std::lock_guard<std::mutex> guard{status_mtx};
    return state_reason;
  }

  expected<void> fail(error err) {
    logger().error("service failed service={} error=\"{}\"", name, err.what());
    transition(service_state::failed, err.what());
    return err;
  }

  /// Starts the HTTP endpoint if `eddy.http.listen` is set.
  expected<void> start_http(std::map<std::string, int> consumed_partitions);
  /// Stops it (when `run()` returns, however it returns).
  void stop_http();

  expected<void> run(bool handle_signals);

  /// `service::publish` with the value as given (a view without data is a tombstone).
  std::future<expected<std::int64_t>> publish(const std::string& topic, std::string_view key,
                                              std::string_view value,
                                              const std::vector<header>& headers);
};

service::service(std::string name, config cfg)
  : impl_(std::make_unique<impl>()) {
  impl_->name = std::move(name);
  impl_->cfg = std::move(cfg);
  impl_->rt.service_name = impl_->name;
}

service::~service() = default;

service& service::topic(std::string name, int partitions, int replication_factor,
                        std::map<std::string, std::string> configs) {
  impl_->topics.push_back(
    {std::move(name), partitions, replication_factor, std::move(configs)});
  return *this;
}

service& service::journal(std::string topic, int partitions, journal_applier apply,
                          journal_options options) {
  // The journal is the truth: it keeps every event, whatever the broker's default.
  impl_->topics.push_back(
    {topic, partitions, -1, {{"retention.ms", "-1"}, {"retention.bytes", "-1"}}});
  impl_->journal_opts = options;
  detail::journal_spec spec;
  if (options.snapshots) {
    spec.snapshot_topic = topic + "-snapshots";
    impl_->topics.push_back(
      {spec.snapshot_topic, partitions, -1, {{"cleanup.policy", "compact"}}});
  }
  spec.topic = std::move(topic);
  spec.partitions = partitions;
  spec.apply = std::move(apply);
  spec.delivered_next = std::make_unique<std::atomic<std::int64_t>[]>(
    static_cast<std::size_t>(std::max(partitions, 1)));
  for (int p = 0; p < partitions; ++p)
    spec.delivered_next[static_cast<std::size_t>(p)].store(-1);
  impl_->rt.journal = std::move(spec);
  return *this;
}

service& service::consume(std::string topic, handler fn) {
  impl_->rt.handlers[std::move(topic)] = std::move(fn);
  return *this;
}

service& service::table(std::string topic, int partitions, table_listener on_change) {
  impl_->rt.local_tables[topic] =
    detail::local_table_spec{topic, partitions, std::move(on_change)};
  return *this;
}

service& service::global_table(std::string topic, table_listener on_change) {
  auto table = std::make_unique<detail::global_table>();
  table->topic = topic;
  table->on_change = std::move(on_change);
  impl_->rt.global_tables[std::move(topic)] = std::move(table);
  return *this;
}

service& service::repartition(std::string name, int partitions, handler fn) {
  auto topic = repartition_topic(name);
  impl_->topics.push_back({topic, partitions, -1, {}});
  impl_->rt.handlers[topic] = std::move(fn);
  impl_->rt.repartitions[std::move(name)] = std::move(topic);
  return *this;
}

service& service::on_decode_error(processing_error_policy policy) {
  impl_->on_decode_error = std::move(policy);
  return *this;
}

service& service::on_handler_error(processing_error_policy policy) {
  impl_->on_handler_error = std::move(policy);
  return *this;
}

service& service::on_production_error(production_error_policy policy) {
  impl_->on_production_error = std::move(policy);
  return *this;
}

std::string service::repartition_topic(const std::string& name) const {
  return impl_->name + "-" + name + "-repartition";
}

expected<std::optional<std::string>> service::lookup(const std::string& topic,
                                                     const std::string& key) const {
  auto& rt = impl_->rt;
  if (auto i = rt.global_tables.find(topic); i != rt.global_tables.end()) {
    std::lock_guard<std::mutex> guard{i->second->mtx};
    if (!i->second->store)
      return error{errc::not_owned, "global table '" + topic + "' is not loaded yet"};
    return i->second->store->get(key);
  }
  auto table = rt.local_tables.find(topic);
  if (table == rt.local_tables.end())
    return error{errc::invalid_config,
                 "service '" + impl_->name + "' declares no table for topic '" + topic + "'"};
  auto partition = partition_for(key, table->second.partitions);
  std::shared_ptr<detail::partition_state> state;
  {
    std::lock_guard<std::mutex> guard{rt.states_mtx};
    if (auto i = rt.states.find(partition); i != rt.states.end())
      state = i->second;
  }
  if (!state)
    return error{errc::not_owned, "partition " + std::to_string(partition) + " of table '"
                                    + topic + "' is not assigned to this instance"};
  std::lock_guard<std::mutex> guard{state->mtx};
  return state->store.get(detail::table_row_key(topic, key));
}

std::string service::http_address() const {
  std::lock_guard<std::mutex> guard{impl_->status_mtx};
  return impl_->http_address;
}

std::vector<std::int32_t> service::owned_partitions() const {
  std::lock_guard<std::mutex> guard{impl_->rt.states_mtx};
  std::vector<std::int32_t> result;
  for (auto& [partition, count] : impl_->rt.assigned_numbers)
    result.push_back(partition);
  return result;
}

std::future<expected<std::int64_t>> service::publish(const std::string& topic,
                                                     std::string_view key,
                                                     std::string_view value,
                                                     const std::vector<header>& headers) {
  // Only publish_tombstone writes a null value; an empty one is a value.
  return impl_->publish(topic, key, value.data() ? value : std::string_view{"", 0}, headers);
}

std::future<expected<std::int64_t>>
service::publish_tombstone(const std::string& topic, std::string_view key,
                           const std::vector<header>& headers) {
  return impl_->publish(topic, key, std::string_view{}, headers);
}

std::future<expected<std::int64_t>> service::impl::publish(const std::string& topic,
                                                           std::string_view key,
                                                           std::string_view value,
                                                           const std::vector<header>& headers) {
  auto refuse = [](error err) {
    std::promise<expected<std::int64_t>> refused;
    refused.set_value(std::move(err));
    return refused.get_future();
  };
  if (cfg.guarantee() == processing_guarantee::exactly_once)
    return refuse(error{errc::invalid_config, "publish() is not available in exactly_once: "
                                              "emit from a handler instead"});
  std::lock_guard<std::mutex> guard{publish_mtx};
  if (rt.out == nullptr || !publishing)
    return refuse(error{errc::delivery_failed, "service '" + name + "' is not running"});
  return rt.out->publish(topic, key, value, headers);
}

void service::stop() noexcept {
  impl_->rt.stop_requested.store(true);
}

const std::string& service::name() const noexcept {
  return impl_->name;
}

service_state service::state() const noexcept {
  return impl_->state.load();
}

service_stats service::stats() const noexcept {
  return impl_->rt.counters.snapshot();
}

expected<void> service::run(bool handle_signals) {
  return impl_->run(handle_signals);
}

expected<void> service::impl::start_http(std::map<std::string, int> consumed_partitions) {
  auto where = cfg.http_listen();
  if (!where)
    return {};
  face.service_name = name;
  face.group_id = cfg.get("consumer.group.id").value_or(cfg.get("group.id").value_or(name));
  face.declared_topics = topics;
  face.consumed_partitions = std::move(consumed_partitions);
  face.state = [this] { return state.load(); };
  face.reason = [this] { return reason(); };
  face.rt = &rt;
  face.consumer_lag = &consumer_stats;
  rt.timing_handlers = true;
  auto endpoint = detail::open_service_endpoint(face, *where, cfg);
  if (!endpoint)
    return endpoint.error_value();
  std::lock_guard<std::mutex> guard{status_mtx};
  http = std::move(*endpoint);
  http_address = face.instance;
  return {};
}

void service::impl::stop_http() {
  std::unique_ptr<detail::http_endpoint> endpoint;
  {
    std::lock_guard<std::mutex> guard{status_mtx};
    endpoint = std::move(http);
    http_address.clear();
  }
  if (endpoint)
    endpoint->stop();
}

expected<void> service::impl::run(bool handle_signals) {
  transition(service_state::starting, "connecting to the cluster and preparing its topics");
  // However run() returns, the endpoint stops with it.
  struct http_stop {
    service::impl& self;
    ~http_stop() { self.stop_http(); }
  } stop_http_on_return{*this};
  detail::stop_signal_scope signals{handle_signals};
  if (auto valid = cfg.validate(); !valid)
    return fail(valid.error_value());
  if (rt.handlers.empty() && rt.local_tables.empty())
    return fail(error{errc::invalid_config, "service '" + name + "' consumes no topic"});
  rt.dead_letter_topic =
    cfg.dead_letter_topic().empty() ? name + "-dlq" : cfg.dead_letter_topic();
  auto needed = topics;
  needed.push_back({rt.dead_letter_topic, 0, -1, {}});
  if (!cfg.get("bootstrap.servers"))
    return fail(error{errc::invalid_config,
                      "bootstrap.servers is not set (use -X bootstrap.servers=HOST:PORT or "
                      "EDDY_KAFKA_BOOTSTRAP_SERVERS)"});
  if (!cfg.get("group.id") && !cfg.get("consumer.group.id"))
    cfg.set("consumer.group.id", name);
  rt.credit_window = cfg.credit_window();
  rt.batch_max_records = std::min(cfg.batch_max_records(), cfg.credit_window());
  rt.commit_interval = cfg.commit_interval();
  rt.shutdown_timeout = cfg.shutdown_timeout();
  rt.on_stopping = [this] {
    auto failure = rt.failure.first();
    transition(service_state::stopping,
               failure ? "failing: " + failure->what() : std::string{"stop requested"});
  };
  rt.on_restoring = [this](bool restoring) {
    if (restoring)
      transition_unless_ending(service_state::restoring,
                               "restoring the state of assigned partitions");
    else
      transition_unless_ending(service_state::running, "serving its assigned partitions");
  };
  rt.exactly_once = cfg.guarantee() == processing_guarantee::exactly_once;
  // A read_committed fetch (librdkafka's default isolation) that finds nothing stable waits
  // fetch.wait.max.ms (500 ms by default) even after the transaction it waits for has
  // committed: on every hop of a pipeline that reads exactly_once outputs. Ask sooner.
  if (!cfg.get("fetch.wait.max.ms") && !cfg.get("consumer.fetch.wait.max.ms"))
    cfg.set("consumer.fetch.wait.max.ms", "25");
  std::optional<detail::instance_slot> slot;
  // A policy set in code wins; otherwise the settings pick a shipped one.
  rt.restore_skips_bad_events = cfg.restore_skips_bad_events();
  rt.on_decode_error = on_decode_error ? on_decode_error
                                       : processing_error_policy{error_policies::fixed{
                                         cfg.error_response_for(error_moment::decode)}};
  rt.on_handler_error = on_handler_error ? on_handler_error
                                         : processing_error_policy{error_policies::fixed{
                                           cfg.error_response_for(error_moment::handler)}};
  if (rt.exactly_once) {
    // One transactional producer per instance; consumers see committed records only.
    auto group = cfg.get("consumer.group.id").value_or(cfg.get("group.id").value_or(name));
    auto id = cfg.transactional_id();
    if (id.empty()) {
      // Stable per instance: a restarted instance fences its dead predecessor at once.
      auto claimed = detail::instance_slot::claim(cfg.state_dir() + "/" + name);
      if (!claimed)
        return fail(claimed.error_value());
      slot.emplace(std::move(*claimed));
      id = group + "-" + slot->stable_name();
    }
    logger().info("transactional.id service={} id={}", name, id);
    cfg.set("producer.transactional.id", id);
    if (!cfg.get("isolation.level") && !cfg.get("consumer.isolation.level"))
      cfg.set("consumer.isolation.level", "read_committed");
    // As Kafka Streams does: a crashed instance's open transaction blocks read_committed
    // readers until it times out, so keep that short.
    if (!cfg.get("transaction.timeout.ms") && !cfg.get("producer.transaction.timeout.ms"))
      cfg.set("producer.transaction.timeout.ms", "10000");
    auto timeout = cfg.get("producer.transaction.timeout.ms")
                     .value_or(cfg.get("transaction.timeout.ms").value_or("10000"));
    rt.transaction_timeout = std::chrono::milliseconds{std::stoll(timeout)};
  }

  auto producer_conf = internal::make_conf(cfg, client_kind::producer);
  if (!producer_conf)
    return fail(producer_conf.error_value());
  detail::sink out{**producer_conf};
  if (!out.producer())
    return fail(error{errc::invalid_config, "cannot create producer: " + out.creation_error()});
  out.handle_refusals({on_production_error
                         ? on_production_error
                         : production_error_policy{error_policies::permanent_only{
                           cfg.error_response_for(error_moment::production)}},
                       rt.dead_letter_topic, name, rt.exactly_once, &rt.counters});
  rt.out = &out;
  out.start();
  if (auto up = internal::wait_for_cluster(*out.producer(), cfg.startup_timeout()); !up)
    return fail(
      error{up.error_value().code, "bootstrap.servers=" + *cfg.get("bootstrap.servers") + ": "
                                     + up.error_value().message});
  if (rt.exactly_once)
    if (std::unique_ptr<RdKafka::Error> err{
          out.producer()->init_transactions(static_cast<int>(cfg.startup_timeout().count()))})
      return fail(error{errc::kafka_error, "init_transactions: " + err->str()});
  if (auto created = internal::ensure_topics(*out.producer(), needed, cfg.startup_timeout());
      !created)
    return fail(created.error_value());
  if (rt.journal)
    if (auto kept = detail::check_journal_history(
          cfg.check_journal_retention() ? out.producer() : nullptr, rt.journal->topic,
          journal_opts, cfg.startup_timeout());
        !kept)
      return fail(kept.error_value());
  std::vector<std::string> subscription;
  std::vector<std::string> consumed;
  for (auto& [topic, fn] : rt.handlers)
    consumed.push_back(topic);
  for (auto& [topic, table] : rt.local_tables)
    consumed.push_back(topic);
  for (auto& topic : consumed) {
    if (auto count = internal::partition_count(*out.producer(), topic, cfg.startup_timeout());
        !count)
      return fail(error{errc::topic_error, "consumed topic '" + topic + "' is not available: "
                                             + count.error_value().message
                                             + " (declare it with service::topic())"});
    subscription.push_back(topic);
  }

  auto consumer_conf = internal::make_conf(cfg, client_kind::consumer);
  if (!consumer_conf)
    return fail(consumer_conf.error_value());
  if (rt.stateful()) {
    // A key's inputs, state and table rows share a partition number on every topic.
    std::string reference = rt.journal ? rt.journal->topic : subscription.front();
    int expected_count = 0;
    if (rt.journal)
      expected_count = rt.journal->partitions;
    else if (auto count =
               internal::partition_count(*out.producer(), reference, cfg.startup_timeout()))
      expected_count = *count;
    for (auto& topic : subscription)
      if (auto count = internal::partition_count(*out.producer(), topic, cfg.startup_timeout());
          count && *count != expected_count)
        return fail(error{errc::topic_error,
                          "consumed topic '" + topic + "' has " + std::to_string(*count)
                            + " partitions but '" + reference + "' has "
                            + std::to_string(expected_count)
                            + ": a key's input and state must share a partition number"});
    for (auto& [topic, table] : rt.local_tables)
      if (table.partitions != expected_count)
        return fail(error{errc::invalid_config, "table '" + topic + "' is declared with "
                                                  + std::to_string(table.partitions)
                                                  + " partitions but '" + reference + "' has "
                                                  + std::to_string(expected_count)});
    // Only the range assignor gives one member the same partition number of every topic.
    if (subscription.size() > 1 && !cfg.get("partition.assignment.strategy")
        && !cfg.get("consumer.partition.assignment.strategy")) {
      std::string why;
      (*consumer_conf)->set("partition.assignment.strategy", "range", why);
    }
  }
  if (rt.stateful() || !rt.global_tables.empty()) {
    rt.state_dir = cfg.state_dir() + "/" + name;
    rt.make_restore_consumer = [this] {
      auto conf = internal::make_conf(cfg, client_kind::consumer);
      std::string reason;
      (*conf)->set("enable.partition.eof", "true", reason);
      auto consumer = internal::make_consumer(**conf);
      return std::move(consumer.value());
    };
  }
  if (rt.journal) {
    out.track_deliveries(
      rt.journal->topic, [this](std::int32_t partition, std::int64_t offset) {
        auto& next = rt.journal->delivered_next[static_cast<std::size_t>(partition)];
        auto value = next.load();
        while (value < offset + 1 && !next.compare_exchange_weak(value, offset + 1)) {
        }
      });
  }
  std::map<std::string, int> partition_counts;
  for (auto& topic : subscription)
    if (auto count = internal::partition_count(*out.producer(), topic, cfg.startup_timeout()))
      partition_counts[topic] = *count;
  std::optional<detail::global_table_reader> global_tables;
  std::map<std::string, int> global_counts;
  for (auto& [topic, table] : rt.global_tables) {
    auto count = internal::partition_count(*out.producer(), topic, cfg.startup_timeout());
    if (!count)
      return fail(
        error{errc::topic_error, "global table topic '" + topic
                                   + "' is not available: " + count.error_value().message});
    global_counts[topic] = partition_counts[topic] = *count;
  }
  if (auto started = start_http(partition_counts); !started)
    return fail(started.error_value());
  if (!rt.global_tables.empty()) {
    auto counts = std::move(global_counts);
    transition(service_state::restoring, "loading its global tables");
    global_tables.emplace(rt, rt.make_restore_consumer(), std::move(counts));
    if (auto loaded =
          global_tables->load(std::max(rt.shutdown_timeout, std::chrono::milliseconds{20000}));
        !loaded)
      return fail(loaded.error_value());
    global_tables->start();
  }
  detail::poll_loop src{rt};
  std::string reason;
  (*consumer_conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(&src), reason);
  if (cfg.http_listen()) {
    // Statistics feed /metrics the consumer lag per partition.
    if (!cfg.get("statistics.interval.ms") && !cfg.get("consumer.statistics.interval.ms"))
      (*consumer_conf)->set("statistics.interval.ms", "5000", reason);
    auto isolation = cfg.get("consumer.isolation.level")
                       .value_or(cfg.get("isolation.level").value_or("read_committed"));
    consumer_stats.set_read_committed(isolation == "read_committed");
    (*consumer_conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&consumer_stats), reason);
  }
  auto consumer = internal::make_consumer(**consumer_conf);
  if (!consumer)
    return fail(consumer.error_value());
  src.attach(consumer->get());
  if (auto err = (*consumer)->subscribe(subscription); err != RdKafka::ERR_NO_ERROR)
    return fail(error{errc::kafka_error, "subscribe: " + RdKafka::err2str(err)});

  expected<void> outcome;
  {
    caf::actor_system_config caf_cfg;
    caf_cfg.set("scheduler.max-threads", cfg.scheduler_threads());
    caf_cfg.set("logger.console", caf::atom("none"));
    // CAF's workers poll 100 times, then 500 times 50 us apart, before they sleep on a
    // condition variable that an enqueue signals. A service at moderate load never gets
    // that far: measured in the shop demo, six services spent a third of two cores in those
    // sleeps (100k context switches a second) and starved the broker; 20 polls keep bursts
    // fast without it.
    caf_cfg.set("work-stealing.moderate-poll-attempts",
                static_cast<std::size_t>(cfg.scheduler_idle_polls()));
#if defined(__SANITIZE_THREAD__)
    // TSan builds: the work-sharing scheduler hands jobs over under a mutex that TSan
    // sees; work stealing does it with spin locks inside the uninstrumented libcaf_core.
    caf_cfg.set("scheduler.policy", caf::atom("sharing"));
#endif
    caf::actor_system system{caf_cfg};
    transition(service_state::running, "serving its assigned partitions");
    {
      std::lock_guard<std::mutex> guard{publish_mtx};
      publishing = true;
    }
    auto poller = system.spawn([&](caf::blocking_actor* self) { outcome = src.run(self); });
    system.await_all_actors_done();
    (void)poller;
  }
  {
    std::lock_guard<std::mutex> guard{publish_mtx};
    publishing = false;
  }
  if (!out.flush(static_cast<int>(rt.shutdown_timeout.count())))
    logger().warn("stop: producer queue not empty after {} ms", rt.shutdown_timeout.count());
  rt.out = nullptr;
  // A policy's `fail` surfaces as a failed ticket; name the record, not the symptom.
  if (auto failed = rt.first_record_failure(); failed)
    return fail(*failed);
  if (!outcome)
    return fail(outcome.error_value());
  transition(service_state::stopped, "stopped on request, its work committed");
  return {};
}

} // namespace eddy
