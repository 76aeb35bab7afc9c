#include "poll_loop.hpp"

#include "stop_signals.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include <eddy/log.hpp>

#include "partition_task.hpp"

namespace eddy::detail {

namespace {

using clock = std::chrono::steady_clock;

using stop_atom = caf::atom_constant<caf::atom("stop")>;

} // namespace

poll_loop::poll_loop(runtime& rt)
  : rt_(rt),
    states_(rt) {}

poll_loop::~poll_loop() = default;

void poll_loop::attach(RdKafka::KafkaConsumer* consumer) {
  consumer_ = consumer;
  fetch_.emplace(*consumer);
  group_ = std::make_unique<kafka_group_port>(*consumer, &*fetch_);
  if (rt_.exactly_once)
    txn_ = std::make_unique<kafka_transaction_port>(*rt_.out, *consumer, rt_.shutdown_timeout);
  committer_ = std::make_unique<committer>(
    rt_, parts_, states_, *group_, txn_.get(),
    [this](assigned_partition& p) { restart_task(p); }, rt_.out);
  if (rt_.stateful()) {
    restore_settings settings;
    settings.patience =
      std::max<std::chrono::milliseconds>(rt_.shutdown_timeout, std::chrono::seconds{20});
    restorer_ = std::make_unique<restorer>(
      rt_, states_,
      [this]() -> std::unique_ptr<log_reader> {
        return std::make_unique<kafka_log_reader>(rt_.make_restore_consumer());
      },
      settings);
  }
}

expected<void> poll_loop::run(caf::blocking_actor* self) {
  self_ = self;
  committer_->start();
  bool stopping = false;
  auto next_control = clock::now();
  int consecutive_errors = 0;
  while (!stopping) {
    auto now = clock::now();
    if (now >= next_control) {
      // Control tick: mailbox, stop requests, restores, credit, commits.
      self->receive([&](stop_atom) { stopping = true; },
                    [&](caf::exit_msg&) { stopping = true; },
                    caf::others >> [](caf::message_view&) -> caf::result<caf::message> {
                      return caf::sec::unexpected_message;
                    },
                    caf::after(std::chrono::milliseconds{0}) >> [] {});
      if (restorer_)
        adopt_restored();
      if (rt_.stop_requested.load() || signal_stop_requested.load() || check_failures())
        break;
      dispatch_all();
      apply_credit();
      if (requery_at_ != clock::time_point{} && now >= requery_at_)
        requery_offsets();
      committer_->tick(now);
      next_control = now + std::chrono::milliseconds{5};
    }
    std::unique_ptr<RdKafka::Message> message{
      consumer_->consume(pending_records_ > 0 ? 0 : 20)};
    switch (message->err()) {
    case RdKafka::ERR_NO_ERROR:
      consecutive_errors = 0;
      fetch_->consumed(*message);
      if (auto* p = lookup(*message))
        append(*p, *message);
      break;
    case RdKafka::ERR__TIMED_OUT:
      if (fetch_->drained())
        wake_fetcher();
      dispatch_all();
      break;
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
  auto failure = rt_.failure.first();
  logger().info("stopping service={} reason=\"{}\"", rt_.service_name,
                failure ? failure->what() : "stop requested");
  if (rt_.on_stopping)
    rt_.on_stopping();
  // Hand out nothing more: what is buffered is read again after a restart.
  restorer_.reset();
  for (auto& [key, p] : parts_)
    set_paused(p, true);
  committer_->settle(); // parked outputs of a pipelined commit hold the tasks' credit
  // After a fatal producer error, or any failure in exactly_once, nothing the tasks still
  // hold can commit: waiting for it would only delay the stop.
  check_failures();
  auto fatal = rt_.failure.first();
  bool hopeless =
    fatal
    && (rt_.exactly_once || fatal->code == errc::fenced || fatal->code == errc::kafka_error);
  if (!hopeless && !drain_all())
    logger().warn("stop: in-flight records not finished within {} ms service={}",
                  rt_.shutdown_timeout.count(), rt_.service_name);
  check_failures();
  committer_->finish();
  // close() revokes the remaining partitions through rebalance_cb, which stops the tasks.
  consumer_->close();
  for (auto& [key, p] : parts_)
    if (p.task)
      caf::anon_send_exit(p.task, caf::exit_reason::user_shutdown);
  parts_.clear();
  index_.clear();
  states_.clear();
  rt_.counters.partitions_restoring.store(0);
  {
    std::lock_guard<std::mutex> guard{rt_.states_mtx};
    rt_.assigned_numbers.clear();
  }
  if (auto first = rt_.failure.first())
    return *first;
  return {};
}

bool poll_loop::check_failures() {
  if (!rt_.failure.raised()) {
    // A fenced producer fails its deliveries first; name the cause, not the symptom.
    std::string reason;
    auto fatal = rt_.out->producer()->fatal_error(reason);
    if (fatal == RdKafka::ERR__FENCED || fatal == RdKafka::ERR_PRODUCER_FENCED
        || fatal == RdKafka::ERR_INVALID_PRODUCER_EPOCH)
      rt_.failure.raise(
        error{errc::fenced, "another instance took over transactional.id: " + reason});
    else if (fatal != RdKafka::ERR_NO_ERROR)
      rt_.failure.raise(error{errc::kafka_error, "fatal producer error: " + reason});
  }
  if (!rt_.failure.raised())
    for (auto& [key, p] : parts_)
      if (p.progress->failed()) {
        rt_.failure.raise(
          error{errc::delivery_failed, key.first + "[" + std::to_string(key.second)
                                         + "]: " + p.progress->failure_reason()});
        break;
      }
  return rt_.failure.raised();
}

bool poll_loop::drain_all() {
  auto deadline = clock::now() + rt_.shutdown_timeout;
  auto drained = [&] {
    return std::all_of(parts_.begin(), parts_.end(),
                       [](auto& entry) { return entry.second.drained(); });
  };
  while (!drained()) {
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  return true;
}

void poll_loop::adopt_restored() {
  auto outcome = restorer_->collect();
  if (outcome.failure)
    rt_.failure.raise(*outcome.failure);
  for (auto& state : outcome.restored) {
    auto number = state->partition;
    bool wanted = std::any_of(parts_.begin(), parts_.end(), [&](auto& entry) {
      return entry.second.partition == number && entry.second.restoring;
    });
    if (!wanted)
      continue; // revoked while it was restored
    states_.adopt(state);
    for (auto& [key, p] : parts_) {
      if (p.partition != number || !p.restoring)
        continue;
      if (rt_.local_tables.count(p.topic) != 0) {
        // The store holds the table up to its checkpoint: read on from there.
        std::lock_guard<std::mutex> guard{state->mtx};
        auto next = state->store.checkpoint(p.topic, p.partition).value_or(0);
        pending_records_ -= p.pending.size();
        p.pending.clear();
        if (auto moved = group_->seek({p.topic, p.partition, next}); !moved)
          rt_.failure.raise(error{errc::kafka_error, "table " + moved.error_value().message});
      }
      set_paused(p, false); // while still restoring: a restore's pause is not for credit
      p.restoring = false;
      rt_.counters.partitions_restoring.fetch_sub(1);
      start_task(p);
    }
  }
  if (!outcome.restored.empty())
    index_.clear();
}

void poll_loop::requery_offsets() {
  requery_at_ = {};
  // Partitions without a position never got their committed offset; assigning them again
  // makes librdkafka query it again.
  partition_list stuck;
  for (auto& [key, p] : parts_) {
    if (p.restoring)
      continue;
    bool positioned = fetch_->position(p.topic, p.partition) >= 0;
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
    fetch_->positions(current);
    consumer_->assign(current);
    RdKafka::TopicPartition::destroy(current);
  }
  // Through set_paused, so the count of partitions paused for credit stays right; librdkafka
  // keeps a pause across unassign and assign, so every one is resumed there too.
  for (auto* tp : stuck.items)
    if (auto i = parts_.find({tp->topic(), tp->partition()}); i != parts_.end())
      set_paused(i->second, false);
  consumer_->resume(stuck.items);
}

assigned_partition* poll_loop::lookup(RdKafka::Message& message) {
  auto* raw = message.c_ptr();
  auto index_key = std::make_pair(static_cast<const void*>(raw->rkt), raw->partition);
  if (auto i = index_.find(index_key); i != index_.end())
    return i->second;
  auto i = parts_.find({message.topic_name(), message.partition()});
  if (i == parts_.end())
    return nullptr; // a late record of a partition revoked meanwhile
  index_.emplace(index_key, &i->second);
  return &i->second;
}

void poll_loop::append(assigned_partition& p, RdKafka::Message& message) {
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
  // Buffered records count against the credit too: memory stays bounded while a commit
  // holds dispatch.
  if (!p.paused
      && p.progress->in_flight() + static_cast<std::int64_t>(p.pending.size())
           >= rt_.credit_window)
    set_paused(p, true);
}

void poll_loop::dispatch(assigned_partition& p) {
  if (!p.task)
    return;
  while (!p.pending.empty()) {
    auto room = std::min(committer_->dispatch_room(p), rt_.batch_max_records);
    if (room <= 0)
      break;
    record_batch batch;
    if (static_cast<std::int64_t>(p.pending.size()) <= room) {
      batch.records = std::move(p.pending);
      p.pending = {};
      p.pending.reserve(
        static_cast<std::size_t>(std::min<std::int64_t>(rt_.batch_max_records, 1024)));
    } else {
      // Buffered while a commit held dispatch: hand it out in batches, within the room.
      auto end = p.pending.begin() + room;
      batch.records.assign(std::make_move_iterator(p.pending.begin()),
                           std::make_move_iterator(end));
      p.pending.erase(p.pending.begin(), end);
    }
    auto n = static_cast<std::int64_t>(batch.records.size());
    pending_records_ -= batch.records.size();
    p.dispatched_next = batch.records.back().offset + 1;
    p.progress->add_in_flight(n);
    committer_->dispatched(p, batch.records.front().offset, n);
    self_->send(p.task, std::move(batch));
  }
  if (!p.paused && p.progress->in_flight() >= rt_.credit_window)
    set_paused(p, true);
}

void poll_loop::dispatch_all() {
  if (pending_records_ == 0)
    return;
  for (auto& [key, p] : parts_)
    dispatch(p);
}

void poll_loop::apply_credit() {
  // Resume at half the window so a partition does not flap between paused and running.
  std::int64_t in_flight = 0;
  for (auto& [key, p] : parts_) {
    in_flight += p.progress->in_flight();
    if (p.paused && !p.restoring
        && p.progress->in_flight() + static_cast<std::int64_t>(p.pending.size())
             <= rt_.credit_window / 2)
      set_paused(p, false);
  }
  rt_.counters.records_in_flight.store(in_flight);
}

void poll_loop::set_paused(assigned_partition& p, bool paused) {
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
  // A pause dropped what was queued for the partition; fetch again now, not after the
  // broker thread's next one-second wait.
  if (!paused)
    fetch_->wake(list);
  if (p.restoring)
    return; // paused for its restore, not for credit
  rt_.counters.paused_partitions.fetch_add(paused ? 1 : -1);
  if (paused)
    rt_.counters.pauses.fetch_add(1);
}

void poll_loop::wake_fetcher() {
  partition_list running;
  for (auto& [key, p] : parts_)
    if (!p.paused)
      running.items.push_back(RdKafka::TopicPartition::create(p.topic, p.partition));
  if (!running.items.empty() && fetch_->wake(running))
    rt_.counters.fetch_wakeups.fetch_add(1);
}

void poll_loop::start_task(assigned_partition& p) {
  auto table_it = rt_.local_tables.find(p.topic);
  const local_table_spec* table =
    table_it != rt_.local_tables.end() ? &table_it->second : nullptr;
  const handler* fn = table != nullptr ? nullptr : &rt_.handlers.at(p.topic);
  p.task = self_->spawn(partition_task, &rt_, p.progress, fn, states_.find(p.partition), table);
}

void poll_loop::restart_task(assigned_partition& p) {
  pending_records_ -= p.pending.size();
  p.pending.clear();
  if (p.task)
    caf::anon_send_exit(p.task, caf::exit_reason::user_shutdown);
  p.progress = std::make_shared<partition_progress>();
  p.progress->rewind(p.committed);
  start_task(p);
  index_.clear();
}

void poll_loop::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                             std::vector<RdKafka::TopicPartition*>& partitions) {
  bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
  rt_.counters.rebalance_callbacks.fetch_add(1);
  // A revocation, or an assignment that brings nothing, means another join round is
  // likely on its way; an assignment with partitions usually closes the rebalance.
  // librdkafka 2.0.2 treats a commit that races that second join (ILLEGAL_GENERATION) as
  // a lost assignment, which costs duplicates (librdkafka#4059): hold periodic commits.
  if (cooperative && committer_)
    committer_->hold_until(err == RdKafka::ERR__ASSIGN_PARTITIONS && !partitions.empty()
                             ? clock::now()
                             : clock::now() + std::chrono::seconds{6});
  RdKafka::Error* failure = nullptr;
  // Positions that wake-ups sought do not survive a revocation or a new assignment.
  fetch_->forget(partitions);
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    on_assign(partitions);
    if (cooperative)
      failure = consumer->incremental_assign(partitions);
    else
      consumer->assign(partitions);
    // librdkafka keeps a partition's pause state across revoke and reassign: set it afresh.
    partition_list running;
    partition_list restoring;
    for (auto* tp : partitions)
      if (auto i = parts_.find({tp->topic(), tp->partition()}); i != parts_.end())
        (i->second.restoring ? restoring : running)
          .items.push_back(RdKafka::TopicPartition::create(tp->topic(), tp->partition()));
    if (!running.items.empty())
      consumer->resume(running.items);
    if (!restoring.items.empty())
      consumer->pause(restoring.items);
  } else {
    on_revoke(partitions);
    if (cooperative)
      failure = consumer->incremental_unassign(partitions);
    else
      consumer->unassign();
  }
  if (failure) {
    logger().error("rebalance failed service={} error=\"{}\"", rt_.service_name,
                   failure->str());
    delete failure;
  }
}

void poll_loop::on_assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<std::int32_t> to_restore;
  for (auto* tp : partitions) {
    bool table = rt_.local_tables.count(tp->topic()) != 0;
    if (!table && rt_.handlers.count(tp->topic()) == 0)
      continue;
    bool restore_under_way = std::any_of(parts_.begin(), parts_.end(), [&](auto& entry) {
      return entry.second.partition == tp->partition() && entry.second.restoring;
    });
    assigned_partition p;
    p.topic = tp->topic();
    p.partition = tp->partition();
    p.progress = std::make_shared<partition_progress>();
    auto& added =
      parts_.emplace(partition_key{p.topic, p.partition}, std::move(p)).first->second;
    {
      std::lock_guard<std::mutex> guard{rt_.states_mtx};
      ++rt_.assigned_numbers[added.partition];
    }
    if (rt_.stateful() && !states_.contains(added.partition)) {
      // Paused until the restorer has brought the partition's state up to date.
      added.restoring = true;
      added.paused = true;
      rt_.counters.partitions_restoring.fetch_add(1);
      if (!restore_under_way
          && std::find(to_restore.begin(), to_restore.end(), added.partition)
               == to_restore.end())
        to_restore.push_back(added.partition);
      continue;
    }
    if (table) {
      // The live store holds the table up to its checkpoint: read on from there.
      auto state = states_.find(added.partition);
      std::lock_guard<std::mutex> guard{state->mtx};
      auto next = state->store.checkpoint(added.topic, added.partition);
      tp->set_offset(next ? *next : RdKafka::Topic::OFFSET_BEGINNING);
    }
    start_task(added);
  }
  if (!to_restore.empty())
    restorer_->request(to_restore);
  index_.clear();
  rt_.counters.assigned_partitions.store(static_cast<std::int64_t>(parts_.size()));
  rt_.assignment_received.store(true);
  logger().info("partitions assigned service={} count={} total={} restoring={}",
                rt_.service_name, partitions.size(), parts_.size(), to_restore.size());
}

void poll_loop::on_revoke(std::vector<RdKafka::TopicPartition*>& partitions) {
  bool lost = consumer_->assignment_lost();
  std::vector<assigned_partition*> revoked;
  std::set<std::int32_t> numbers;
  for (auto* tp : partitions)
    if (auto i = parts_.find({tp->topic(), tp->partition()}); i != parts_.end()) {
      revoked.push_back(&i->second);
      numbers.insert(tp->partition());
    }
  for (auto& [key, p] : parts_)
    if (std::find(revoked.begin(), revoked.end(), &p) == revoked.end())
      numbers.erase(p.partition);
  if (restorer_ && !numbers.empty())
    restorer_->cancel(numbers);
  if (lost)
    rt_.counters.partitions_lost.fetch_add(static_cast<std::int64_t>(revoked.size()));
  if (lost && rt_.exactly_once && !revoked.empty())
    // The group moved on (this instance stalled past its session): its open transaction
    // is aborted and another instance owns the partitions now. A zombie stops.
    rt_.failure.raise(error{errc::fenced, "the consumer group moved on from this instance "
                                          "(its session timed out): its partitions belong "
                                          "to another instance now"});
  committer_->on_revoke(revoked, lost);
  for (auto* p : revoked) {
    if (p->paused && !p->restoring)
      rt_.counters.paused_partitions.fetch_sub(1);
    if (p->restoring)
      rt_.counters.partitions_restoring.fetch_sub(1);
    if (p->task)
      caf::anon_send_exit(p->task, caf::exit_reason::user_shutdown);
    pending_records_ -= p->pending.size();
    {
      std::lock_guard<std::mutex> guard{rt_.states_mtx};
      if (--rt_.assigned_numbers[p->partition] <= 0)
        rt_.assigned_numbers.erase(p->partition);
    }
    parts_.erase({p->topic, p->partition});
  }
  index_.clear();
  std::set<std::int32_t> in_use;
  for (auto& [key, p] : parts_)
    in_use.insert(p.partition);
  states_.release_unused(in_use);
  rt_.counters.assigned_partitions.store(static_cast<std::int64_t>(parts_.size()));
  logger().info("partitions revoked service={} count={} lost={} total={}", rt_.service_name,
                partitions.size(), lost, parts_.size());
}

} // namespace eddy::detail
