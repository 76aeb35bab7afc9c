#include "partition_task.hpp"

#include <algorithm>
#include <chrono>
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

/// A view that `sink::produce` writes as a value: never null, even when empty.
std::string_view present(std::string_view value) {
  return value.data() != nullptr ? value : std::string_view{"", 0};
}

/// The context a handler sees: emits go to the sink, held by the current batch's ticket.
class task_context final : public context {
public:
  task_context(runtime* rt, std::shared_ptr<partition_state> state)
    : rt_(rt),
      state_(std::move(state)) {}

  void emit(const std::string& topic, std::string_view key, std::string_view value,
            const std::vector<header>& headers) override {
    rt_->out->produce(topic, key, present(value), headers, ticket_,
                      RdKafka::Topic::PARTITION_UA, output_origin{offset_});
    ++emitted_;
  }

  void emit_tombstone(const std::string& topic, std::string_view key,
                      const std::vector<header>& headers) override {
    rt_->out->produce(topic, key, std::string_view{}, headers, ticket_,
                      RdKafka::Topic::PARTITION_UA, output_origin{offset_});
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
    event.key_null = key.data() == nullptr;
    event.value = std::string{value};
    event.headers = headers;
    // Applied first: an event its applier rejects never reaches the journal.
    rt_->journal->apply(event, store);
    // Same partition as the input: the task that owns a key owns its state.
    rt_->out->produce(rt_->journal->topic, key, present(value), headers, ticket_, partition_,
                      output_origin{offset_});
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
    if (r.is_tombstone())
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

  /// Puts the failure of `r` at `moment` to its policy and carries out the answer.
  void on_error(error_moment moment, const record& r, std::string message) {
    bool decode = moment == error_moment::decode;
    (decode ? rt_->counters.decode_errors : rt_->counters.handler_errors).fetch_add(1);
    auto& policy = decode ? rt_->on_decode_error : rt_->on_handler_error;
    auto response = error_response::fail;
    try {
      response = policy(processing_error{moment, r, message});
    } catch (const std::exception& e) {
      message += std::string{" (and the error policy threw: "} + e.what() + ")";
    }
    logger().warn("{} error service={} topic={} partition={} offset={} response={} "
                  "error=\"{}\"",
                  to_string(moment), rt_->service_name, r.topic, r.partition, r.offset,
                  to_string(response), message);
    switch (response) {
    case error_response::dead_letter:
      rt_->counters.dead_letters.fetch_add(1);
      dead_letter(r, moment, message);
      return;
    case error_response::log_and_continue:
      rt_->counters.errors_skipped.fetch_add(1);
      return;
    case error_response::fail:
      failure_ = std::string{decode ? "record does not decode" : "handler failed"} + " at "
                 + r.topic + "[" + std::to_string(r.partition) + "]@" + std::to_string(r.offset)
                 + " (eddy.errors." + to_string(moment) + "=fail): " + message;
      rt_->fail_record(error{errc::record_failed, failure_});
      return;
    }
  }

  /// Sends `r` to the dead-letter topic with headers naming its source and `reason`.
  void dead_letter(const record& r, error_moment moment, const std::string& reason) {
    std::vector<header> headers = r.headers;
    headers.emplace_back("eddy.error", reason);
    headers.emplace_back("eddy.error.moment", to_string(moment));
    headers.emplace_back("eddy.source.topic", r.topic);
    headers.emplace_back("eddy.source.partition", std::to_string(r.partition));
    headers.emplace_back("eddy.source.offset", std::to_string(r.offset));
    headers.emplace_back("eddy.service", rt_->service_name);
    rt_->out->produce(rt_->dead_letter_topic, r.key_view(),
                      r.value_null ? std::string_view{} : std::string_view{r.value}, headers,
                      ticket_, RdKafka::Topic::PARTITION_UA, output_origin{r.offset, true});
    ++emitted_;
  }

  void begin(partition_progress::ticket* t, std::int32_t partition) {
    ticket_ = t;
    partition_ = partition;
    emitted_ = 0;
  }

  /// Marks `r` as the record being handled.
  void handling(const record& r) noexcept { offset_ = r.offset; }

  /// Why a policy stopped the task, or empty; once set, the task handles nothing more.
  const std::string& failure() const noexcept { return failure_; }

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
  std::int64_t offset_ = -1;
  std::int64_t emitted_ = 0;
  std::string failure_;
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
      auto& first = batch.records.front();
      if (progress->source().first.empty())
        progress->set_source(first.topic, first.partition);
      auto state_lock = ctx->lock_state();
      if (progress->retired())
        return; // an aborted transaction undid this work; a fresh task handles it again
      auto& generations = rt->out->batch_generations();
      auto generation = generations.begin_batch();
      auto* ticket = progress->open(batch.records.back().offset + 1,
                                    static_cast<std::int64_t>(batch.records.size()));
      ticket->generation = generation;
      ctx->begin(ticket, first.partition);
      std::int64_t handled = 0;
      auto call = [&](const record& r) {
        try {
          (*fn)(r, *ctx);
        } catch (const decode_error& e) {
          ctx->on_error(error_moment::decode, r, e.what());
        } catch (const std::exception& e) {
          ctx->on_error(error_moment::handler, r, e.what());
        } catch (...) {
          ctx->on_error(error_moment::handler, r, "unknown exception");
        }
      };
      if (rt->timing_handlers) {
        histogram::tally took{rt->handler_seconds};
        histogram::tally age{rt->record_age_seconds};
        // One wall-clock reading per batch; each record's handler start from the steady
        // clock read to time it.
        auto batch_began_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        auto batch_began = std::chrono::steady_clock::now();
        for (auto& r : batch.records) {
          if (!ctx->failure().empty())
            break;
          ctx->handling(r);
          ++handled;
          auto began = std::chrono::steady_clock::now();
          if (r.timestamp_ms >= 0) {
            auto now_ms =
              batch_began_ms
              + std::chrono::duration_cast<std::chrono::milliseconds>(began - batch_began)
                  .count();
            age.observe(static_cast<double>(std::max<std::int64_t>(now_ms - r.timestamp_ms, 0))
                        / 1000.0);
          }
          call(r);
          took.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        }
        rt->handler_seconds.add(took);
        rt->record_age_seconds.add(age);
      } else {
        for (auto& r : batch.records) {
          // After a `fail` nothing more is handled: the service stops at that record.
          if (!ctx->failure().empty())
            break;
          ctx->handling(r);
          ++handled;
          call(r);
        }
      }
      rt->counters.records_handled.fetch_add(handled);
      rt->counters.records_emitted.fetch_add(ctx->emitted());
      if (!ctx->failure().empty()) {
        // Never committed: the ticket blocks its partition's offset before this batch.
        partition_progress::release(ticket, ctx->failure());
        generations.end_batch(generation);
        return;
      }
      progress->mark_handled(ticket);
      partition_progress::release(ticket);
      generations.end_batch(generation);
    },
  };
}

} // namespace eddy::detail
