#include "forwarder.hpp"

#include <algorithm>

namespace shop {

using std::chrono::milliseconds;

forwarded forwarder::forward(const std::string& to, const httplib::Request& req,
                             const std::string& path, milliseconds budget) {
  httplib::Client client{to};
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return {std::nullopt, "instance " + instance_id_ + " is shutting down"};
    clients_.insert(&client);
  }
  struct unregister {
    forwarder& self;
    httplib::Client* client;
    ~unregister() {
      std::lock_guard<std::mutex> guard{self.mtx_};
      self.clients_.erase(client);
    }
  } unregistered{*this, &client};
  client.set_connection_timeout(1, 0);
  auto read = budget + milliseconds{2000};
  client.set_read_timeout(static_cast<time_t>(read.count() / 1000),
                          static_cast<time_t>(read.count() % 1000 * 1000));
  httplib::Headers headers{{forwarded_header, instance_id_}};
  auto result = req.method == "POST" ? client.Post(path, headers, req.body, "application/json")
                                     : client.Get(path, headers);
  if (!result)
    return {std::nullopt, to + ": " + httplib::to_string(result.error())};
  if (result->status == misdirected)
    return {std::nullopt, to + ": " + result->body};
  return {*result, {}};
}

void forwarder::relay(const httplib::Response& from, httplib::Response& res) {
  res.status = from.status;
  for (auto name : {"Location", served_by_header})
    if (from.has_header(name)) {
      res.headers.erase(name);
      res.set_header(name, from.get_header_value(name));
    }
  res.set_content(from.body, from.get_header_value("Content-Type").empty()
                               ? "application/json"
                               : from.get_header_value("Content-Type"));
}

bool forwarder::forward_round(const httplib::Request& req, httplib::Response& res,
                              std::int32_t partition, const std::string& path,
                              clock::time_point deadline, std::string& failure) {
  for (auto& owner : registry_.owners_of(partition)) {
    auto budget = std::max(milliseconds{0},
                           std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
    auto answer =
      req.method == "GET"
        ? forward(owner, req, path + "?timeout=" + std::to_string(budget.count()), budget)
        : forward(owner, req, path, post_budget_);
    if (answer.response) {
      relay(*answer.response, res);
      return true;
    }
    failure = answer.failure;
  }
  return false;
}

void forwarder::stop() {
  std::lock_guard<std::mutex> guard{mtx_};
  stopping_ = true;
  for (auto* client : clients_)
    client->stop();
}

} // namespace shop
