#include "kafka_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <eddy/internal/kafka.hpp>

namespace eddy::test {

namespace {

std::unique_ptr<RdKafka::Conf> conf_for(const std::string& bootstrap) {
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  std::string reason;
  conf->set("bootstrap.servers", bootstrap, reason);
  conf->set("log_level", "3", reason);
  return conf;
}

} // namespace

std::string broker_bootstrap() {
  if (const char* env = std::getenv("EDDY_KAFKA_BOOTSTRAP_SERVERS"))
    return env;
  std::string path = std::string{EDDY_KAFKA_DIR} + "/bootstrap";
  if (const char* dir = std::getenv("EDDY_KAFKA_DIR"))
    path = std::string{dir} + "/bootstrap";
  std::ifstream in{path};
  std::string bootstrap;
  if (!(in >> bootstrap))
    throw std::runtime_error{"no local Kafka broker (" + path
                             + " missing): start one with tools/kafka/kafka-local start"};
  return bootstrap;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-"
         + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000)
         + "-" + std::to_string(++counter);
}

void create_topic(const std::string& bootstrap, const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& configs) {
  auto conf = conf_for(bootstrap);
  std::string reason;
  std::unique_ptr<RdKafka::Producer> producer{RdKafka::Producer::create(conf.get(), reason)};
  if (!producer)
    throw std::runtime_error{reason};
  auto created = internal::ensure_topics(*producer, {{topic, partitions, 1, configs}},
                                         std::chrono::seconds{30});
  if (!created)
    throw std::runtime_error{created.error_value().what()};
}

struct test_producer::impl : RdKafka::DeliveryReportCb {
  std::unique_ptr<RdKafka::Producer> producer;
  std::atomic<std::int64_t> failures{0};

  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR)
      ++failures;
  }
};

test_producer::test_producer(const std::string& bootstrap)
  : impl_(std::make_unique<impl>()) {
  auto conf = conf_for(bootstrap);
  std::string reason;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(impl_.get()), reason);
  conf->set("enable.idempotence", "true", reason); // retries must not reorder test data
  conf->set("linger.ms", "20", reason);
  conf->set("batch.num.messages", "10000", reason);
  conf->set("partitioner", "murmur2_random", reason);
  conf->set("queue.buffering.max.messages", "1000000", reason);
  impl_->producer.reset(RdKafka::Producer::create(conf.get(), reason));
  if (!impl_->producer)
    throw std::runtime_error{reason};
}

test_producer::~test_producer() {
  impl_->producer->flush(10000);
}

void test_producer::send(const std::string& topic, const std::string& key,
                         const std::string& value) {
  while (true) {
    auto err =
      impl_->producer->produce(topic, RdKafka::Topic::PARTITION_UA,
                               RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                               value.size(), key.data(), key.size(), 0, nullptr, nullptr);
    if (err == RdKafka::ERR_NO_ERROR)
      break;
    if (err != RdKafka::ERR__QUEUE_FULL)
      throw std::runtime_error{"produce: " + RdKafka::err2str(err)};
    impl_->producer->poll(10);
  }
  impl_->producer->poll(0);
}

void test_producer::send(const record& r) {
  while (true) {
    RdKafka::Headers* headers = nullptr;
    if (!r.headers.empty()) {
      headers = RdKafka::Headers::create();
      for (auto& [name, bytes] : r.headers)
        headers->add(name, bytes.data(), bytes.size());
    }
    auto err = impl_->producer->produce(
      r.topic, r.partition < 0 ? RdKafka::Topic::PARTITION_UA : r.partition,
      RdKafka::Producer::RK_MSG_COPY,
      r.value_null ? nullptr : const_cast<char*>(r.value.data()), r.value.size(),
      r.key_null ? nullptr : r.key.data(), r.key.size(), 0, headers, nullptr);
    if (err == RdKafka::ERR_NO_ERROR)
      break;
    delete headers;
    if (err != RdKafka::ERR__QUEUE_FULL)
      throw std::runtime_error{"produce: " + RdKafka::err2str(err)};
    impl_->producer->poll(10);
  }
  impl_->producer->poll(0);
}

void test_producer::flush() {
  if (impl_->producer->flush(60000) != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error{"produce: flush timed out"};
  if (impl_->failures > 0)
    throw std::runtime_error{"produce: " + std::to_string(impl_->failures.load())
                             + " deliveries failed"};
}

void produce(const std::string& bootstrap, const std::string& topic, std::int64_t count,
             const std::function<std::string(std::int64_t)>& key_of,
             const std::function<std::string(std::int64_t)>& value_of, std::int64_t first) {
  test_producer producer{bootstrap};
  for (std::int64_t i = first; i < first + count; ++i)
    producer.send(topic, key_of(i), value_of(i));
  producer.flush();
}

std::vector<record> consume(const std::string& bootstrap, const std::string& topic,
                            std::int64_t expected, std::chrono::milliseconds idle_timeout,
                            bool read_committed) {
  auto conf = conf_for(bootstrap);
  std::string reason;
  conf->set("group.id", unique_name("eddy-test-reader"), reason);
  conf->set("auto.offset.reset", "earliest", reason);
  conf->set("enable.auto.commit", "false", reason);
  conf->set("isolation.level", read_committed ? "read_committed" : "read_uncommitted", reason);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer{
    RdKafka::KafkaConsumer::create(conf.get(), reason)};
  if (!consumer)
    throw std::runtime_error{reason};
  // Assign every partition from the beginning: no group join, so reading starts at once.
  auto partitions = internal::partition_count(*consumer, topic, std::chrono::seconds{10});
  if (!partitions)
    throw std::runtime_error{partitions.error_value().what()};
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int p = 0; p < *partitions; ++p)
    assignment.push_back(
      RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  std::vector<record> result;
  // The consumer's position skips transaction markers, which also take offsets.
  auto at_end = [&] {
    std::vector<RdKafka::TopicPartition*> positions;
    for (int p = 0; p < *partitions; ++p)
      positions.push_back(RdKafka::TopicPartition::create(topic, p));
    consumer->position(positions);
    bool done = true;
    for (auto* tp : positions) {
      std::int64_t low = 0, high = 0;
      consumer->query_watermark_offsets(topic, tp->partition(), &low, &high, 5000);
      done = done && (high <= low || tp->offset() >= high);
    }
    RdKafka::TopicPartition::destroy(positions);
    return done;
  };
  auto last_progress = std::chrono::steady_clock::now();
  // The first fetch of a new consumer can take long on a loaded machine with a fresh
  // broker: until a record arrives, wait at least 30 s before calling the topic idle.
  auto patience = [&] {
    return result.empty()
             ? std::max<std::chrono::milliseconds>(idle_timeout, std::chrono::seconds{30})
             : idle_timeout;
  };
  while (std::chrono::steady_clock::now() - last_progress < patience()) {
    std::unique_ptr<RdKafka::Message> m{consumer->consume(100)};
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (static_cast<std::int64_t>(result.size()) >= expected && at_end())
        break;
      continue;
    }
    record r;
    r.topic = m->topic_name();
    r.partition = m->partition();
    r.offset = m->offset();
    r.key_null = m->key_pointer() == nullptr;
    if (m->key())
      r.key = *m->key();
    r.value_null = m->payload() == nullptr;
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (auto* headers = m->headers())
      for (auto& h : headers->get_all())
        r.headers.emplace_back(
          h.key(), std::string{static_cast<const char*>(h.value()), h.value_size()});
    result.push_back(std::move(r));
    last_progress = std::chrono::steady_clock::now();
  }
  consumer->close();
  return result;
}

std::string topic_config(const std::string& bootstrap, const std::string& topic,
                         const std::string& key) {
  auto conf = conf_for(bootstrap);
  std::string reason;
  std::unique_ptr<RdKafka::Producer> admin{RdKafka::Producer::create(conf.get(), reason)};
  auto configs =
    eddy::internal::describe_topic_configs(*admin, topic, std::chrono::seconds{15});
  if (!configs)
    throw std::runtime_error{configs.error_value().message};
  auto found = configs->find(key);
  if (found == configs->end())
    throw std::runtime_error{"no config '" + key + "' for topic '" + topic + "'"};
  return found->second;
}

std::int64_t committed_total(const std::string& bootstrap, const std::string& group,
                             const std::string& topic, int partitions) {
  auto conf = conf_for(bootstrap);
  std::string reason;
  conf->set("group.id", group, reason);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer{
    RdKafka::KafkaConsumer::create(conf.get(), reason)};
  std::vector<RdKafka::TopicPartition*> list;
  for (int p = 0; p < partitions; ++p)
    list.push_back(RdKafka::TopicPartition::create(topic, p));
  // The group coordinator may be moving or loading (a fresh broker): ask again briefly.
  auto err = consumer->committed(list, 10000);
  for (int attempt = 0;
       attempt < 20
       && (err == RdKafka::ERR_NOT_COORDINATOR
           || err == RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS
           || err == RdKafka::ERR_COORDINATOR_NOT_AVAILABLE || err == RdKafka::ERR__TIMED_OUT);
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds{250});
    err = consumer->committed(list, 10000);
  }
  std::int64_t total = 0;
  for (auto* tp : list)
    if (tp->offset() >= 0)
      total += tp->offset();
  RdKafka::TopicPartition::destroy(list);
  consumer->close();
  if (err != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error{"committed: " + RdKafka::err2str(err)};
  return total;
}

void commit_end_offsets(const std::string& bootstrap, const std::string& group,
                        const std::string& topic, int partitions) {
  auto conf = conf_for(bootstrap);
  std::string reason;
  conf->set("group.id", group, reason);
  conf->set("enable.auto.commit", "false", reason);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer{
    RdKafka::KafkaConsumer::create(conf.get(), reason)};
  if (!consumer)
    throw std::runtime_error{reason};
  std::vector<RdKafka::TopicPartition*> ends;
  auto err = RdKafka::ERR_NO_ERROR;
  for (int p = 0; p < partitions && err == RdKafka::ERR_NO_ERROR; ++p) {
    std::int64_t low = 0, high = 0;
    err = consumer->query_watermark_offsets(topic, p, &low, &high, 10000);
    ends.push_back(RdKafka::TopicPartition::create(topic, p, high));
  }
  if (err == RdKafka::ERR_NO_ERROR)
    err = consumer->commitSync(ends);
  RdKafka::TopicPartition::destroy(ends);
  consumer->close();
  if (err != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error{"commit end offsets of " + topic + ": " + RdKafka::err2str(err)};
}

service_thread::service_thread(eddy::service& svc)
  : svc_(svc) {
  thread_ =
    std::thread{[this] { outcome_ = std::make_unique<expected<void>>(svc_.run(false)); }};
}

service_thread::~service_thread() {
  if (thread_.joinable()) {
    svc_.stop();
    thread_.join();
  }
}

eddy::config mock_service_config(const std::string& bootstrap) {
  eddy::config cfg;
  cfg.set("bootstrap.servers", bootstrap)
    .set("eddy.commit.interval.ms", "100")
    .set("eddy.startup.timeout.ms", "5000");
  return cfg;
}

bool service_thread::wait_assigned(std::int64_t partitions, std::chrono::milliseconds timeout) {
  return eventually(
    [&] {
      auto stats = svc_.stats();
      return svc_.state() == service_state::running && stats.assigned_partitions >= partitions
             && stats.partitions_restoring == 0;
    },
    timeout);
}

expected<void> service_thread::stop_and_join() {
  svc_.stop();
  thread_.join();
  return std::move(*outcome_);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return condition();
}

} // namespace eddy::test
