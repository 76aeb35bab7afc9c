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
    watch_.consumed(message->len());
  return message;
}

bool fetch_waker::wake(partition_list& partitions) {
  // A seek to an absolute offset is the one request that wakes the broker thread (a pause
  // or a resume only flags the partition for the fetcher's next look).
  consumer_.position(partitions.items);
  for (auto* at : partitions.items) {
    if (at->offset() < 0)
      continue; // no position yet: librdkafka wakes the fetcher once it has one
    if (auto err = consumer_.seek(*at, 0); err != RdKafka::ERR_NO_ERROR) {
      logger().warn("fetch wake-up: seek failed topic={} partition={} error=\"{}\"",
                    at->topic(), at->partition(), RdKafka::err2str(err));
      return false;
    }
  }
  return true;
}

} // namespace eddy::detail
