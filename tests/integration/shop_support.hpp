#pragma once

// Helpers of the shop's integration tests: producing typed events the way generated code
// does (with a chosen record time), following a topic from its end, and running a shop
// service in-process with a group and a state folder of its own.
//
// The shop's topics are fixed by its schemas and shared with other runs, so tests give
// their orders and customers ids unique to the run and read only those.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/codegen/runtime.hpp>
#include <eddy/config.hpp>
#include <eddy/record.hpp>

#include "kafka_fixture.hpp"

namespace shop::test {

/// Produces Protobuf events as generated code does: the `eddy.type` header and murmur2
/// partitioning of the key, like Eddy's producers.
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
    auto err = producer_->produce(rec.topic, RdKafka::Topic::PARTITION_UA,
                                  RdKafka::Producer::RK_MSG_COPY, rec.value.data(),
                                  rec.value.size(), rec.key.data(), rec.key.size(),
                                  timestamp_ms, headers, nullptr);
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

/// Reads a topic from where it ended when the tail was created: every record written
/// after, kept in arrival order (per partition: offset order). The topic must exist.
class topic_tail {
public:
  topic_tail(const std::string& bootstrap, const std::string& topic, int partitions) {
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    std::string reason;
    if (conf->set("bootstrap.servers", bootstrap, reason) != RdKafka::Conf::CONF_OK
        || conf->set("group.id", eddy::test::unique_name("shop-tail"), reason)
             != RdKafka::Conf::CONF_OK
        || conf->set("enable.auto.commit", "false", reason) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error{reason};
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), reason));
    if (!consumer_)
      throw std::runtime_error{reason};
    // Explicit end offsets, not OFFSET_END, which would be resolved only when fetching
    // starts and so could skip records written in between.
    std::vector<RdKafka::TopicPartition*> assignment;
    for (int p = 0; p < partitions; ++p) {
      std::int64_t low = 0, high = 0;
      auto err = consumer_->query_watermark_offsets(topic, p, &low, &high, 10000);
      if (err != RdKafka::ERR_NO_ERROR)
        throw std::runtime_error{"watermarks of " + topic + ": " + RdKafka::err2str(err)};
      assignment.push_back(RdKafka::TopicPartition::create(topic, p, high));
    }
    consumer_->assign(assignment);
    RdKafka::TopicPartition::destroy(assignment);
  }

  ~topic_tail() {
    consumer_->close();
  }

  /// Reads until `done(records())` holds or `timeout` passes; returns whether it holds.
  bool read_until(const std::function<bool(const std::vector<eddy::record>&)>& done,
                  std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(records_)) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::unique_ptr<RdKafka::Message> m{consumer_->consume(100)};
      if (m->err() != RdKafka::ERR_NO_ERROR)
        continue;
      eddy::record r;
      r.topic = m->topic_name();
      r.partition = m->partition();
      r.offset = m->offset();
      r.timestamp_ms = m->timestamp().timestamp;
      if (m->key())
        r.key = *m->key();
      r.value.assign(static_cast<const char*>(m->payload()), m->len());
      if (auto* headers = m->headers())
        for (auto& h : headers->get_all())
          r.headers.emplace_back(h.key(), std::string{static_cast<const char*>(h.value()),
                                                      h.value_size()});
      records_.push_back(std::move(r));
    }
    return true;
  }

  /// Reads whatever comes within `duration`.
  void read_for(std::chrono::milliseconds duration) {
    read_until([](auto&) { return false; }, duration);
  }

  /// Everything read so far.
  const std::vector<eddy::record>& records() const noexcept {
    return records_;
  }

private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<eddy::record> records_;
};

/// Decodes the records of `records` of type `Event` for which `ours(event)` holds.
template <class Event>
std::vector<Event> events_of(const std::vector<eddy::record>& records,
                             const std::function<bool(const Event&)>& ours) {
  std::vector<Event> result;
  for (auto& rec : records)
    if (eddy::codegen::type_of(rec) == Event::descriptor()->full_name())
      if (auto event = eddy::codegen::decode<Event>(rec); ours(event))
        result.push_back(std::move(event));
  return result;
}

/// The config of a shop service for the run `run`: the local broker, a group and a state
/// folder of its own, and quick commits.
inline eddy::config service_config(const std::string& run, const std::filesystem::path& state_dir) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", eddy::test::broker_bootstrap())
    .set("group.id", run + "-group")
    .set("eddy.state.dir", state_dir.string())
    .set("eddy.commit.interval.ms", "200");
  return cfg;
}

/// A folder under the system's temporary directory, removed with everything in it when the
/// object goes.
class temp_dir {
public:
  explicit temp_dir(const std::string& name)
    : path_(std::filesystem::temp_directory_path() / name) {
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The folder's path.
  const std::filesystem::path& path() const noexcept {
    return path_;
  }

private:
  std::filesystem::path path_;
};

} // namespace shop::test
