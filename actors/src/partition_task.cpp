#include "partition_task.hpp"

#include <exception>
#include <mutex>
#include <stdexcept>

#include <eddy/log.hpp>

namespace eddy::detail {

namespace {

/// Skipped records logged one by one before the log is thinned out.
constexpr std::int64_t skip_log_first = 10;

/// After the first ones, every how many skipped records one is logged.
constexpr std::int64_t skip_log_every = 1000;

/// The context a handler sees: emits go to the sink, held by the current batch's ticket.
class task_context final : public context {
public:
  task_context(runtime* rt, std::shared_ptr<partition_state> state)
    : rt_(rt), state_(std::move(state)) {}

  void emit(const std::string& topic, std::string_view key, std::string_view value,
            const std::vector<header>& headers) override {
    rt_->out->produce(topic, key, value, headers, ticket_);
    ++emitted_;
  }

  const std::string& service_name() const noexcept override { return rt_->service_name; }

  state_view state() override {
    if (!state_)
      throw std::logic_error{"service '" + rt_->service_name + "' declares no journal"};
    return state_->store;
  }

  void emit_event(std::string_view key, std::string_view value,
                  const std::vector<header>& headers) override {
    auto store = state(); // throws without a journal
    record event;
    event.topic = rt_->journal->topic;
    event.partition = partition_;
    event.key = std::string{key};
    event.value = std::string{value};
    event.headers = headers;
    // Applied first: an event its applier rejects never reaches the journal.
    rt_->journal->apply(event, store);
    // Same partition as the input: the task that owns a key owns its state.
    rt_->out->produce(rt_->journal->topic, key, value, headers, ticket_, partition_);
    ++emitted_;
  }

  std::optional<std::string> lookup(const std::string& topic, const std::string& key) override {
    if (rt_->local_tables.count(topic) != 0) {
      if (!state_)
        throw std::logic_error{"local table '" + topic + "' read outside a partition"};
      return state_->store.get(table_row_key(topic, key));
    }
    if (auto i = rt_->global_tables.find(topic); i != rt_->global_tables.end()) {
      std::lock_guard<std::mutex> guard{i->second->mtx};
      return i->second->store->get(key);
    }
    throw std::logic_error{"service '" + rt_->service_name + "' declares no table for topic '"
                           + topic + "'"};
  }

  void skipped(const record& input, std::string_view reason) override {
    auto n = rt_->counters.records_skipped.fetch_add(1) + 1;
    // The first few of a burst say what is wrong; after that, one line in a thousand.
    if (n <= skip_log_first || n % skip_log_every == 0)
      logger().warn("record skipped service={} topic={} partition={} offset={} reason=\"{}\" "
                    "skipped_total={}",
                    rt_->service_name, input.topic, input.partition, input.offset, reason, n);
  }

  void repartition(const std::string& name, std::string_view key, std::string_view value,
                   const std::vector<header>& headers) override {
    auto i = rt_->repartitions.find(name);
    if (i == rt_->repartitions.end())
      throw std::logic_error{"service '" + rt_->service_name
                             + "' declares no repartition step named '" + name + "'"};
    emit(i->second, key, value, headers);
  }

  /// Applies a record of a local table to the partition's store.
  void apply_table_record(const record& r, const local_table_spec& table) {
    auto row = table_row_key(r.topic, r.key);
    if (r.value.empty())
      state_->store.erase(row);
    else
      state_->store.put(row, r.value);
    state_->store.set_checkpoint(r.topic, r.partition, r.offset + 1);
    if (!table.on_change)
      return;
    try {
      table.on_change(r);
    } catch (const std::exception& e) {
      logger().warn("table listener failed service={} table={} error=\"{}\"", rt_->service_name,
                    r.topic, e.what());
    }
  }

  /// Sends `r` to the dead-letter topic with headers naming its source and `reason`.
  void dead_letter(const record& r, const std::string& reason) {
    std::vector<header> headers = r.headers;
    headers.emplace_back("eddy.error", reason);
    headers.emplace_back("eddy.source.topic", r.topic);
    headers.emplace_back("eddy.source.partition", std::to_string(r.partition));
    headers.emplace_back("eddy.source.offset", std::to_string(r.offset));
    headers.emplace_back("eddy.service", rt_->service_name);
    emit(rt_->dead_letter_topic, r.key, r.value, headers);
  }

  void begin(partition_progress::ticket* t, std::int32_t partition) {
    ticket_ = t;
    partition_ = partition;
    emitted_ = 0;
  }

  /// Locks the partition's state for a batch (tasks of other topics may share it).
  std::unique_lock<std::mutex> lock_state() {
    return state_ ? std::unique_lock<std::mutex>{state_->mtx} : std::unique_lock<std::mutex>{};
  }

  std::int64_t emitted() const noexcept { return emitted_; }

private:
  runtime* rt_;
  std::shared_ptr<partition_state> state_;
  partition_progress::ticket* ticket_ = nullptr;
  std::int32_t partition_ = -1;
  std::int64_t emitted_ = 0;
};

} // namespace

caf::behavior partition_task(caf::event_based_actor*, runtime* rt,
                             std::shared_ptr<partition_progress> progress, const handler* fn,
                             std::shared_ptr<partition_state> state,
                             const local_table_spec* table) {
  auto ctx = std::make_shared<task_context>(rt, std::move(state));
  if (table != nullptr)
    return {
      [rt, progress, table, ctx](record_batch& batch) {
        if (batch.records.empty())
          return;
        {
          auto state_lock = ctx->lock_state();
          if (progress->retired())
            return; // an aborted transaction undid this work; a fresh task does it again
          for (auto& r : batch.records)
            ctx->apply_table_record(r, *table);
        }
        auto* ticket = progress->open(batch.records.back().offset + 1,
                                      static_cast<std::int64_t>(batch.records.size()));
        rt->counters.records_handled.fetch_add(static_cast<std::int64_t>(batch.records.size()));
        progress->mark_handled(ticket);
        partition_progress::release(ticket);
      },
    };
  return {
    [rt, progress, fn, ctx](record_batch& batch) {
      if (batch.records.empty())
        return;
      auto state_lock = ctx->lock_state();
      if (progress->retired())
        return; // an aborted transaction undid this work; a fresh task handles it again
      auto& generations = rt->out->batch_generations();
      auto generation = generations.begin_batch();
      auto* ticket = progress->open(batch.records.back().offset + 1,
                                    static_cast<std::int64_t>(batch.records.size()));
      ticket->generation = generation;
      ctx->begin(ticket, batch.records.front().partition);
      std::int64_t errors = 0;
      for (auto& r : batch.records) {
        try {
          (*fn)(r, *ctx);
        } catch (const std::exception& e) {
          ++errors;
          logger().warn("handler failed service={} topic={} partition={} offset={} error=\"{}\"",
                        rt->service_name, r.topic, r.partition, r.offset, e.what());
          ctx->dead_letter(r, e.what());
        } catch (...) {
          ++errors;
          logger().warn("handler failed service={} topic={} partition={} offset={} error=unknown",
                        rt->service_name, r.topic, r.partition, r.offset);
          ctx->dead_letter(r, "unknown exception");
        }
      }
      rt->counters.records_handled.fetch_add(static_cast<std::int64_t>(batch.records.size()));
      rt->counters.records_emitted.fetch_add(ctx->emitted());
      if (errors > 0)
        rt->counters.handler_errors.fetch_add(errors);
      progress->mark_handled(ticket);
      partition_progress::release(ticket);
      generations.end_batch(generation);
    },
  };
}

} // namespace eddy::detail
