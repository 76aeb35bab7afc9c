#include "source.hpp"

#include <algorithm>
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

/// Appends the headers of `raw` to `out`, in the order they were written.
void append_headers(rd_kafka_message_t* raw, std::vector<header>& out) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(raw, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i)
    out.emplace_back(name, value ? std::string{static_cast<const char*>(value), size}
                                 : std::string{});
}

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
      if (requery_at_ != clock::time_point{} && now >= requery_at_)
        requery_offsets();
      if (now >= next_commit && now >= commit_hold_until_) {
        if (rt_.exactly_once) {
          commit_transaction(false);
        } else if (rt_.stateful()) {
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
        // librdkafka leaves partitions unfetched forever when the committed-offset query
        // hits a stale coordinator (confluentinc/librdkafka#5586): ask again shortly.
        if (message->err() == RdKafka::ERR_NOT_COORDINATOR && requery_at_ == clock::time_point{})
          requery_at_ = clock::now() + std::chrono::milliseconds{500};
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
  {
    std::lock_guard<std::mutex> guard{rt_.states_mtx};
    rt_.states.clear();
    rt_.assigned_numbers.clear();
  }
  if (auto* reason = failure())
    return *reason;
  return {};
}

void source::requery_offsets() {
  requery_at_ = {};
  // Partitions without a position never got their committed offset; assigning them again
  // makes librdkafka query it again.
  partition_list stuck;
  for (auto& [key, p] : partitions_) {
    std::vector<RdKafka::TopicPartition*> where{
      RdKafka::TopicPartition::create(p.topic, p.partition)};
    consumer_->position(where);
    bool positioned = where[0]->offset() >= 0;
    RdKafka::TopicPartition::destroy(where);
    if (!positioned && p.dispatched_next < 0 && p.pending.empty())
      stuck.items.push_back(RdKafka::TopicPartition::create(p.topic, p.partition));
  }
  if (stuck.items.empty())
    return;
  logger().warn("re-querying committed offsets service={} partitions={}", rt_.service_name,
                stuck.items.size());
  if (consumer_->rebalance_protocol() == "COOPERATIVE") {
    if (std::unique_ptr<RdKafka::Error> err{consumer_->incremental_unassign(stuck.items)}) {
      logger().warn("re-query unassign failed error=\"{}\"", err->str());
      return;
    }
    if (std::unique_ptr<RdKafka::Error> err{consumer_->incremental_assign(stuck.items)})
      logger().warn("re-query assign failed error=\"{}\"", err->str());
  } else {
    // An eager assign replaces the whole assignment: keep every other partition's position.
    std::vector<RdKafka::TopicPartition*> current;
    consumer_->assignment(current);
    consumer_->position(current);
    consumer_->assign(current);
    RdKafka::TopicPartition::destroy(current);
  }
  for (auto* tp : stuck.items)
    if (auto i = partitions_.find({tp->topic(), tp->partition()}); i != partitions_.end())
      i->second.paused = false;
  consumer_->resume(stuck.items);
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
  if (rt_.journal && !rt_.journal->snapshot_topic.empty() && !failure()) {
    // The transaction's own snapshot rows, at the journal offsets its events got.
    drain(everything);
    write_snapshots();
  }
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
        if (rt_.stateful()) {
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
  r.key_null = raw->key == nullptr;
  if (raw->key)
    r.key.assign(static_cast<const char*>(raw->key), raw->key_len);
  r.value_null = raw->payload == nullptr;
  if (raw->payload)
    r.value.assign(static_cast<const char*>(raw->payload), raw->len);
  append_headers(raw, r.headers);
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
  if (rt_.stateful()) {
    // Restore every newly assigned partition number at once, before any of its inputs.
    std::vector<std::int32_t> fresh;
    for (auto* tp : partitions)
      if ((rt_.handlers.count(tp->topic()) != 0 || rt_.local_tables.count(tp->topic()) != 0)
          && states_.count(tp->partition()) == 0
          && std::find(fresh.begin(), fresh.end(), tp->partition()) == fresh.end())
        fresh.push_back(tp->partition());
    if (!fresh.empty())
      restore(fresh);
  }
  for (auto* tp : partitions) {
    auto table_it = rt_.local_tables.find(tp->topic());
    const local_table_spec* table = table_it != rt_.local_tables.end() ? &table_it->second
                                                                       : nullptr;
    auto handler_it = rt_.handlers.find(tp->topic());
    if (table == nullptr && handler_it == rt_.handlers.end())
      continue;
    std::shared_ptr<partition_state> state;
    if (rt_.stateful())
      if (auto i = states_.find(tp->partition()); i != states_.end())
        state = i->second;
    if (table != nullptr && state) {
      // The store holds the table up to its checkpoint: read on from there.
      auto next = state->store.checkpoint(tp->topic(), tp->partition());
      tp->set_offset(next ? *next : RdKafka::Topic::OFFSET_BEGINNING);
    }
    assigned_partition p;
    p.topic = tp->topic();
    p.partition = tp->partition();
    p.progress = std::make_shared<partition_progress>();
    p.task = self_->spawn(partition_task, &rt_, p.progress,
                          table != nullptr ? nullptr : &handler_it->second, state, table);
    {
      std::lock_guard<std::mutex> guard{rt_.states_mtx};
      ++rt_.assigned_numbers[p.partition];
    }
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
    {
      std::lock_guard<std::mutex> guard{rt_.states_mtx};
      if (--rt_.assigned_numbers[p->partition] <= 0)
        rt_.assigned_numbers.erase(p->partition);
    }
    partitions_.erase({p->topic, p->partition});
  }
  index_.clear();
  release_states();
  rt_.counters.assigned_partitions.store(static_cast<std::int64_t>(partitions_.size()));
  logger().info("partitions revoked service={} count={} lost={} total={}", rt_.service_name,
                partitions.size(), lost, partitions_.size());
}

void source::print_restore_progress(std::int64_t done, std::int64_t total,
                                    clock::duration elapsed, bool last) {
  constexpr int width = 30;
  auto fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  auto filled = std::min(static_cast<int>(fraction * width), width);
  auto seconds = std::max(std::chrono::duration<double>(elapsed).count(), 1e-6);
  std::fprintf(stderr, "\rrestoring %s [%s%s] %lld/%lld records, %.0f records/s%s",
               rt_.service_name.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), static_cast<long long>(done),
               static_cast<long long>(total), static_cast<double>(done) / seconds,
               last ? "\n" : "");
  std::fflush(stderr);
}

void source::replay(RdKafka::KafkaConsumer& consumer, std::vector<replay_job>& jobs) {
  auto started = clock::now();
  std::int64_t total = 0;
  std::vector<RdKafka::TopicPartition*> start;
  std::map<std::pair<std::string, std::int32_t>, replay_job*> by_partition;
  std::size_t open = 0;
  for (auto& job : jobs) {
    if (job.next >= job.high) {
      job.done = true;
      continue;
    }
    logger().info("restoring service={} topic={} partition={} from={} to={}", rt_.service_name,
                  job.topic, job.partition, job.next, job.high);
    total += job.high - job.next;
    start.push_back(RdKafka::TopicPartition::create(job.topic, job.partition, job.next));
    by_partition[{job.topic, job.partition}] = &job;
    ++open;
  }
  if (open == 0) {
    RdKafka::TopicPartition::destroy(start);
    return;
  }
  if (rt_.on_restoring)
    rt_.on_restoring(true);
  consumer.assign(start);
  RdKafka::TopicPartition::destroy(start);
  bool terminal = ::isatty(STDERR_FILENO) != 0;
  std::int64_t replayed = 0;
  auto last_report = clock::now();
  auto last_progress = clock::now();
  auto last_commit = clock::now();
  std::map<std::pair<const void*, std::int32_t>, replay_job*> index;
  auto find = [&](RdKafka::Message& m) -> replay_job* {
    auto key = std::make_pair(static_cast<const void*>(m.c_ptr()->rkt), m.partition());
    if (auto i = index.find(key); i != index.end())
      return i->second;
    auto i = by_partition.find({m.topic_name(), m.partition()});
    auto* job = i == by_partition.end() ? nullptr : i->second;
    index.emplace(key, job);
    return job;
  };
  auto finish = [&](replay_job& job) {
    if (!job.done) {
      job.done = true;
      --open;
    }
  };
  // read_committed stops at the last stable offset: an open transaction of a crashed
  // instance holds it back until the broker aborts it (transaction.timeout.ms), so wait
  // longer than that before giving up on reaching the end seen at assignment.
  auto patience = std::max<clock::duration>(rt_.shutdown_timeout, std::chrono::seconds{20});
  while (open > 0 && clock::now() - last_progress < patience) {
    std::unique_ptr<RdKafka::Message> m{consumer.consume(200)};
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      // Past the last record: done once the position (which skips transaction markers and
      // aborted records) reaches the end.
      auto* job = find(*m);
      if (job == nullptr || job->done)
        continue;
      std::vector<RdKafka::TopicPartition*> where{
        RdKafka::TopicPartition::create(job->topic, job->partition)};
      consumer.position(where);
      auto position = where[0]->offset();
      RdKafka::TopicPartition::destroy(where);
      if (position >= job->high || !rt_.exactly_once)
        finish(*job);
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR)
      continue;
    auto* job = find(*m);
    if (job == nullptr)
      continue;
    auto now = clock::now();
    last_progress = now;
    try {
      job->apply(*m);
    } catch (const std::exception& e) {
      // One bad record must not turn every restart into a crash loop: say which, go on.
      rt_.counters.handler_errors.fetch_add(1);
      logger().error("restore skipped a record service={} topic={} partition={} offset={} "
                     "error=\"{}\"",
                     rt_.service_name, job->topic, job->partition, m->offset(), e.what());
    }
    job->next = m->offset() + 1;
    ++job->replayed;
    ++replayed;
    if (now - last_commit > std::chrono::seconds{2}) {
      // Rarely: staged rows coalesce per key, so SQLite writes each key once per commit.
      for (auto& each : jobs) {
        each.store->set_checkpoint(each.topic, each.partition, std::max(each.next, std::int64_t{0}));
        if (auto saved = each.store->commit(); !saved)
          failure_ = saved.error_value();
      }
      last_commit = now;
    }
    if (!rt_.exactly_once && job->next >= job->high)
      finish(*job); // without transaction markers the end is known; with them, EOF says it
    if (terminal && now - last_report > std::chrono::milliseconds{200}) {
      print_restore_progress(replayed, total, now - started);
      last_report = now;
    } else if (!terminal && now - last_report > std::chrono::seconds{1}) {
      logger().info("restoring service={} done={}/{}", rt_.service_name, replayed, total);
      last_report = now;
    }
  }
  if (terminal)
    print_restore_progress(replayed, total, clock::now() - started, true);
  consumer.unassign();
  for (auto& job : jobs) {
    if (!job.done)
      logger().warn("restore stopped short service={} topic={} partition={} at={} end={}",
                    rt_.service_name, job.topic, job.partition, job.next, job.high);
    job.store->set_checkpoint(job.topic, job.partition, std::max(job.next, std::int64_t{0}));
  }
  for (auto& job : jobs)
    if (auto saved = job.store->commit(); !saved)
      failure_ = saved.error_value();
  if (rt_.on_restoring)
    rt_.on_restoring(false);
  auto seconds = std::chrono::duration<double>(clock::now() - started).count();
  logger().info("restored service={} partitions={} records={} seconds={:.2f} rate={:.0f}/s",
                rt_.service_name, jobs.size(), replayed, seconds,
                static_cast<double>(replayed) / std::max(seconds, 1e-6));
}

void source::restore(const std::vector<std::int32_t>& numbers) {
  std::vector<std::shared_ptr<partition_state>> opened_states;
  for (auto partition : numbers) {
    auto name = rt_.journal ? rt_.journal->topic : std::string{"tables"};
    auto path = rt_.state_dir + "/" + name + "-" + std::to_string(partition) + ".db";
    auto opened = state_store::open(path);
    if (!opened) {
      failure_ = opened.error_value();
      return;
    }
    if (opened->recovered_from_corruption())
      logger().warn("state store rebuilt from offset 0 path={}", path);
    opened_states.push_back(std::make_shared<partition_state>(std::move(*opened), partition));
  }
  auto consumer = rt_.make_restore_consumer();
  auto bounds = [&](const std::string& topic, std::int32_t partition) {
    std::int64_t low = 0, high = 0;
    consumer->query_watermark_offsets(topic, partition, &low, &high, 10000);
    return std::make_pair(low, high);
  };
  // Fresh stores start from the latest snapshot rather than the whole history.
  if (rt_.journal && !rt_.journal->snapshot_topic.empty()) {
    auto& journal = *rt_.journal;
    std::vector<replay_job> jobs;
    std::vector<std::shared_ptr<std::int64_t>> covered;
    for (auto& state : opened_states) {
      if (state->store.checkpoint(journal.topic, state->partition))
        continue;
      auto [low, high] = bounds(journal.snapshot_topic, state->partition);
      auto& store = state->store;
      auto seen = std::make_shared<std::int64_t>(-1);
      covered.push_back(seen);
      jobs.push_back({journal.snapshot_topic, state->partition, low, high, &store,
                      [&store, seen](RdKafka::Message& m) {
                        std::string key = m.key() ? *m.key() : std::string{};
                        if (m.len() == 0)
                          store.erase(key);
                        else
                          store.put(key, std::string{static_cast<const char*>(m.payload()) + 1,
                                                     m.len() - 1});
                        if (auto* headers = m.headers())
                          for (auto& h : headers->get("eddy.checkpoint"))
                            *seen = std::stoll(std::string{static_cast<const char*>(h.value()),
                                                           h.value_size()});
                      }});
    }
    replay(*consumer, jobs);
    for (std::size_t i = 0; i < jobs.size(); ++i)
      if (*covered[i] >= 0) {
        jobs[i].store->set_checkpoint(journal.topic, jobs[i].partition, *covered[i]);
        if (auto saved = jobs[i].store->commit(); !saved)
          failure_ = saved.error_value();
      }
  }
  std::vector<replay_job> jobs;
  for (auto& state : opened_states) {
    auto partition = state->partition;
    auto& store = state->store;
    if (rt_.journal) {
      auto& journal = *rt_.journal;
      auto [low, high] = bounds(journal.topic, partition);
      // Never trust a store past its checkpoint: replay everything after it.
      auto next = std::max(store.checkpoint(journal.topic, partition).value_or(0), low);
      jobs.push_back({journal.topic, partition, next, high, &store,
                      [&store, &journal, partition,
                       event = std::make_shared<record>()](RdKafka::Message& m) {
                        // One record reused for every event: its strings keep their room.
                        event->topic = journal.topic;
                        event->partition = partition;
                        event->offset = m.offset();
                        event->timestamp_ms = m.timestamp().timestamp;
                        auto* raw = m.c_ptr();
                        if (raw->key)
                          event->key.assign(static_cast<const char*>(raw->key), raw->key_len);
                        else
                          event->key.clear();
                        event->key_null = raw->key == nullptr;
                        event->value.assign(static_cast<const char*>(raw->payload), raw->len);
                        event->value_null = raw->payload == nullptr;
                        event->headers.clear();
                        append_headers(raw, event->headers);
                        journal.apply(*event, store);
                      }});
    }
    for (auto& [topic, table] : rt_.local_tables) {
      auto [low, high] = bounds(topic, partition);
      auto next = std::max(store.checkpoint(topic, partition).value_or(0), low);
      jobs.push_back({topic, partition, next, high, &store,
                      [&store, topic = topic](RdKafka::Message& m) {
                        auto row = table_row_key(topic, m.key() ? std::string_view{*m.key()}
                                                                : std::string_view{});
                        if (m.payload() == nullptr)
                          store.erase(row);
                        else
                          store.put(row, std::string{static_cast<const char*>(m.payload()),
                                                     m.len()});
                      }});
    }
  }
  replay(*consumer, jobs);
  for (auto& job : jobs)
    if (rt_.journal && job.topic == rt_.journal->topic) {
      rt_.counters.events_restored.fetch_add(job.replayed);
      rt_.journal->delivered_next[static_cast<std::size_t>(job.partition)].store(
        job.store->checkpoint(job.topic, job.partition).value_or(0));
    }
  consumer->close();
  std::lock_guard<std::mutex> guard{rt_.states_mtx};
  for (auto& state : opened_states) {
    states_[state->partition] = state;
    rt_.states[state->partition] = state;
  }
}

void source::write_snapshots() {
  if (!rt_.journal || rt_.journal->snapshot_topic.empty())
    return;
  for (auto& [partition, state] : states_) {
    std::lock_guard<std::mutex> guard{state->mtx};
    auto next = rt_.journal->delivered_next[static_cast<std::size_t>(partition)].load();
    if (next < 0)
      continue;
    std::vector<header> headers{{"eddy.checkpoint", std::to_string(next)}};
    for (auto& [row, value] : state->store.staged_rows()) {
      if (is_table_row(row))
        continue;
      // A leading byte tells a present value (even an empty one) from a tombstone.
      std::string payload;
      if (value)
        payload = "v" + *value;
      rt_.out->produce(rt_.journal->snapshot_topic, row,
                       value ? std::string_view{payload} : std::string_view{}, headers, nullptr,
                       partition);
    }
  }
}

void source::commit_states() {
  if (!rt_.stateful())
    return;
  if (!rt_.exactly_once && rt_.journal && !rt_.journal->snapshot_topic.empty()) {
    // A snapshot row must be in Kafka before the store forgets that it is new.
    write_snapshots();
    if (!rt_.out->flush(static_cast<int>(rt_.shutdown_timeout.count()))) {
      if (!failure_)
        failure_ = error{errc::delivery_failed, "snapshot rows not delivered in time"};
      return;
    }
  }
  for (auto& [partition, state] : states_) {
    std::lock_guard<std::mutex> guard{state->mtx};
    auto next = rt_.journal ? rt_.journal->delivered_next[static_cast<std::size_t>(partition)].load()
                            : -1;
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
    if (!used) {
      std::lock_guard<std::mutex> guard{rt_.states_mtx};
      rt_.states.erase(i->first);
    }
    i = used ? std::next(i) : states_.erase(i);
  }
}

} // namespace eddy::detail
