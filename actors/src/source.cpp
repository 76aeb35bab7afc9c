#include "source.hpp"

#include <cstdio>
#include <thread>

#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include <eddy/log.hpp>

#include "partition_task.hpp"

namespace eddy::detail {

namespace {

using clock = std::chrono::steady_clock;

using stop_atom = caf::atom_constant<caf::atom("stop")>;

/// Owns the TopicPartition objects of a list built for a librdkafka call.
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
};

} // namespace

expected<void> source::run(caf::blocking_actor* self) {
  self_ = self;
  if (rt_.exactly_once)
    begin_transaction();
  bool stopping = false;
  auto next_control = clock::now();
  auto next_commit = clock::now() + rt_.commit_interval;
  int consecutive_errors = 0;
  while (!stopping) {
    auto now = clock::now();
    if (now >= next_control) {
      // Control tick: mailbox, stop requests, latency flush, credit, periodic commit.
      self->receive(
        [&](stop_atom) { stopping = true; },
        [&](caf::exit_msg&) { stopping = true; },
        caf::others >> [](caf::message_view&) -> caf::result<caf::message> {
          return caf::sec::unexpected_message;
        },
        caf::after(std::chrono::milliseconds{0}) >> [] {});
      if (rt_.stop_requested.load() || signal_stop_requested.load() || failure())
        stopping = true;
      dispatch_all();
      apply_credit();
      if (now >= next_commit && now >= commit_hold_until_) {
        if (rt_.exactly_once) {
          commit_transaction(false);
        } else if (rt_.journal) {
          // A store may only record what the journal holds: wait for the deliveries.
          dispatch_all();
          drain(all_partitions());
          commit_states();
          commit_all(false);
        } else {
          commit_all(false);
        }
        next_commit = now + rt_.commit_interval;
      }
      next_control = now + std::chrono::milliseconds{5};
      if (stopping)
        break;
    }
    std::unique_ptr<RdKafka::Message> message{consumer_->consume(pending_records_ > 0 ? 0 : 20)};
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        consecutive_errors = 0;
        if (auto* p = lookup(*message))
          append(*p, *message);
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        dispatch_all();
        break;
      default:
        if (++consecutive_errors <= 5 || consecutive_errors % 1000 == 0)
          logger().warn("consume error service={} error=\"{}\"", rt_.service_name,
                        message->errstr());
        break;
    }
  }
  logger().info("stopping service={} reason=\"{}\"", rt_.service_name,
                failure() ? failure()->what() : "stop requested");
  if (rt_.on_stopping)
    rt_.on_stopping();
  dispatch_all();
  auto everything = all_partitions();
  for (auto* p : everything)
    set_paused(*p, true);
  if (!drain(everything))
    logger().warn("stop: in-flight records not finished within {} ms service={}",
                  rt_.shutdown_timeout.count(), rt_.service_name);
  if (rt_.exactly_once) {
    commit_transaction(true);
  } else {
    rt_.out->flush(static_cast<int>(rt_.shutdown_timeout.count()));
    commit_states();
    commit_all(true);
  }
  // close() revokes the remaining partitions through rebalance_cb, which stops the tasks.
  consumer_->close();
  for (auto& [key, p] : partitions_)
    caf::anon_send_exit(p.task, caf::exit_reason::user_shutdown);
  partitions_.clear();
  index_.clear();
  states_.clear();
  if (auto* reason = failure())
    return *reason;
  return {};
}

const error* source::failure() {
  if (!failure_) {
    // A fenced producer fails its deliveries first; name the cause, not the symptom.
    std::string reason;
    auto fatal = rt_.out->producer()->fatal_error(reason);
    if (fatal == RdKafka::ERR__FENCED || fatal == RdKafka::ERR_PRODUCER_FENCED
        || fatal == RdKafka::ERR_INVALID_PRODUCER_EPOCH)
      failure_ = error{errc::fenced, "another instance took over transactional.id: " + reason};
    else if (fatal != RdKafka::ERR_NO_ERROR)
      failure_ = error{errc::kafka_error, "fatal producer error: " + reason};
  }
  if (!failure_)
    for (auto& [key, p] : partitions_)
      if (p.progress->failed()) {
        failure_ = error{errc::delivery_failed, key.first + "[" + std::to_string(key.second)
                                                  + "]: " + p.progress->failure_reason()};
        break;
      }
  return failure_ ? &*failure_ : nullptr;
}

void source::begin_transaction() {
  if (failure_ || closing_)
    return;
  if (std::unique_ptr<RdKafka::Error> err{rt_.out->producer()->begin_transaction()})
    fail_transaction("begin_transaction", *err);
  else
    transaction_open_ = true;
}

void source::fail_transaction(const char* step, RdKafka::Error& err) {
  auto code = err.code() == RdKafka::ERR__FENCED || err.code() == RdKafka::ERR_PRODUCER_FENCED
                  || err.code() == RdKafka::ERR_INVALID_PRODUCER_EPOCH
                ? errc::fenced
                : errc::commit_failed;
  if (!failure_)
    failure_ = error{code, std::string{step} + ": " + err.str()};
  logger().error("transaction failed service={} step={} error=\"{}\" fatal={}",
                 rt_.service_name, step, err.str(), err.is_fatal());
}

void source::commit_transaction(bool closing) {
  closing_ = closing_ || closing;
  if (!transaction_open_)
    return;
  if (failure_ && failure_->code != errc::delivery_failed)
    return; // the producer is unusable (fenced or fatal): nothing can commit any more
  // A transaction must hold whole batches: let the tasks handle everything handed out,
  // then commit the outputs (commit_transaction flushes them) and the input offsets.
  dispatch_all();
  auto everything = all_partitions();
  drain_handled(everything);
  auto* producer = rt_.out->producer();
  std::unique_ptr<RdKafka::Error> err;
  if (!failure()) {
    partition_list offsets;
    for (auto* p : everything)
      if (auto offset = p->progress->handled(); offset > p->committed)
        offsets.items.push_back(RdKafka::TopicPartition::create(p->topic, p->partition, offset));
    if (!offsets.items.empty()) {
      std::unique_ptr<RdKafka::ConsumerGroupMetadata> group{consumer_->groupMetadata()};
      err.reset(producer->send_offsets_to_transaction(
        offsets.items, group.get(), static_cast<int>(rt_.shutdown_timeout.count())));
    }
    for (int attempt = 0; !err && attempt < 3; ++attempt) {
      err.reset(producer->commit_transaction(static_cast<int>(rt_.shutdown_timeout.count())));
      if (!err) {
        transaction_open_ = false;
        for (auto* p : everything) {
          p->committed = std::max(p->committed, p->progress->handled());
          p->transaction_start = -1;
        }
        if (rt_.journal) {
          // The SQLite transaction commits only after the Kafka one.
          drain(everything);
          commit_states();
        }
        rt_.counters.commits.fetch_add(1);
        begin_transaction();
        return;
      }
      if (!err->is_retriable() || err->txn_requires_abort())
        break;
      err.reset();
    }
  }
  if (err && (err->is_fatal() || !err->txn_requires_abort())) {
    fail_transaction("commit_transaction", *err);
    return;
  }
  if (err)
    logger().warn("transaction aborted service={} error=\"{}\"", rt_.service_name, err->str());
  abort_and_rewind();
  begin_transaction();
}

void source::abort_and_rewind() {
  if (!transaction_open_)
    return;
  auto* producer = rt_.out->producer();
  transaction_open_ = false;
  if (std::unique_ptr<RdKafka::Error> err{producer->abort_transaction(-1)}) {
    fail_transaction("abort_transaction", *err);
    return;
  }
  // The aborted outputs never happened: forget their effects on state and hand the same
  // records to the tasks again.
  rollback_states();
  for (auto* p : all_partitions()) {
    if (p->transaction_start < 0)
      continue;
    std::unique_ptr<RdKafka::TopicPartition> position{
      RdKafka::TopicPartition::create(p->topic, p->partition, p->transaction_start)};
    if (auto err = consumer_->seek(*position, 5000); err != RdKafka::ERR_NO_ERROR)
      logger().error("rewind failed topic={} partition={} error=\"{}\"", p->topic, p->partition,
                     RdKafka::err2str(err));
    p->progress->rewind(p->committed);
    p->transaction_start = -1;
    p->dispatched_next = -1;
  }
  index_.clear();
}

source::assigned_partition* source::lookup(RdKafka::Message& message) {
  auto* raw = message.c_ptr();
  auto index_key = std::make_pair(static_cast<const void*>(raw->rkt), raw->partition);
  if (auto i = index_.find(index_key); i != index_.end())
    return i->second;
  auto i = partitions_.find({message.topic_name(), message.partition()});
  if (i == partitions_.end())
    return nullptr; // a late record of a partition revoked meanwhile
  index_.emplace(index_key, &i->second);
  return &i->second;
}

void source::append(assigned_partition& p, RdKafka::Message& message) {
  auto* raw = message.c_ptr();
  record r;
  r.topic = p.topic;
  r.partition = p.partition;
  r.offset = raw->offset;
  r.timestamp_ms = message.timestamp().timestamp;
  if (raw->key)
    r.key.assign(static_cast<const char*>(raw->key), raw->key_len);
  if (raw->payload)
    r.value.assign(static_cast<const char*>(raw->payload), raw->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(raw, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size)
                       == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i)
      r.headers.emplace_back(name, value ? std::string{static_cast<const char*>(value), size}
                                         : std::string{});
  }
  p.pending.push_back(std::move(r));
  ++pending_records_;
  if (static_cast<std::int64_t>(p.pending.size()) >= rt_.batch_max_records)
    dispatch(p);
}

void source::dispatch(assigned_partition& p) {
  if (p.pending.empty())
    return;
  auto n = static_cast<std::int64_t>(p.pending.size());
  pending_records_ -= p.pending.size();
  if (p.transaction_start < 0)
    p.transaction_start = p.pending.front().offset;
  p.dispatched_next = p.pending.back().offset + 1;
  p.progress->add_in_flight(n);
  self_->send(p.task, record_batch{std::move(p.pending)});
  p.pending = {};
  p.pending.reserve(static_cast<std::size_t>(std::min<std::int64_t>(rt_.batch_max_records, 1024)));
  if (!p.paused && p.progress->in_flight() >= rt_.credit_window)
    set_paused(p, true);
}

void source::dispatch_all() {
  if (pending_records_ == 0)
    return;
  for (auto& [key, p] : partitions_)
    dispatch(p);
}

void source::apply_credit() {
  // Resume at half the window so a partition does not flap between paused and running.
  for (auto& [key, p] : partitions_)
    if (p.paused && p.progress->in_flight() <= rt_.credit_window / 2)
      set_paused(p, false);
}

void source::set_paused(assigned_partition& p, bool paused) {
  if (p.paused == paused)
    return;
  partition_list list;
  list.items.push_back(RdKafka::TopicPartition::create(p.topic, p.partition));
  auto err = paused ? consumer_->pause(list.items) : consumer_->resume(list.items);
  if (err != RdKafka::ERR_NO_ERROR) {
    logger().warn("{} failed topic={} partition={} error=\"{}\"", paused ? "pause" : "resume",
                  p.topic, p.partition, RdKafka::err2str(err));
    return;
  }
  p.paused = paused;
  rt_.counters.paused_partitions.fetch_add(paused ? 1 : -1);
  if (paused)
    rt_.counters.pauses.fetch_add(1);
}

void source::commit(const std::vector<assigned_partition*>& which, bool sync) {
  partition_list list;
  std::vector<std::pair<assigned_partition*, std::int64_t>> advanced;
  for (auto* p : which) {
    auto offset = p->progress->committable();
    if (offset > p->committed) {
      list.items.push_back(RdKafka::TopicPartition::create(p->topic, p->partition, offset));
      advanced.emplace_back(p, offset);
    }
  }
  if (list.items.empty())
    return;
  auto err = sync ? consumer_->commitSync(list.items) : consumer_->commitAsync(list.items);
  if (err != RdKafka::ERR_NO_ERROR) {
    logger().warn("commit failed service={} error=\"{}\"", rt_.service_name, RdKafka::err2str(err));
    return;
  }
  for (auto& [p, offset] : advanced)
    p->committed = offset;
  rt_.counters.commits.fetch_add(1);
}

void source::commit_all(bool sync) {
  commit(all_partitions(), sync);
}

bool source::wait_until_idle(const std::vector<assigned_partition*>& which,
                             bool (*busy)(const assigned_partition&)) {
  auto deadline = clock::now() + rt_.shutdown_timeout;
  while (true) {
    bool idle = true;
    for (auto* p : which)
      if (busy(*p) && !p->progress->failed())
        idle = false;
    if (idle)
      return true;
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
}

bool source::drain(const std::vector<assigned_partition*>& which) {
  return wait_until_idle(which, [](const assigned_partition& p) {
    return p.progress->in_flight() > 0;
  });
}

bool source::drain_handled(const std::vector<assigned_partition*>& which) {
  return wait_until_idle(which, [](const assigned_partition& p) {
    return p.progress->handled() < p.dispatched_next;
  });
}

std::vector<source::assigned_partition*> source::all_partitions() {
  std::vector<assigned_partition*> result;
  for (auto& [key, p] : partitions_)
    result.push_back(&p);
  return result;
}

void source::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                          std::vector<RdKafka::TopicPartition*>& partitions) {
  bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
  // A revocation, or an assignment that brings nothing, means another join round is
  // likely on its way; an assignment with partitions usually closes the rebalance.
  if (cooperative)
    commit_hold_until_ = err == RdKafka::ERR__ASSIGN_PARTITIONS && !partitions.empty()
                           ? clock::now()
                           : clock::now() + std::chrono::seconds{6};
  RdKafka::Error* failure = nullptr;
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    on_assign(partitions);
    if (cooperative)
      failure = consumer->incremental_assign(partitions);
    else
      consumer->assign(partitions);
    // librdkafka keeps a partition's pause state across revoke and reassign: clear it.
    consumer->resume(partitions);
  } else {
    on_revoke(partitions);
    if (cooperative)
      failure = consumer->incremental_unassign(partitions);
    else
      consumer->unassign();
  }
  if (failure) {
    logger().error("rebalance failed service={} error=\"{}\"", rt_.service_name, failure->str());
    delete failure;
  }
}

void source::on_assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  for (auto* tp : partitions) {
    auto handler_it = rt_.handlers.find(tp->topic());
    if (handler_it == rt_.handlers.end())
      continue;
    std::shared_ptr<partition_state> state;
    if (rt_.journal) {
      auto& slot = states_[tp->partition()];
      if (!slot)
        slot = restore(tp->partition());
      state = slot;
    }
    assigned_partition p;
    p.topic = tp->topic();
    p.partition = tp->partition();
    p.progress = std::make_shared<partition_progress>();
    p.task = self_->spawn(partition_task, &rt_, p.progress, &handler_it->second, state);
    partitions_.emplace(partition_key{p.topic, p.partition}, std::move(p));
  }
  index_.clear();
  rt_.counters.assigned_partitions.store(static_cast<std::int64_t>(partitions_.size()));
  logger().info("partitions assigned service={} count={} total={}", rt_.service_name,
                partitions.size(), partitions_.size());
}

void source::on_revoke(std::vector<RdKafka::TopicPartition*>& partitions) {
  bool lost = consumer_->assignment_lost();
  std::vector<assigned_partition*> revoked;
  for (auto* tp : partitions)
    if (auto i = partitions_.find({tp->topic(), tp->partition()}); i != partitions_.end())
      revoked.push_back(&i->second);
  for (auto* p : revoked)
    dispatch(*p);
  if (rt_.exactly_once) {
    // Outputs of lost partitions must not commit; otherwise hand over a committed state.
    if (lost) {
      drain(all_partitions());
      abort_and_rewind();
      begin_transaction();
    } else {
      commit_transaction(false);
    }
  } else if (!lost) {
    // Finish what the tasks hold, then commit it, so the next owner starts right after.
    if (!drain(revoked))
      logger().warn("revoke: in-flight records not finished within {} ms service={}",
                    rt_.shutdown_timeout.count(), rt_.service_name);
    commit_states();
    commit(revoked, true);
  }
  for (auto* p : revoked) {
    if (p->paused)
      rt_.counters.paused_partitions.fetch_sub(1);
    caf::anon_send_exit(p->task, caf::exit_reason::user_shutdown);
    partitions_.erase({p->topic, p->partition});
  }
  index_.clear();
  release_states();
  rt_.counters.assigned_partitions.store(static_cast<std::int64_t>(partitions_.size()));
  logger().info("partitions revoked service={} count={} lost={} total={}", rt_.service_name,
                partitions.size(), lost, partitions_.size());
}

void source::print_restore_progress(std::int32_t partition, std::int64_t done,
                                    std::int64_t total, clock::duration elapsed, bool last) {
  constexpr int width = 30;
  auto fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  auto filled = static_cast<int>(fraction * width);
  auto seconds = std::max(std::chrono::duration<double>(elapsed).count(), 1e-6);
  std::fprintf(stderr, "\rrestoring %s[%d] [%s%s] %lld/%lld events, %.0f events/s%s",
               rt_.journal->topic.c_str(), partition, std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), static_cast<long long>(done),
               static_cast<long long>(total), static_cast<double>(done) / seconds,
               last ? "\n" : "");
  std::fflush(stderr);
}

std::shared_ptr<partition_state> source::restore(std::int32_t partition) {
  auto& journal = *rt_.journal;
  auto path = rt_.state_dir + "/" + journal.topic + "-" + std::to_string(partition) + ".db";
  auto opened = state_store::open(path);
  if (!opened) {
    failure_ = opened.error_value();
    return nullptr;
  }
  auto state = std::make_shared<partition_state>(std::move(*opened));
  auto& store = state->store;
  if (store.recovered_from_corruption())
    logger().warn("state store rebuilt from offset 0 path={}", path);
  auto consumer = rt_.make_restore_consumer();
  std::int64_t low = 0, high = 0;
  consumer->query_watermark_offsets(journal.topic, partition, &low, &high, 10000);
  // Never trust a store past its checkpoint: replay everything after it.
  auto next = std::max(store.checkpoint(journal.topic, partition).value_or(0), low);
  auto started = clock::now();
  auto total = std::max<std::int64_t>(high - next, 0);
  std::int64_t replayed = 0;
  if (next < high) {
    logger().info("restoring service={} journal={} partition={} from={} to={}", rt_.service_name,
                  journal.topic, partition, next, high);
    if (rt_.on_restoring)
      rt_.on_restoring(true);
    bool terminal = ::isatty(STDERR_FILENO) != 0;
    std::vector<RdKafka::TopicPartition*> start{
      RdKafka::TopicPartition::create(journal.topic, partition, next)};
    consumer->assign(start);
    RdKafka::TopicPartition::destroy(start);
    auto last_report = clock::now();
    auto last_progress = clock::now();
    while (clock::now() - last_progress < rt_.shutdown_timeout) {
      std::unique_ptr<RdKafka::Message> m{consumer->consume(200)};
      if (m->err() == RdKafka::ERR__PARTITION_EOF)
        break;
      if (m->err() != RdKafka::ERR_NO_ERROR)
        continue;
      last_progress = clock::now();
      record event;
      event.topic = journal.topic;
      event.partition = partition;
      event.offset = m->offset();
      if (m->key())
        event.key = *m->key();
      event.value.assign(static_cast<const char*>(m->payload()), m->len());
      journal.apply(event, store);
      next = m->offset() + 1;
      if (++replayed % 10000 == 0) {
        store.set_checkpoint(journal.topic, partition, next);
        if (auto saved = store.commit(); !saved)
          failure_ = saved.error_value();
      }
      if (next >= high)
        break; // without transaction markers the end is known; with them, EOF says it
      if (terminal && clock::now() - last_report > std::chrono::milliseconds{200}) {
        print_restore_progress(partition, replayed, total, clock::now() - started);
        last_report = clock::now();
      } else if (clock::now() - last_report > std::chrono::seconds{1}) {
        logger().info("restoring service={} partition={} done={}/{}", rt_.service_name, partition,
                      replayed, total);
        last_report = clock::now();
      }
    }
    if (terminal)
      print_restore_progress(partition, replayed, total, clock::now() - started, true);
    consumer->unassign();
    if (rt_.on_restoring)
      rt_.on_restoring(false);
  }
  rt_.counters.events_restored.fetch_add(replayed);
  store.set_checkpoint(journal.topic, partition, next);
  if (auto saved = store.commit(); !saved)
    failure_ = saved.error_value();
  journal.delivered_next[partition].store(next);
  auto seconds = std::chrono::duration<double>(clock::now() - started).count();
  logger().info("restored service={} journal={} partition={} events={} seconds={:.2f}",
                rt_.service_name, journal.topic, partition, replayed, seconds);
  consumer->close();
  return state;
}

void source::commit_states() {
  if (!rt_.journal)
    return;
  for (auto& [partition, state] : states_) {
    std::lock_guard<std::mutex> guard{state->mtx};
    auto next = rt_.journal->delivered_next[partition].load();
    if (next >= 0)
      state->store.set_checkpoint(rt_.journal->topic, partition, next);
    if (auto saved = state->store.commit(); !saved && !failure_)
      failure_ = saved.error_value();
  }
}

void source::rollback_states() {
  for (auto& [partition, state] : states_) {
    std::lock_guard<std::mutex> guard{state->mtx};
    state->store.rollback();
  }
}

void source::release_states() {
  for (auto i = states_.begin(); i != states_.end();) {
    bool used = false;
    for (auto& [key, p] : partitions_)
      used = used || p.partition == i->first;
    i = used ? std::next(i) : states_.erase(i);
  }
}

} // namespace eddy::detail
