#include "consumer_stats.hpp"

#include <algorithm>

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
      // Partition -1 is librdkafka's internal "unassigned" queue; "none" is a partition this
      // consumer does not fetch. The service's position: past the last record it was handed
      // (app_offset), or where it started (the committed offset) before it read any;
      // negative offsets are librdkafka's "none yet".
      auto id = std::stoi(number);
      if (id < 0 || partition.value("fetch_state", "none") == "none")
        continue;
      auto end = partition.value(read_committed_ ? "ls_offset" : "hi_offset", std::int64_t{-1});
      auto position = std::max(partition.value("app_offset", std::int64_t{-1}),
                               partition.value("committed_offset", std::int64_t{-1}));
      if (end < 0 || position < 0)
        continue;
      fresh[{topic, id}] = std::max<std::int64_t>(end - position, 0);
    }
  }
  std::lock_guard<std::mutex> guard{mtx_};
  lag_ = std::move(fresh);
}

} // namespace eddy::detail
