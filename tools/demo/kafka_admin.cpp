#include "kafka_admin.hpp"

#include <eddy/internal/admin_request.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <eddy/config.hpp>

namespace shop_demo {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds request_timeout{15000};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error{what};
}

/// The partition count of every topic the cluster has, from one metadata request.
std::map<std::string, int> partition_counts(RdKafka::Handle& handle) {
  RdKafka::Metadata* raw = nullptr;
  auto err = handle.metadata(true, nullptr, &raw, static_cast<int>(request_timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md{raw};
  if (err != RdKafka::ERR_NO_ERROR)
    fail("metadata: " + RdKafka::err2str(err));
  std::map<std::string, int> counts;
  for (auto* topic : *md->topics())
    if (topic->err() == RdKafka::ERR_NO_ERROR)
      counts[topic->topic()] = static_cast<int>(topic->partitions()->size());
  return counts;
}

/// The end offset of `topic`[`partition`]. Retries while the partition has no leader yet
/// (a topic just created), for at most `request_timeout`.
std::int64_t end_offset(RdKafka::Handle& handle, const std::string& topic,
                        std::int32_t partition) {
  auto deadline = std::chrono::steady_clock::now() + request_timeout;
  for (;;) {
    std::int64_t low = 0, high = 0;
    auto err = handle.query_watermark_offsets(topic, partition, &low, &high,
                                              static_cast<int>(request_timeout.count()));
    if (err == RdKafka::ERR_NO_ERROR)
      return high;
    bool settling = err == RdKafka::ERR_NOT_LEADER_FOR_PARTITION
                    || err == RdKafka::ERR_LEADER_NOT_AVAILABLE
                    || err == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART;
    if (!settling || std::chrono::steady_clock::now() >= deadline)
      fail("end offset of " + topic + "[" + std::to_string(partition)
           + "]: " + RdKafka::err2str(err));
    std::this_thread::sleep_for(milliseconds{100});
  }
}

/// The demo's own clients log only errors: librdkafka's warnings while a fresh broker
/// loads its coordinators are retried and would only clutter the terminal.
eddy::config client_config(const std::string& bootstrap) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap).set("log_level", "3");
  return cfg;
}

} // namespace

/// Counts failed deliveries and keeps the first reason.
struct kafka_admin::delivery_counter : RdKafka::DeliveryReportCb {
  std::atomic<std::int64_t> failed{0};
  std::mutex mtx;
  std::string first_error;

  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR)
      return;
    if (failed.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> guard{mtx};
      first_error = message.topic_name() + ": " + message.errstr();
    }
  }
};

kafka_admin::kafka_admin(std::string bootstrap, milliseconds timeout)
  : bootstrap_(std::move(bootstrap)),
    deliveries_(std::make_unique<delivery_counter>()) {
  auto conf = eddy::internal::make_conf(client_config(bootstrap_), eddy::client_kind::producer);
  if (!conf)
    fail(conf.error_value().what());
  std::string reason;
  (*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(deliveries_.get()), reason);
  auto producer = eddy::internal::make_producer(**conf);
  if (!producer)
    fail(producer.error_value().what());
  producer_ = std::move(*producer);
  if (auto up = eddy::internal::wait_for_cluster(*producer_, timeout); !up)
    fail(up.error_value().message);
}

kafka_admin::~kafka_admin() {
  producer_->flush(5000);
}

void kafka_admin::create_topics(const std::vector<eddy::internal::topic_spec>& topics) {
  if (auto created = eddy::internal::ensure_topics(*producer_, topics, request_timeout);
      !created)
    fail(created.error_value().message);
}

std::vector<std::string> kafka_admin::topic_names() {
  std::vector<std::string> names;
  for (auto& [name, partitions] : partition_counts(*producer_))
    names.push_back(name);
  return names;
}

void kafka_admin::start_group_at_end(const std::string& group,
                                     const std::vector<std::string>& topics) {
  auto counts = partition_counts(*producer_);
  std::vector<RdKafka::TopicPartition*> offsets;
  struct release {
    std::vector<RdKafka::TopicPartition*>& list;
    ~release() { RdKafka::TopicPartition::destroy(list); }
  } released{offsets};
  for (auto& topic : topics) {
    auto count = counts.find(topic);
    if (count == counts.end())
      continue;
    for (std::int32_t p = 0; p < count->second; ++p) {
      auto end = end_offset(*producer_, topic, p);
      offsets.push_back(RdKafka::TopicPartition::create(topic, p, end));
    }
  }
  if (offsets.empty())
    return;
  auto cfg = client_config(bootstrap_);
  cfg.set("group.id", group);
  auto conf = eddy::internal::make_conf(cfg, eddy::client_kind::consumer);
  if (!conf)
    fail(conf.error_value().what());
  auto consumer = eddy::internal::make_consumer(**conf);
  if (!consumer)
    fail(consumer.error_value().what());
  // A consumer that never subscribes commits as a "simple" client, which the coordinator
  // accepts for a group without members.
  auto err = (*consumer)->commitSync(offsets);
  (*consumer)->close();
  if (err != RdKafka::ERR_NO_ERROR)
    fail("committing start offsets for group " + group + ": " + RdKafka::err2str(err));
  for (auto* tp : offsets)
    if (tp->err() != RdKafka::ERR_NO_ERROR)
      fail("committing the start offset of " + tp->topic() + "["
           + std::to_string(tp->partition()) + "] for group " + group + ": "
           + RdKafka::err2str(tp->err()));
}

group_view kafka_admin::describe_group(const std::string& group) {
  eddy::internal::admin_request request{*producer_, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS,
                                        request_timeout};
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(request.client(), groups, 1, request.options(),
                                  request.queue());
  auto* event = request.wait();
  if (event == nullptr)
    fail("no answer describing group " + group);
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR)
    fail("describing group " + group + ": " + rd_kafka_event_error_string(event));
  auto* result = rd_kafka_event_DescribeConsumerGroups_result(event);
  size_t count = 0;
  auto** descriptions = rd_kafka_DescribeConsumerGroups_result_groups(result, &count);
  if (count != 1)
    fail("describing group " + group + ": no description");
  auto* description = descriptions[0];
  if (auto* error = rd_kafka_ConsumerGroupDescription_error(description))
    fail("describing group " + group + ": " + rd_kafka_error_string(error));
  group_view view;
  auto state = rd_kafka_ConsumerGroupDescription_state(description);
  view.state = rd_kafka_consumer_group_state_name(state);
  view.stable = state == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE;
  auto members = rd_kafka_ConsumerGroupDescription_member_count(description);
  view.members = static_cast<int>(members);
  for (size_t i = 0; i < members; ++i) {
    auto* member = rd_kafka_ConsumerGroupDescription_member(description, i);
    auto* assignment = rd_kafka_MemberDescription_assignment(member);
    auto* partitions = assignment ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
    if (partitions == nullptr || partitions->cnt == 0)
      continue;
    ++view.members_with_partitions;
    for (int j = 0; j < partitions->cnt; ++j)
      view.assigned[partitions->elems[j].topic].insert(partitions->elems[j].partition);
  }
  return view;
}

std::map<std::int32_t, std::int64_t> kafka_admin::end_offsets(const std::string& topic) {
  auto counts = partition_counts(*producer_);
  auto count = counts.find(topic);
  if (count == counts.end())
    fail("topic " + topic + " does not exist");
  std::map<std::int32_t, std::int64_t> offsets;
  for (std::int32_t p = 0; p < count->second; ++p)
    offsets[p] = end_offset(*producer_, topic, p);
  return offsets;
}

std::set<std::string> kafka_admin::find_keys(const std::string& topic, const std::string& group,
                                             const std::map<std::int32_t, std::int64_t>& from,
                                             const std::set<std::string>& keys,
                                             milliseconds timeout) {
  auto cfg = client_config(bootstrap_);
  cfg.set("group.id", group);
  auto conf = eddy::internal::make_conf(cfg, eddy::client_kind::consumer);
  if (!conf)
    fail(conf.error_value().what());
  auto consumer = eddy::internal::make_consumer(**conf);
  if (!consumer)
    fail(consumer.error_value().what());
  std::vector<RdKafka::TopicPartition*> assignment;
  for (auto& [partition, offset] : from)
    assignment.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  (*consumer)->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  std::set<std::string> found;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (found.size() < keys.size() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message{(*consumer)->consume(100)};
    if (message->err() == RdKafka::ERR_NO_ERROR && message->key() != nullptr
        && keys.count(*message->key()) != 0)
      found.insert(*message->key());
  }
  (*consumer)->close();
  return found;
}

void kafka_admin::send(const eddy::record& rec) {
  for (;;) {
    auto* headers = RdKafka::Headers::create();
    for (auto& [name, value] : rec.headers)
      headers->add(name, value);
    auto err =
      producer_->produce(rec.topic, RdKafka::Topic::PARTITION_UA,
                         RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(rec.value.data()),
                         rec.value.size(), rec.key.data(), rec.key.size(), 0, headers, nullptr);
    if (err == RdKafka::ERR_NO_ERROR) {
      producer_->poll(0);
      return;
    }
    delete headers;
    if (err != RdKafka::ERR__QUEUE_FULL)
      fail("producing to " + rec.topic + ": " + RdKafka::err2str(err));
    producer_->poll(10);
  }
}

void kafka_admin::flush(milliseconds timeout) {
  if (producer_->flush(static_cast<int>(timeout.count())) != RdKafka::ERR_NO_ERROR)
    fail("the broker did not acknowledge every record within " + std::to_string(timeout.count())
         + " ms");
  if (deliveries_->failed > 0) {
    std::lock_guard<std::mutex> guard{deliveries_->mtx};
    fail(std::to_string(deliveries_->failed.load()) + " record(s) not delivered, the first to "
         + deliveries_->first_error);
  }
}

std::int64_t kafka_admin::failed_deliveries() const {
  return deliveries_->failed.load();
}

} // namespace shop_demo
