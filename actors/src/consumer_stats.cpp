#include "consumer_stats.hpp"

#include <nlohmann/json.hpp>

#include <eddy/internal/kafka.hpp>

namespace eddy::detail {

void consumer_stats::event_cb(RdKafka::Event& event) {
  if (event.type() == RdKafka::Event::EVENT_STATS)
    apply(event.str());
  else
    internal::log_event(event);
}

consumer_stats::lag_map consumer_stats::lag() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lag_;
}

void consumer_stats::apply(const std::string& report) {
  auto parsed = nlohmann::json::parse(report, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("topics") || !parsed["topics"].is_object())
    return;
  lag_map fresh;
  for (auto& [topic, stats] : parsed["topics"].items()) {
    if (!stats.contains("partitions"))
      continue;
    for (auto& [number, partition] : stats["partitions"].items()) {
      // Partition -1 is librdkafka's internal "unassigned" queue; a lag of -1 is unknown
      // (no position or end offset yet); "none" is a partition this consumer does not fetch.
      auto id = std::stoi(number);
      auto lag = partition.value("consumer_lag", std::int64_t{-1});
      if (id < 0 || lag < 0 || partition.value("fetch_state", "none") == "none")
        continue;
      fresh[{topic, id}] = lag;
    }
  }
  std::lock_guard<std::mutex> guard{mtx_};
  lag_ = std::move(fresh);
}

} // namespace eddy::detail
