#include "sink.hpp"

#include <algorithm>
#include <chrono>

#include <librdkafka/rdkafka.h>

#include <eddy/log.hpp>

#include "runtime.hpp"

namespace eddy::detail {

namespace {

/// The payload librdkafka is given: null only for a view without data (a tombstone), so
/// that an empty value stays an empty value.
char* payload_of(std::string_view value) {
  return const_cast<char*>(value.data());
}

/// True for errors retrying cannot cure: the record itself, or where it is sent, is wrong.
bool permanent(RdKafka::ErrorCode err) {
  switch (err) {
  case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
  case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
  case RdKafka::ERR_INVALID_RECORD:
  case RdKafka::ERR_TOPIC_EXCEPTION:
  case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
  case RdKafka::ERR__UNKNOWN_TOPIC:
  case RdKafka::ERR__UNKNOWN_PARTITION:
    return true;
  default:
    return false;
  }
}

/// The record librdkafka reports on, as a policy sees it.
record record_of(RdKafka::Message& message) {
  record r;
  r.topic = message.topic_name();
  r.partition = message.partition();
  r.key_null = message.key_pointer() == nullptr;
  if (!r.key_null)
    r.key.assign(static_cast<const char*>(message.key_pointer()), message.key_len());
  r.value_null = message.payload() == nullptr;
  if (!r.value_null)
    r.value.assign(static_cast<const char*>(message.payload()), message.len());
  if (auto* headers = message.headers())
    for (auto& h : headers->get_all())
      r.headers.emplace_back(
        h.key(), h.value() ? std::string{static_cast<const char*>(h.value()), h.value_size()}
                           : std::string{});
  return r;
}

std::string_view view_of(const std::string& bytes, bool null) {
  return null ? std::string_view{} : std::string_view{bytes};
}

void count(std::atomic<std::int64_t> runtime_counters::*counter, runtime_counters* counters) {
  if (counters)
    (counters->*counter).fetch_add(1);
}

} // namespace

sink::sink(RdKafka::Conf& conf) {
  std::string reason;
  conf.set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), reason);
  producer_.reset(RdKafka::Producer::create(&conf, reason));
  if (!producer_)
    creation_error_ = reason;
}

sink::~sink() {
  running_ = false;
  if (poller_.joinable())
    poller_.join();
}

void sink::start() {
  running_ = true;
  poller_ = std::thread{[this] {
    while (running_.load()) {
      producer_->poll(50);
      drain_letters();
    }
  }};
}

RdKafka::ErrorCode sink::send(const std::string& topic, std::int32_t partition,
                              std::string_view key, std::string_view value,
                              const std::vector<header>& headers, void* opaque) {
  RdKafka::Headers* kafka_headers = nullptr;
  if (!headers.empty()) {
    kafka_headers = RdKafka::Headers::create();
    for (auto& [name, bytes] : headers)
      kafka_headers->add(name, bytes.data(), bytes.size());
  }
  auto err =
    producer_->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, payload_of(value),
                       value.size(), key.data(), key.size(), 0, kafka_headers, opaque);
  if (err != RdKafka::ERR_NO_ERROR)
    delete kafka_headers; // not taken over on failure
  return err;
}

void sink::produce(const std::string& topic, std::string_view key, std::string_view value,
                   const std::vector<header>& headers, partition_progress::ticket* owner,
                   std::int32_t partition, output_origin origin) {
  std::shared_lock<std::shared_mutex> open{gate_};
  if (owner && owner->owner->retired())
    return;
  if (owner && generations_.must_park(owner->generation)) {
    // Its transaction is not open yet: the one before it is committing.
    partition_progress::hold(owner);
    parked_record r{topic, std::string{key}, std::string{value}, headers, partition, owner};
    r.key_null = key.data() == nullptr;
    r.value_null = value.data() == nullptr;
    r.source_offset = origin.source_offset;
    r.dead_letter = origin.dead_letter;
    generations_.park(std::move(r));
    return;
  }
  produce_now(topic, key, value, headers, owner, partition, origin);
}

void sink::open_generation(std::uint64_t generation) {
  std::unique_lock<std::shared_mutex> closed{gate_};
  for (auto& r : generations_.open(generation)) {
    produce_now(r.topic, view_of(r.key, r.key_null), view_of(r.value, r.value_null), r.headers,
                r.owner, r.partition, output_origin{r.source_offset, r.dead_letter});
    partition_progress::release(r.owner); // the hold taken when it was parked
  }
}

void sink::drop_parked() {
  std::unique_lock<std::shared_mutex> closed{gate_};
  for (auto& r : generations_.drop_parked())
    partition_progress::release(r.owner);
}

void sink::produce_now(const std::string& topic, std::string_view key, std::string_view value,
                       const std::vector<header>& headers, partition_progress::ticket* owner,
                       std::int32_t partition, output_origin origin) {
  std::unique_ptr<delivery> d;
  if (owner) {
    partition_progress::hold(owner);
    d.reset(new delivery{owner, origin});
  }
  while (true) {
    auto err = send(topic, partition, key, value, headers, d.get());
    if (err == RdKafka::ERR_NO_ERROR) {
      d.release(); // the delivery report frees it
      return;
    }
    if (err == RdKafka::ERR__QUEUE_FULL) {
      // The poller thread frees room as deliveries complete.
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
      continue;
    }
    failed_.fetch_add(1);
    if (!d) {
      logger().error("produce failed topic={} error=\"{}\"", topic, RdKafka::err2str(err));
      return;
    }
    record output;
    output.topic = topic;
    output.partition = partition;
    output.key_null = key.data() == nullptr;
    output.key = std::string{key};
    output.value_null = value.data() == nullptr;
    output.value = std::string{value};
    output.headers = headers;
    refuse(std::move(d), std::move(output), err, RdKafka::err2str(err), true, true);
    return;
  }
}

std::future<expected<std::int64_t>> sink::publish(const std::string& topic,
                                                  std::string_view key, std::string_view value,
                                                  const std::vector<header>& headers) {
  auto promise = std::make_unique<std::promise<expected<std::int64_t>>>();
  auto result = promise->get_future();
  void* opaque = promise.get();
  {
    std::lock_guard<std::mutex> guard{publishes_mtx_};
    publishes_.insert(opaque);
  }
  pending_publishes_.fetch_add(1);
  promise.release();
  while (true) {
    auto err = send(topic, RdKafka::Topic::PARTITION_UA, key, value, headers, opaque);
    if (err == RdKafka::ERR_NO_ERROR)
      return result;
    if (err == RdKafka::ERR__QUEUE_FULL) {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
      continue;
    }
    auto taken = take_publish(opaque);
    taken->set_value(
      error{errc::delivery_failed, "produce to '" + topic + "': " + RdKafka::err2str(err)});
    return result;
  }
}

std::unique_ptr<std::promise<expected<std::int64_t>>> sink::take_publish(void* opaque) {
  if (opaque == nullptr || pending_publishes_.load() == 0)
    return nullptr;
  std::lock_guard<std::mutex> guard{publishes_mtx_};
  if (publishes_.erase(opaque) == 0)
    return nullptr;
  pending_publishes_.fetch_sub(1);
  return std::unique_ptr<std::promise<expected<std::int64_t>>>{
    static_cast<std::promise<expected<std::int64_t>>*>(opaque)};
}

bool sink::flush(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  while (true) {
    drain_letters();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    auto slice = static_cast<int>(std::clamp<std::int64_t>(left, 0, 100));
    auto flushed = producer_->flush(slice) == RdKafka::ERR_NO_ERROR;
    // A delivery report served by the flush may have queued a dead letter; one leaves the
    // queue only once it is in the producer's.
    if (flushed && pending_letters_.load() == 0 && producer_->outq_len() == 0)
      return true;
    if (left <= 0)
      return false;
  }
}

void sink::track_deliveries(std::string topic,
                            std::function<void(std::int32_t, std::int64_t)> delivered) {
  tracked_topic_ = std::move(topic);
  tracked_delivered_ = std::move(delivered);
}

void sink::dr_cb(RdKafka::Message& message) {
  if (auto published = take_publish(message.msg_opaque())) {
    if (message.err() == RdKafka::ERR_NO_ERROR)
      published->set_value(message.offset());
    else
      published->set_value(error{errc::delivery_failed, "delivery to '" + message.topic_name()
                                                          + "' failed: " + message.errstr()});
    return;
  }
  std::unique_ptr<delivery> d{static_cast<delivery*>(message.msg_opaque())};
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    if (tracked_delivered_ && message.topic_name() == tracked_topic_)
      tracked_delivered_(message.partition(), message.offset());
    if (d)
      partition_progress::release(d->owner);
    return;
  }
  if (d && d->owner->owner->retired()) {
    // Work an aborted transaction undid (its outputs purged): nothing to refuse.
    partition_progress::release(d->owner);
    return;
  }
  auto failures = failed_.fetch_add(1) + 1;
  if (!d) {
    // Owned by no ticket (a snapshot row): the flush that awaits it reports the failure.
    if (failures <= 5 || failures % 1000 == 0)
      logger().error("delivery failed topic={} error=\"{}\" failures={}", message.topic_name(),
                     message.errstr(), failures);
    return;
  }
  refuse(std::move(d), record_of(message), message.err(), message.errstr(), false, false);
}

void sink::refuse(std::unique_ptr<delivery> d, record output, RdKafka::ErrorCode err,
                  const std::string& message, bool synchronous, bool may_block) {
  auto* counters = refusals_.counters;
  count(&runtime_counters::production_errors, counters);
  auto reason = std::string{synchronous ? "produce to '" : "delivery to '"} + output.topic
                + "' failed: " + message;
  auto* owner = d->owner;
  if (d->origin.dead_letter) {
    if (err == RdKafka::ERR_MSG_SIZE_TOO_LARGE && !d->value_dropped && !output.value.empty()) {
      // Too large for the dead-letter topic too: keep what tells the record, drop the value.
      logger().warn("dead letter too large, its value is dropped service={} topic={} size={}",
                    refusals_.service_name, output.topic, output.value.size());
      output.headers.emplace_back("eddy.value.dropped", "true");
      output.headers.emplace_back("eddy.value.size", std::to_string(output.value.size()));
      output.value.clear();
      output.value_null = false;
      d->value_dropped = true;
      write_dead_letter(std::move(d), std::move(output), may_block);
      return;
    }
    logger().error("dead letter refused service={} topic={} error=\"{}\"",
                   refusals_.service_name, output.topic, message);
    partition_progress::release(owner, "dead letter: " + reason);
    return;
  }
  production_error about{output, static_cast<int>(err),
                         rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), message,
                         permanent(err)};
  auto response = error_response::fail;
  if (refusals_.policy && (synchronous || !refusals_.transactional)) {
    try {
      response = refusals_.policy(about);
    } catch (const std::exception& e) {
      logger().error("production error policy threw service={} error=\"{}\"",
                     refusals_.service_name, e.what());
    }
  }
  // The first failure stops the service; a flood of the same line helps nobody.
  auto refused = refused_.fetch_add(1) + 1;
  if (refused <= 5 || refused % 1000 == 0)
    logger().log(response == error_response::fail ? spdlog::level::err : spdlog::level::warn,
                 "output refused service={} topic={} code={} permanent={} response={} "
                 "error=\"{}\" refused={}",
                 refusals_.service_name, output.topic, about.code_name, about.permanent,
                 to_string(response), message, refused);
  switch (response) {
  case error_response::log_and_continue:
    count(&runtime_counters::errors_skipped, counters);
    partition_progress::release(owner);
    return;
  case error_response::dead_letter: {
    count(&runtime_counters::dead_letters, counters);
    record letter = std::move(output);
    letter.headers.emplace_back("eddy.error", message);
    letter.headers.emplace_back("eddy.error.moment", to_string(error_moment::production));
    letter.headers.emplace_back("eddy.error.code", std::string{about.code_name});
    letter.headers.emplace_back("eddy.output.topic", letter.topic);
    if (auto [topic, partition] = owner->owner->source(); !topic.empty()) {
      letter.headers.emplace_back("eddy.source.topic", topic);
      letter.headers.emplace_back("eddy.source.partition", std::to_string(partition));
    }
    if (d->origin.source_offset >= 0)
      letter.headers.emplace_back("eddy.source.offset",
                                  std::to_string(d->origin.source_offset));
    letter.headers.emplace_back("eddy.service", refusals_.service_name);
    letter.topic = refusals_.dead_letter_topic;
    letter.partition = RdKafka::Topic::PARTITION_UA;
    d->origin.dead_letter = true;
    write_dead_letter(std::move(d), std::move(letter), may_block);
    return;
  }
  case error_response::fail:
    break;
  }
  partition_progress::release(owner, reason);
}

void sink::write_dead_letter(std::unique_ptr<delivery> d, record letter, bool may_block) {
  while (may_block) {
    auto err = send(letter.topic, letter.partition, view_of(letter.key, letter.key_null),
                    view_of(letter.value, letter.value_null), letter.headers, d.get());
    if (err == RdKafka::ERR_NO_ERROR) {
      d.release();
      return;
    }
    if (err != RdKafka::ERR__QUEUE_FULL) {
      failed_.fetch_add(1);
      refuse(std::move(d), std::move(letter), err, RdKafka::err2str(err), true, true);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  {
    std::lock_guard<std::mutex> guard{letters_mtx_};
    letters_.push_back({std::move(letter), d.release()});
    pending_letters_.fetch_add(1);
  }
  drain_letters();
}

void sink::drain_letters() {
  while (pending_letters_.load() > 0) {
    pending_letter next;
    {
      std::lock_guard<std::mutex> guard{letters_mtx_};
      if (letters_.empty())
        return;
      next = std::move(letters_.front());
      letters_.pop_front();
    }
    auto& letter = next.letter;
    auto err = send(letter.topic, letter.partition, view_of(letter.key, letter.key_null),
                    view_of(letter.value, letter.value_null), letter.headers, next.pending);
    if (err == RdKafka::ERR__QUEUE_FULL) {
      std::lock_guard<std::mutex> guard{letters_mtx_};
      letters_.push_front(std::move(next));
      return; // the next poll frees room
    }
    pending_letters_.fetch_sub(1);
    if (err == RdKafka::ERR_NO_ERROR)
      continue;
    failed_.fetch_add(1);
    refuse(std::unique_ptr<delivery>{next.pending}, std::move(letter), err,
           RdKafka::err2str(err), true, false);
  }
}

} // namespace eddy::detail
