#pragma once

// Helpers of the shop's integration tests: following a topic from its end, decoding the
// events of a run, creating a service's topics before it runs, starting its group at their
// end, waiting for table rows, and running a shop service in-process with a group and a
// state folder of its own. Typed events are produced with eddy::test::event_producer.
//
// The shop's topics are fixed by its schemas and shared with other runs, so tests give
// their orders and customers ids unique to the run and read only those.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/codegen/runtime.hpp>
#include <eddy/config.hpp>
#include <eddy/record.hpp>
#include <eddy/service.hpp>

#include "event_producer.hpp"
#include "kafka_fixture.hpp"

namespace shop::test {

/// Reads a topic from where it ended when the tail was created: every record written
/// after, kept in arrival order (per partition: offset order). The topic must exist. With
/// `read_committed`, records of aborted or open transactions are skipped.
class topic_tail {
public:
  topic_tail(const std::string& bootstrap, const std::string& topic, int partitions,
             bool read_committed = false) {
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    std::string reason;
    if (conf->set("bootstrap.servers", bootstrap, reason) != RdKafka::Conf::CONF_OK
        || conf->set("group.id", eddy::test::unique_name("shop-tail"), reason)
             != RdKafka::Conf::CONF_OK
        || conf->set("enable.auto.commit", "false", reason) != RdKafka::Conf::CONF_OK
        || conf->set("isolation.level", read_committed ? "read_committed" : "read_uncommitted",
                     reason)
             != RdKafka::Conf::CONF_OK)
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

  ~topic_tail() { consumer_->close(); }

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
          r.headers.emplace_back(
            h.key(), std::string{static_cast<const char*>(h.value()), h.value_size()});
      records_.push_back(std::move(r));
    }
    return true;
  }

  /// Reads whatever comes within `duration`.
  void read_for(std::chrono::milliseconds duration) {
    read_until([](auto&) { return false; }, duration);
  }

  /// Everything read so far.
  const std::vector<eddy::record>& records() const noexcept { return records_; }

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

/// Creates the topics of `Metadata` (a generated service's metadata) that have a partition
/// count, as the service's `bind()` would: compacted ones compacted, the journal keeping
/// every event. For tests that read them before the service first ran.
template <class Metadata>
void create_topics() {
  for (auto& t : Metadata::topics) {
    std::map<std::string, std::string> configs;
    if (t.compacted)
      configs["cleanup.policy"] = "compact";
    if (t.name == Metadata::journal)
      configs.insert({{"retention.ms", "-1"}, {"retention.bytes", "-1"}});
    if (t.partitions > 0)
      eddy::test::create_topic(eddy::test::broker_bootstrap(), std::string{t.name},
                               t.partitions, configs);
  }
}

/// Creates the topics of `Metadata` like create_topics(), and makes the consumer group
/// `group` start at the current end of those the service consumes: it then skips what
/// other runs left on the shared topics.
template <class Metadata>
void start_at_end(const std::string& group) {
  create_topics<Metadata>();
  for (auto& t : Metadata::topics)
    if (t.consumed && t.partitions > 0)
      eddy::test::commit_end_offsets(eddy::test::broker_bootstrap(), group, std::string{t.name},
                                     t.partitions);
}

/// Waits until the table of `topic` in `svc` holds a row for each of `keys` (all of whose
/// partitions `svc` must own); returns whether it did within `timeout`.
inline bool wait_for_rows(const eddy::service& svc, const std::string& topic,
                          const std::vector<std::string>& keys,
                          std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
  return eddy::test::eventually(
    [&] {
      for (auto& key : keys) {
        auto row = svc.lookup(topic, key);
        if (!row || !*row)
          return false;
      }
      return true;
    },
    timeout);
}

/// The config of a shop service for the run `run`: the local broker, a group and a state
/// folder of its own, and quick commits.
inline eddy::config service_config(const std::string& run,
                                   const std::filesystem::path& state_dir) {
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
    : path_(std::filesystem::temp_directory_path() / name) {}
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The folder's path.
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

} // namespace shop::test
