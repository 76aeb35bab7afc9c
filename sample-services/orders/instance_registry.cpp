#include "instance_registry.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace shop {

std::string encode_entry(const instance_entry& entry) {
  return nlohmann::json{{"group", entry.group},
                        {"endpoint", entry.endpoint},
                        {"partitions", entry.partitions},
                        {"assigned_ms", entry.assigned_ms}}
    .dump();
}

std::optional<instance_entry> decode_entry(const std::string& value) {
  auto json = nlohmann::json::parse(value, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::nullopt;
  auto group = json.find("group");
  auto endpoint = json.find("endpoint");
  auto partitions = json.find("partitions");
  auto assigned = json.find("assigned_ms");
  if (group == json.end() || !group->is_string() || endpoint == json.end()
      || !endpoint->is_string() || partitions == json.end() || !partitions->is_array()
      || assigned == json.end() || !assigned->is_number_integer())
    return std::nullopt;
  instance_entry entry;
  entry.group = group->get<std::string>();
  entry.endpoint = endpoint->get<std::string>();
  entry.assigned_ms = assigned->get<std::int64_t>();
  for (auto& p : *partitions) {
    if (!p.is_number_integer())
      return std::nullopt;
    entry.partitions.push_back(p.get<std::int32_t>());
  }
  std::sort(entry.partitions.begin(), entry.partitions.end());
  return entry;
}

instance_registry::instance_registry(std::string self, std::string group,
                                     std::chrono::milliseconds ttl)
  : self_(std::move(self)),
    group_(std::move(group)),
    ttl_(ttl) {}

void instance_registry::apply(const eddy::record& rec) {
  if (rec.key == self_)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (rec.is_tombstone()
      || rec.value.empty()) { // an empty value: an older instance's tombstone
    entries_.erase(rec.key);
    return;
  }
  auto entry = decode_entry(rec.value);
  if (!entry || entry->group != group_)
    return;
  entries_[rec.key] = live_entry{std::move(*entry), std::chrono::steady_clock::now()};
}

bool instance_registry::live(const live_entry& e,
                             std::chrono::steady_clock::time_point now) const {
  return now - e.seen <= ttl_;
}

std::vector<std::string> instance_registry::owners_of(std::int32_t partition) const {
  std::vector<const instance_entry*> claims;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [id, e] : entries_)
    if (live(e, now)
        && std::binary_search(e.entry.partitions.begin(), e.entry.partitions.end(), partition))
      claims.push_back(&e.entry);
  std::stable_sort(claims.begin(), claims.end(),
                   [](auto* a, auto* b) { return a->assigned_ms > b->assigned_ms; });
  std::vector<std::string> endpoints;
  for (auto* claim : claims)
    endpoints.push_back(claim->endpoint);
  return endpoints;
}

std::size_t instance_registry::size() const {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard{mtx_};
  return static_cast<std::size_t>(std::count_if(
    entries_.begin(), entries_.end(), [&](auto& kv) { return live(kv.second, now); }));
}

} // namespace shop
