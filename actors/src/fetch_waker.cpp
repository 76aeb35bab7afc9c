#include "fetch_waker.hpp"

#include <exception>
#include <string>

#include <librdkafka/rdkafka.h>

#include <eddy/log.hpp>

namespace eddy::detail {

namespace {

/// An integer property of the client `handle` was configured with, or `fallback`.
std::int64_t client_setting(RdKafka::Handle& handle, const char* name, std::int64_t fallback) {
  char value[64];
  std::size_t size = sizeof value;
  if (rd_kafka_conf_get(rd_kafka_conf(handle.c_ptr()), name, value, &size) != RD_KAFKA_CONF_OK)
    return fallback;
  try {
    return std::stoll(value);
  } catch (const std::exception&) {
    return fallback;
  }
}

} // namespace

fetch_waker::fetch_waker(RdKafka::KafkaConsumer& consumer)
  : consumer_(consumer),
    watch_(client_setting(consumer, "queued.min.messages", 100000),
           client_setting(consumer, "queued.max.messages.kbytes", 65536)) {}

std::unique_ptr<RdKafka::Message> fetch_waker::consume(int timeout_ms) {
  std::unique_ptr<RdKafka::Message> message{consumer_.consume(0)};
  if (message->err() == RdKafka::ERR__TIMED_OUT) {
    if (watch_.drained()) {
      partition_list assigned;
      consumer_.assignment(assigned.items);
      if (!assigned.items.empty() && wake(assigned))
        ++wakeups_;
    }
    if (timeout_ms > 0)
      message.reset(consumer_.consume(timeout_ms));
  }
  if (message->err() == RdKafka::ERR_NO_ERROR)
    consumed(*message);
  return message;
}

void fetch_waker::consumed(const RdKafka::Message& message) {
  watch_.consumed(message.len());
  if (!sought_.empty())
    sought_.erase({message.topic_name(), message.partition()});
}

bool fetch_waker::wake(partition_list& partitions) {
  // A seek to an absolute offset is the one request that wakes the broker thread (a pause
  // or a resume only flags the partition for the fetcher's next look).
  positions(partitions.items);
  bool all = true;
  for (auto* at : partitions.items) {
    if (at->offset() < 0)
      continue; // no position yet: librdkafka wakes the fetcher once it has one
    if (auto err = consumer_.seek(*at, 0); err != RdKafka::ERR_NO_ERROR) {
      logger().warn("fetch wake-up: seek failed topic={} partition={} error=\"{}\"",
                    at->topic(), at->partition(), RdKafka::err2str(err));
      all = false;
      continue;
    }
    sought_[{at->topic(), at->partition()}] = at->offset();
  }
  return all;
}

void fetch_waker::positions(std::vector<RdKafka::TopicPartition*>& partitions) {
  consumer_.position(partitions);
  for (auto* at : partitions)
    if (at->offset() < 0)
      if (auto i = sought_.find({at->topic(), at->partition()}); i != sought_.end())
        at->set_offset(i->second);
}

void fetch_waker::note_seek(const std::string& topic, std::int32_t partition,
                            std::int64_t offset) {
  sought_[{topic, partition}] = offset;
}

void fetch_waker::forget(const std::vector<RdKafka::TopicPartition*>& partitions) {
  for (auto* at : partitions)
    sought_.erase({at->topic(), at->partition()});
}

std::int64_t fetch_waker::position(const std::string& topic, std::int32_t partition) {
  partition_list one;
  one.items.push_back(RdKafka::TopicPartition::create(topic, partition));
  positions(one.items);
  return one.items[0]->offset();
}

} // namespace eddy::detail
