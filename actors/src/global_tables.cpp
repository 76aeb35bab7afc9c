#include "global_tables.hpp"

#include <chrono>
#include <vector>

#include <eddy/log.hpp>

namespace eddy::detail {

namespace {

using clock = std::chrono::steady_clock;

} // namespace

global_table_reader::global_table_reader(runtime& rt,
                                         std::unique_ptr<RdKafka::KafkaConsumer> consumer,
                                         std::map<std::string, int> partitions)
  : rt_(rt),
    consumer_(std::move(consumer)),
    fetch_(*consumer_),
    partitions_(std::move(partitions)) {}

global_table_reader::~global_table_reader() {
  running_ = false;
  if (follower_.joinable())
    follower_.join();
  if (consumer_)
    consumer_->close();
  commit_stores();
}

expected<void> global_table_reader::load(std::chrono::milliseconds timeout) {
  auto started = clock::now();
  std::vector<RdKafka::TopicPartition*> assignment;
  // Per (topic, partition): the end to reach before the tables count as loaded.
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> ends;
  std::int64_t total = 0;
  for (auto& [topic, table] : rt_.global_tables) {
    auto path = rt_.state_dir + "/global-" + topic + ".db";
    auto opened = state_store::open(path);
    if (!opened) {
      RdKafka::TopicPartition::destroy(assignment);
      return opened.error_value();
    }
    if (opened->recovered_from_corruption())
      logger().warn("global table store rebuilt from offset 0 path={}", path);
    {
      std::lock_guard<std::mutex> guard{table->mtx};
      table->store.emplace(std::move(*opened));
    }
    for (std::int32_t p = 0; p < partitions_[topic]; ++p) {
      std::int64_t low = 0, high = 0;
      consumer_->query_watermark_offsets(topic, p, &low, &high, 10000);
      auto next = std::max(table->store->checkpoint(topic, p).value_or(0), low);
      assignment.push_back(RdKafka::TopicPartition::create(topic, p, next));
      if (next < high) {
        ends[{topic, p}] = high;
        total += high - next;
      }
    }
  }
  consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  logger().info("loading global tables service={} tables={} records={}", rt_.service_name,
                rt_.global_tables.size(), total);
  std::int64_t loaded = 0;
  auto last_progress = clock::now();
  auto last_report = clock::now();
  while (!ends.empty()) {
    if (clock::now() - last_progress > timeout) {
      commit_stores();
      return error{errc::topic_error, "global table '" + ends.begin()->first.first + "' ["
                                        + std::to_string(ends.begin()->first.second)
                                        + "] did not reach its end within "
                                        + std::to_string(timeout.count()) + " ms"};
    }
    auto m = fetch_.consume(200);
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      // Done with a partition once its position (past markers) reaches the end.
      auto position = fetch_.position(m->topic_name(), m->partition());
      if (auto i = ends.find({m->topic_name(), m->partition()});
          i != ends.end() && position >= i->second)
        ends.erase(i);
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR)
      continue;
    last_progress = clock::now();
    apply(*m);
    ++loaded;
    if (auto i = ends.find({m->topic_name(), m->partition()});
        i != ends.end() && m->offset() + 1 >= i->second)
      ends.erase(i);
    if (loaded % 10000 == 0)
      commit_stores();
    if (clock::now() - last_report > std::chrono::seconds{1}) {
      logger().info("loading global tables service={} done={}/{}", rt_.service_name, loaded,
                    total);
      last_report = clock::now();
    }
  }
  commit_stores();
  auto seconds = std::chrono::duration<double>(clock::now() - started).count();
  logger().info("global tables loaded service={} records={} seconds={:.2f}", rt_.service_name,
                loaded, seconds);
  return {};
}

void global_table_reader::start() {
  running_ = true;
  follower_ = std::thread{[this] {
    auto last_commit = clock::now();
    while (running_.load()) {
      auto m = fetch_.consume(100);
      if (m->err() == RdKafka::ERR_NO_ERROR)
        apply(*m);
      if (clock::now() - last_commit > std::chrono::seconds{1}) {
        commit_stores();
        last_commit = clock::now();
      }
    }
  }};
}

void global_table_reader::apply(RdKafka::Message& message) {
  auto i = rt_.global_tables.find(message.topic_name());
  if (i == rt_.global_tables.end())
    return;
  auto& table = *i->second;
  record r;
  r.topic = message.topic_name();
  r.partition = message.partition();
  r.offset = message.offset();
  r.timestamp_ms = message.timestamp().timestamp;
  r.key_null = message.key_pointer() == nullptr;
  if (message.key())
    r.key = *message.key();
  r.value_null = message.payload() == nullptr;
  r.value.assign(static_cast<const char*>(message.payload()), message.len());
  {
    std::lock_guard<std::mutex> guard{table.mtx};
    if (r.is_tombstone())
      table.store->erase(r.key);
    else
      table.store->put(r.key, r.value);
    table.store->set_checkpoint(r.topic, r.partition, r.offset + 1);
  }
  if (!table.on_change)
    return;
  try {
    table.on_change(r);
  } catch (const std::exception& e) {
    logger().warn("table listener failed service={} table={} error=\"{}\"", rt_.service_name,
                  r.topic, e.what());
  }
}

void global_table_reader::commit_stores() {
  for (auto& [topic, table] : rt_.global_tables) {
    std::lock_guard<std::mutex> guard{table->mtx};
    if (!table->store)
      continue;
    if (auto saved = table->store->commit(); !saved)
      logger().error("global table store commit failed service={} table={} error=\"{}\"",
                     rt_.service_name, topic, saved.error_value().what());
  }
}

} // namespace eddy::detail
