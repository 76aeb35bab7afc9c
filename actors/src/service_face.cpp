#include "service_face.hpp"

#include "service_metrics.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <eddy/log.hpp>

namespace eddy::detail {

namespace {

using nlohmann::json;

json health_of(const service_face& face) {
  auto& counters = face.rt->counters;
  return json{{"service", face.service_name},
              {"state", to_string(face.state())},
              {"reason", face.reason()},
              {"ready", face.ready()},
              {"assigned_partitions", counters.assigned_partitions.load()},
              {"partitions_restoring", counters.partitions_restoring.load()}};
}

int partitions_of(const service_face& face, const std::string& topic) {
  if (auto found = face.consumed_partitions.find(topic);
      found != face.consumed_partitions.end())
    return found->second;
  for (auto& spec : face.declared_topics)
    if (spec.name == topic)
      return spec.partitions;
  return 0;
}

json topology_of(const service_face& face) {
  auto& rt = *face.rt;
  json consumes = json::array();
  for (auto& [topic, fn] : rt.handlers)
    consumes.push_back({{"topic", topic}, {"partitions", partitions_of(face, topic)}});
  json tables = json::array();
  for (auto& [topic, table] : rt.local_tables)
    tables.push_back({{"topic", topic}, {"partitions", table.partitions}});
  json global_tables = json::array();
  for (auto& [topic, table] : rt.global_tables)
    global_tables.push_back({{"topic", topic}, {"partitions", partitions_of(face, topic)}});
  json repartitions = json::array();
  for (auto& [name, topic] : rt.repartitions)
    repartitions.push_back(
      {{"name", name}, {"topic", topic}, {"partitions", partitions_of(face, topic)}});
  json declared = json::array();
  for (auto& spec : face.declared_topics) {
    json entry{{"topic", spec.name}, {"partitions", spec.partitions}};
    if (!spec.configs.empty())
      entry["configs"] = spec.configs;
    declared.push_back(std::move(entry));
  }
  json journal = nullptr;
  if (rt.journal) {
    journal = {{"topic", rt.journal->topic}, {"partitions", rt.journal->partitions}};
    if (!rt.journal->snapshot_topic.empty())
      journal["snapshots"] = rt.journal->snapshot_topic;
  }
  json owned = json::array();
  {
    std::lock_guard<std::mutex> guard{rt.states_mtx};
    for (auto& [partition, topics] : rt.assigned_numbers)
      owned.push_back(partition);
  }
  return json{{"service", face.service_name},
              {"group_id", face.group_id},
              {"guarantee", rt.exactly_once ? "exactly_once" : "at_least_once"},
              {"consumes", std::move(consumes)},
              {"journal", std::move(journal)},
              {"tables", std::move(tables)},
              {"global_tables", std::move(global_tables)},
              {"repartitions", std::move(repartitions)},
              {"dead_letter_topic", rt.dead_letter_topic},
              {"declared_topics", std::move(declared)},
              {"assignment",
               {{"received", rt.assignment_received.load()},
                {"partitions", std::move(owned)},
                {"restoring", rt.counters.partitions_restoring.load()}}}};
}

} // namespace

std::string service_face::not_ready_reason() const {
  if (auto now = state(); now != service_state::running)
    return std::string{"the service is "} + to_string(now) + ": " + reason();
  if (!rt->assignment_received.load())
    return "waiting for the consumer group's first assignment";
  if (auto restoring = rt->counters.partitions_restoring.load(); restoring > 0)
    return std::to_string(restoring) + " assigned partitions are restoring their state";
  return {};
}

void add_service_routes(http_endpoint& endpoint, const service_face& face) {
  endpoint.get("/health", [&face](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, health_of(face));
  });
  endpoint.get("/ready", [&face](const httplib::Request&, httplib::Response& res) {
    auto why_not = face.not_ready_reason();
    if (why_not.empty())
      reply_json(res, 200, json{{"ready", true}, {"service", face.service_name}});
    else
      reply_json(
        res, 503,
        json{{"ready", false}, {"service", face.service_name}, {"reason", std::move(why_not)}});
  });
  endpoint.get("/topology", [&face](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, topology_of(face));
  });
  endpoint.get("/metrics", [&face](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(face), "text/plain; version=0.0.4; charset=utf-8");
  });
}

expected<std::unique_ptr<http_endpoint>>
open_service_endpoint(service_face& face, const listen_address& where, const config& cfg) {
  auto endpoint =
    std::make_unique<http_endpoint>(cfg.http_threads(), cfg.http_max_body_bytes());
  add_service_routes(*endpoint, face);
  auto bound = endpoint->bind(where);
  if (!bound)
    return bound.error_value();
  face.instance = *bound;
  endpoint->serve();
  logger().info("http endpoint service={} address={}", face.service_name, *bound);
  return endpoint;
}

} // namespace eddy::detail
