#include <eddy/internal/kafka.hpp>

#include <eddy/internal/admin_request.hpp>

#include <memory>
#include <sstream>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <eddy/log.hpp>

namespace eddy::internal {

namespace {

using clock = std::chrono::steady_clock;

spdlog::level::level_enum level_of(RdKafka::Event::Severity severity) {
  switch (severity) {
  case RdKafka::Event::EVENT_SEVERITY_EMERG:
  case RdKafka::Event::EVENT_SEVERITY_ALERT:
  case RdKafka::Event::EVENT_SEVERITY_CRITICAL:
    return spdlog::level::critical;
  case RdKafka::Event::EVENT_SEVERITY_ERROR:
    return spdlog::level::err;
  case RdKafka::Event::EVENT_SEVERITY_WARNING:
    return spdlog::level::warn;
  case RdKafka::Event::EVENT_SEVERITY_NOTICE:
  case RdKafka::Event::EVENT_SEVERITY_INFO:
    return spdlog::level::info;
  default:
    return spdlog::level::debug;
  }
}

/// Sends librdkafka's log lines and client errors through Eddy's structured log.
class log_bridge : public RdKafka::EventCb {
public:
  void event_cb(RdKafka::Event& event) override { log_event(event); }
};

log_bridge bridge;

/// Eddy's defaults per client, applied before the user's properties so those win.
std::vector<std::pair<std::string, std::string>> defaults(client_kind kind) {
  if (kind == client_kind::consumer)
    return {{"enable.auto.commit", "false"},
            {"enable.auto.offset.store", "false"},
            {"auto.offset.reset", "earliest"},
            {"partition.assignment.strategy", "cooperative-sticky"},
            {"queued.max.messages.kbytes", "16384"},
            {"log_level", "4"}};
  // murmur2_random partitions keyed records as Kafka's Java clients do, so Eddy services
  // and Java services agree on which partition owns a key.
  return {{"enable.idempotence", "true"},
          {"acks", "all"},
          {"partitioner", "murmur2_random"},
          {"linger.ms", "5"},
          {"log_level", "4"}};
}

} // namespace

void log_event(RdKafka::Event& event) {
  switch (event.type()) {
  case RdKafka::Event::EVENT_LOG:
    logger().log(level_of(event.severity()), "librdkafka facility={} {}", event.fac(),
                 event.str());
    break;
  case RdKafka::Event::EVENT_ERROR:
    logger().log(event.fatal() ? spdlog::level::critical : spdlog::level::warn,
                 "librdkafka error=\"{}\" {}", RdKafka::err2str(event.err()), event.str());
    break;
  default:
    break;
  }
}

expected<std::unique_ptr<RdKafka::Conf>> make_conf(const config& cfg, client_kind kind) {
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  std::string reason;
  for (auto& [key, value] : defaults(kind))
    if (conf->set(key, value, reason) != RdKafka::Conf::CONF_OK)
      return error{errc::invalid_config, "default '" + key + "': " + reason};
  for (auto& [key, value] : cfg.kafka_properties(kind))
    if (conf->set(key, value, reason) != RdKafka::Conf::CONF_OK)
      return error{errc::invalid_config,
                   "librdkafka property '" + key + "' = '" + value + "': " + reason};
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(&bridge), reason);
  return conf;
}

expected<std::unique_ptr<RdKafka::Producer>> make_producer(RdKafka::Conf& conf) {
  std::string reason;
  std::unique_ptr<RdKafka::Producer> producer{RdKafka::Producer::create(&conf, reason)};
  if (!producer)
    return error{errc::invalid_config, "cannot create producer: " + reason};
  return producer;
}

expected<std::unique_ptr<RdKafka::KafkaConsumer>> make_consumer(RdKafka::Conf& conf) {
  std::string reason;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer{
    RdKafka::KafkaConsumer::create(&conf, reason)};
  if (!consumer)
    return error{errc::invalid_config, "cannot create consumer: " + reason};
  return consumer;
}

expected<void> wait_for_cluster(RdKafka::Handle& handle, std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  RdKafka::ErrorCode last = RdKafka::ERR__TIMED_OUT;
  do {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    RdKafka::Metadata* raw = nullptr;
    last = handle.metadata(true, nullptr, &raw,
                           static_cast<int>(std::max<std::int64_t>(left.count(), 100)));
    std::unique_ptr<RdKafka::Metadata> md{raw};
    if (last == RdKafka::ERR_NO_ERROR && md && !md->brokers()->empty())
      return {};
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  } while (clock::now() < deadline);
  return error{errc::broker_unreachable,
               "no answer from the Kafka cluster within " + std::to_string(timeout.count())
                 + " ms (last error: " + RdKafka::err2str(last) + "); check bootstrap.servers"};
}

expected<int> partition_count(RdKafka::Handle& handle, const std::string& topic,
                              std::chrono::milliseconds timeout) {
  // Metadata for all topics: asking for one topic by name would auto-create it on brokers
  // with auto.create.topics.enable, with the wrong partition count.
  RdKafka::Metadata* raw = nullptr;
  auto err = handle.metadata(true, nullptr, &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md{raw};
  if (err != RdKafka::ERR_NO_ERROR)
    return error{errc::topic_error,
                 "metadata for topic '" + topic + "': " + RdKafka::err2str(err)};
  for (auto* tm : *md->topics()) {
    if (tm->topic() != topic)
      continue;
    if (tm->err() != RdKafka::ERR_NO_ERROR)
      return error{errc::topic_error, "topic '" + topic + "': " + RdKafka::err2str(tm->err())};
    return static_cast<int>(tm->partitions()->size());
  }
  return error{errc::topic_error, "topic '" + topic + "' does not exist"};
}

namespace {

/// Creates `topics` through the admin API; a topic that exists meanwhile is fine.
expected<void> create_topics(RdKafka::Handle& handle,
                             const std::vector<const topic_spec*>& topics,
                             std::chrono::milliseconds timeout) {
  if (topics.empty())
    return {};
  rd_kafka_t* rk = handle.c_ptr();
  char reason[512];
  std::vector<rd_kafka_NewTopic_t*> requests;
  for (auto* spec : topics) {
    requests.push_back(rd_kafka_NewTopic_new(spec->name.c_str(), std::max(spec->partitions, 1),
                                             spec->replication_factor, reason, sizeof reason));
    for (auto& [key, value] : spec->configs)
      rd_kafka_NewTopic_set_config(requests.back(), key.c_str(), value.c_str());
  }
  admin_request request{handle, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout};
  rd_kafka_CreateTopics(rk, requests.data(), requests.size(), request.options(),
                        request.queue());
  rd_kafka_event_t* event = request.wait();
  expected<void> outcome;
  if (event == nullptr) {
    outcome = error{errc::topic_error, "no answer to CreateTopics within "
                                         + std::to_string(timeout.count()) + " ms"};
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE
             && rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    outcome = error{errc::topic_error,
                    std::string{"CreateTopics: "} + rd_kafka_event_error_string(event)};
  } else if (auto* result = rd_kafka_event_CreateTopics_result(event)) {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count && outcome; ++i) {
      auto err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        outcome = error{errc::topic_error, std::string{"cannot create topic '"}
                                             + rd_kafka_topic_result_name(results[i]) + "': "
                                             + rd_kafka_topic_result_error_string(results[i])};
    }
  }
  rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
  return outcome;
}

} // namespace

expected<void> ensure_topics(RdKafka::Handle& handle, const std::vector<topic_spec>& topics,
                             std::chrono::milliseconds timeout) {
  if (topics.empty())
    return {};
  auto deadline = clock::now() + timeout;
  std::vector<const topic_spec*> missing;
  for (auto& spec : topics)
    if (!partition_count(handle, spec.name, timeout))
      missing.push_back(&spec);
  if (auto created = create_topics(handle, missing, timeout); !created)
    return created;
  // Creation is asynchronous on the broker: wait until each topic shows up with the
  // partition count the service relies on for co-partitioning.
  for (auto& spec : topics) {
    while (true) {
      auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      auto count =
        partition_count(handle, spec.name, std::max(left, std::chrono::milliseconds{500}));
      if (count && spec.partitions > 0 && *count != spec.partitions)
        return error{errc::topic_error,
                     "topic '" + spec.name + "' has " + std::to_string(*count)
                       + " partitions, the service needs " + std::to_string(spec.partitions)};
      if (count)
        break;
      if (clock::now() >= deadline)
        return count.error_value();
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  return {};
}

expected<std::map<std::string, std::string>>
describe_topic_configs(RdKafka::Handle& handle, const std::string& topic,
                       std::chrono::milliseconds timeout) {
  std::unique_ptr<rd_kafka_ConfigResource_t, void (*)(rd_kafka_ConfigResource_t*)> resource{
    rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()),
    rd_kafka_ConfigResource_destroy};
  admin_request request{handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout};
  auto* resources_asked = resource.get();
  rd_kafka_DescribeConfigs(request.client(), &resources_asked, 1, request.options(),
                           request.queue());
  rd_kafka_event_t* event = request.wait();
  auto failure = [&](const std::string& why) {
    return error{errc::topic_error, "DescribeConfigs of topic '" + topic + "': " + why};
  };
  expected<std::map<std::string, std::string>> outcome = failure("no resource in the answer");
  if (event == nullptr) {
    outcome = failure("no answer within " + std::to_string(timeout.count()) + " ms");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    outcome = failure(rd_kafka_event_error_string(event));
  } else if (auto* result = rd_kafka_event_DescribeConfigs_result(event)) {
    size_t count = 0;
    auto** resources = rd_kafka_DescribeConfigs_result_resources(result, &count);
    for (size_t r = 0; r < count; ++r) {
      if (rd_kafka_ConfigResource_error(resources[r]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        outcome = failure(rd_kafka_ConfigResource_error_string(resources[r]));
        break;
      }
      std::map<std::string, std::string> configs;
      size_t entries = 0;
      auto** found = rd_kafka_ConfigResource_configs(resources[r], &entries);
      for (size_t i = 0; i < entries; ++i) {
        auto* value = rd_kafka_ConfigEntry_value(found[i]);
        configs[rd_kafka_ConfigEntry_name(found[i])] = value ? value : "";
      }
      outcome = std::move(configs);
    }
  }
  return outcome;
}

std::optional<std::string> history_loss(const std::map<std::string, std::string>& configs) {
  std::vector<std::string> reasons;
  auto policy = configs.find("cleanup.policy");
  if (policy == configs.end())
    return "cleanup.policy is not reported by the broker";
  bool deletes = false;
  std::istringstream policies{policy->second};
  for (std::string item; std::getline(policies, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item == "compact")
      reasons.push_back("cleanup.policy=" + policy->second
                        + " (compaction keeps only the latest record per key)");
    else if (item == "delete")
      deletes = true;
  }
  if (deletes)
    for (const char* limit : {"retention.ms", "retention.bytes"}) {
      auto setting = configs.find(limit);
      if (setting == configs.end()) {
        reasons.push_back(std::string{limit} + " is not reported by the broker");
        continue;
      }
      bool unlimited = false;
      try {
        unlimited = std::stoll(setting->second) < 0;
      } catch (const std::exception&) {
      }
      if (!unlimited)
        reasons.push_back(std::string{limit} + "=" + setting->second
                          + " (cleanup.policy=" + policy->second + " removes older records)");
    }
  if (reasons.empty())
    return std::nullopt;
  std::string joined;
  for (auto& r : reasons)
    joined += (joined.empty() ? "" : ", ") + r;
  return joined;
}

} // namespace eddy::internal
