#include "fetch_waker.hpp"

#include <algorithm>
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
      if (!assigned.items.empty())
        wake(assigned);
    }
    if (timeout_ms > 0)
      message.reset(consumer_.consume(timeout_ms));
  }
  if (message->err() == RdKafka::ERR_NO_ERROR)
    consumed(*message);
  return message;
}

void fetch_waker::consumed(RdKafka::Message& message) {
  watch_.consumed(message.len());
  if (sought_.empty())
    return;
  auto* raw = message.c_ptr();
  if (auto i = find(rd_kafka_topic_name(raw->rkt), raw->partition); i != sought_.end())
    sought_.erase(i);
}

std::vector<fetch_waker::sought_offset>::iterator fetch_waker::find(std::string_view topic,
                                                                    std::int32_t partition) {
  return std::find_if(sought_.begin(), sought_.end(), [&](const sought_offset& s) {
    return s.partition == partition && s.topic == topic;
  });
}

void fetch_waker::set_sought(const std::string& topic, std::int32_t partition,
                             std::int64_t offset) {
  if (auto i = find(topic, partition); i != sought_.end())
    i->offset = offset;
  else
    sought_.push_back({topic, partition, offset});
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
    set_sought(at->topic(), at->partition(), at->offset());
  }
  return all;
}

void fetch_waker::positions(std::vector<RdKafka::TopicPartition*>& partitions) {
  consumer_.position(partitions);
  for (auto* at : partitions)
    if (at->offset() < 0)
      if (auto i = find(at->topic(), at->partition()); i != sought_.end())
        at->set_offset(i->offset);
}

void fetch_waker::note_seek(const std::string& topic, std::int32_t partition,
                            std::int64_t offset) {
  set_sought(topic, partition, offset);
}

void fetch_waker::forget(const std::vector<RdKafka::TopicPartition*>& partitions) {
  for (auto* at : partitions)
    if (auto i = find(at->topic(), at->partition()); i != sought_.end())
      sought_.erase(i);
}

std::int64_t fetch_waker::position(const std::string& topic, std::int32_t partition) {
  partition_list one;
  one.items.push_back(RdKafka::TopicPartition::create(topic, partition));
  positions(one.items);
  return one.items[0]->offset();
}

} // namespace eddy::detail
