#include "state_registry.hpp"

#include <eddy/log.hpp>

namespace eddy::detail {

expected<std::shared_ptr<partition_state>> state_registry::open(std::int32_t partition) const {
  auto name = rt_.journal ? rt_.journal->topic : std::string{"tables"};
  auto path = rt_.state_dir + "/" + name + "-" + std::to_string(partition) + ".db";
  auto opened = state_store::open(path);
  if (!opened)
    return opened.error_value();
  if (opened->recovered_from_corruption())
    logger().warn("state store rebuilt from offset 0 path={}", path);
  return std::make_shared<partition_state>(std::move(*opened), partition);
}

void state_registry::adopt(std::shared_ptr<partition_state> state) {
  std::lock_guard<std::mutex> guard{rt_.states_mtx};
  rt_.states[state->partition] = state;
  states_[state->partition] = std::move(state);
}

std::shared_ptr<partition_state> state_registry::find(std::int32_t partition) const {
  auto i = states_.find(partition);
  return i == states_.end() ? nullptr : i->second;
}

void state_registry::produce_snapshots(const std::set<std::int32_t>& partitions) {
  if (!rt_.journal || rt_.journal->snapshot_topic.empty())
    return;
  for (auto partition : partitions) {
    auto state = find(partition);
    if (!state)
      continue;
    std::lock_guard<std::mutex> guard{state->mtx};
    auto next = rt_.journal->delivered_next[static_cast<std::size_t>(partition)].load();
    if (next < 0)
      continue;
    std::vector<header> headers{{"eddy.checkpoint", std::to_string(next)}};
    for (auto& [row, value] : state->store.staged_rows()) {
      if (is_table_row(row))
        continue;
      // A leading byte tells a present value (even an empty one) from a tombstone.
      std::string payload;
      if (value)
        payload = "v" + *value;
      rt_.out->produce(rt_.journal->snapshot_topic, row,
                       value ? std::string_view{payload} : std::string_view{}, headers, nullptr,
                       partition);
    }
  }
}

void state_registry::commit(const std::set<std::int32_t>& complete, bool write_snapshots) {
  if (complete.empty() || rt_.failure.raised())
    return;
  if (write_snapshots && rt_.journal && !rt_.journal->snapshot_topic.empty()) {
    // A snapshot row must be in Kafka before the store forgets that it is new.
    produce_snapshots(complete);
    if (!rt_.out->flush(static_cast<int>(rt_.shutdown_timeout.count()))) {
      rt_.failure.raise(error{errc::delivery_failed, "snapshot rows not delivered in time"});
      return;
    }
  }
  for (auto partition : complete) {
    auto state = find(partition);
    if (!state)
      continue;
    std::lock_guard<std::mutex> guard{state->mtx};
    if (rt_.journal) {
      auto next = rt_.journal->delivered_next[static_cast<std::size_t>(partition)].load();
      if (next >= 0)
        state->store.set_checkpoint(rt_.journal->topic, partition, next);
    }
    if (auto saved = state->store.commit(); !saved) {
      rt_.failure.raise(saved.error_value());
      return;
    }
  }
}

void state_registry::rollback_all() {
  for (auto& [partition, state] : states_) {
    std::lock_guard<std::mutex> guard{state->mtx};
    state->store.rollback();
  }
}

void state_registry::release_unused(const std::set<std::int32_t>& in_use) {
  for (auto i = states_.begin(); i != states_.end();) {
    if (in_use.count(i->first) != 0) {
      ++i;
      continue;
    }
    {
      std::lock_guard<std::mutex> guard{rt_.states_mtx};
      rt_.states.erase(i->first);
    }
    i = states_.erase(i);
  }
}

void state_registry::clear() {
  release_unused({});
}

std::set<std::int32_t> state_registry::live() const {
  std::set<std::int32_t> result;
  for (auto& [partition, state] : states_)
    result.insert(partition);
  return result;
}

} // namespace eddy::detail
