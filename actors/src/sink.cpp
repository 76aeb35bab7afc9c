#include "sink.hpp"

#include <chrono>

#include <eddy/log.hpp>

namespace eddy::detail {

namespace {

/// The payload librdkafka is given: null for an empty value, so that it is a tombstone
/// that compaction removes (Eddy reads null and empty values alike, as "").
char* payload_of(std::string_view value) {
  return value.empty() ? nullptr : const_cast<char*>(value.data());
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
    while (running_.load())
      producer_->poll(50);
  }};
}

void sink::produce(const std::string& topic, std::string_view key, std::string_view value,
                   const std::vector<header>& headers, partition_progress::ticket* owner,
                   std::int32_t partition) {
  std::shared_lock<std::shared_mutex> open{gate_};
  if (owner && owner->owner->retired())
    return;
  if (owner)
    partition_progress::hold(owner);
  if (owner && generations_.must_park(owner->generation)) {
    // Its transaction is not open yet: the one before it is committing.
    generations_.park({topic, std::string{key}, std::string{value}, headers, partition, owner});
    return;
  }
  send(topic, key, value, headers, owner, partition);
}

void sink::open_generation(std::uint64_t generation) {
  std::unique_lock<std::shared_mutex> closed{gate_};
  for (auto& r : generations_.open(generation))
    send(r.topic, r.key, r.value, r.headers, r.owner, r.partition);
}

void sink::drop_parked() {
  std::unique_lock<std::shared_mutex> closed{gate_};
  for (auto& r : generations_.drop_parked())
    partition_progress::release(r.owner);
}

void sink::send(const std::string& topic, std::string_view key, std::string_view value,
                const std::vector<header>& headers, partition_progress::ticket* owner,
                std::int32_t partition) {
  while (true) {
    RdKafka::Headers* kafka_headers = nullptr;
    if (!headers.empty()) {
      kafka_headers = RdKafka::Headers::create();
      for (auto& [name, bytes] : headers)
        kafka_headers->add(name, bytes.data(), bytes.size());
    }
    auto err = producer_->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY,
                                  payload_of(value), value.size(), key.data(), key.size(), 0,
                                  kafka_headers, owner);
    if (err == RdKafka::ERR_NO_ERROR)
      return;
    delete kafka_headers; // not taken over on failure
    if (err == RdKafka::ERR__QUEUE_FULL) {
      // The poller thread frees room as deliveries complete.
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
      continue;
    }
    failed_.fetch_add(1);
    logger().error("produce failed topic={} error=\"{}\"", topic, RdKafka::err2str(err));
    if (owner)
      partition_progress::release(owner, "produce to '" + topic + "': " + RdKafka::err2str(err));
    return;
  }
}

std::future<expected<std::int64_t>> sink::publish(const std::string& topic, std::string_view key,
                                                  std::string_view value,
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
    RdKafka::Headers* kafka_headers = nullptr;
    if (!headers.empty()) {
      kafka_headers = RdKafka::Headers::create();
      for (auto& [name, bytes] : headers)
        kafka_headers->add(name, bytes.data(), bytes.size());
    }
    auto err = producer_->produce(topic, RdKafka::Topic::PARTITION_UA,
                                  RdKafka::Producer::RK_MSG_COPY, payload_of(value),
                                  value.size(), key.data(), key.size(), 0, kafka_headers, opaque);
    if (err == RdKafka::ERR_NO_ERROR)
      return result;
    delete kafka_headers;
    if (err == RdKafka::ERR__QUEUE_FULL) {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
      continue;
    }
    auto taken = take_publish(opaque);
    taken->set_value(error{errc::delivery_failed,
                           "produce to '" + topic + "': " + RdKafka::err2str(err)});
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
  return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR;
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
  auto* owner = static_cast<partition_progress::ticket*>(message.msg_opaque());
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    if (tracked_delivered_ && message.topic_name() == tracked_topic_)
      tracked_delivered_(message.partition(), message.offset());
    if (owner)
      partition_progress::release(owner);
    return;
  }
  // The first failure already stops the service; a flood of the same line helps nobody.
  auto failures = failed_.fetch_add(1) + 1;
  if (failures <= 5 || failures % 1000 == 0)
    logger().error("delivery failed topic={} error=\"{}\" failures={}", message.topic_name(),
                   message.errstr(), failures);
  if (owner)
    partition_progress::release(owner, "delivery to '" + message.topic_name()
                                         + "' failed: " + message.errstr());
}

} // namespace eddy::detail
