#pragma once

// Producing Protobuf events from tests the way generated code and Eddy's producers do:
// the `eddy.type` header and murmur2 partitioning of the key. Header-only, for tests that
// link generated code (which brings <eddy/codegen/runtime.hpp>).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/codegen/runtime.hpp>

namespace eddy::test {

/// Produces typed events to a real broker with an idempotent producer; `flush()` waits for
/// delivery.
class event_producer {
public:
  explicit event_producer(const std::string& bootstrap) {
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    std::string reason;
    if (conf->set("bootstrap.servers", bootstrap, reason) != RdKafka::Conf::CONF_OK
        || conf->set("partitioner", "murmur2_random", reason) != RdKafka::Conf::CONF_OK
        || conf->set("enable.idempotence", "true", reason) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error{reason};
    producer_.reset(RdKafka::Producer::create(conf.get(), reason));
    if (!producer_)
      throw std::runtime_error{reason};
  }

  /// Queues `event` on `topic` under `key`; the record's timestamp is `timestamp_ms`, or
  /// the time of producing if 0.
  template <class Event>
  void send(std::string_view topic, const std::string& key, const Event& event,
            std::int64_t timestamp_ms = 0) {
    auto rec = eddy::codegen::encode(topic, key, event);
    auto headers = RdKafka::Headers::create();
    for (auto& [name, value] : rec.headers)
      headers->add(name, value);
    auto err = producer_->produce(
      rec.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, rec.value.data(),
      rec.value.size(), rec.key.data(), rec.key.size(), timestamp_ms, headers, nullptr);
    if (err != RdKafka::ERR_NO_ERROR) {
      delete headers;
      throw std::runtime_error{"produce: " + RdKafka::err2str(err)};
    }
    producer_->poll(0);
  }

  /// Waits until everything queued is delivered.
  void flush() {
    if (producer_->flush(30000) != RdKafka::ERR_NO_ERROR)
      throw std::runtime_error{"produce: flush timed out"};
  }

private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

} // namespace eddy::test
