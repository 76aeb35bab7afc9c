#include "shop_services.hpp"

#include <algorithm>

#include "eddy/options.pb.h"
#include "shop/customers.pb.h"
#include "shop/email.eddy.h"
#include "shop/fraud.eddy.h"
#include "shop/inventory.eddy.h"
#include "shop/order_details.eddy.h"
#include "shop/orders.pb.h"
#include "shop/payments.pb.h"
#include "shop/validations_aggregator.eddy.h"
#include "shop/warehouse.pb.h"

namespace shop_demo {

namespace {

using eddy::internal::topic_spec;

topic_spec make_spec(std::string name, int partitions, bool compacted) {
  topic_spec spec{std::move(name), partitions, -1, {}};
  if (compacted)
    spec.configs["cleanup.policy"] = "compact";
  return spec;
}

/// A service the demo runs, without its topics yet.
shop_service describe(std::string name, std::string role, std::string without, bool required,
                      bool exactly_once) {
  shop_service svc;
  svc.name = std::move(name);
  svc.role = std::move(role);
  svc.without = std::move(without);
  svc.required = required;
  svc.exactly_once = exactly_once;
  return svc;
}

/// `svc` with the topics of its schema, from the metadata protoc-gen-eddy generated.
template <class Metadata>
shop_service with_schema(shop_service svc) {
  for (auto& topic : Metadata::topics) {
    svc.topics.push_back(make_spec(std::string{topic.name}, topic.partitions, topic.compacted));
    if (topic.name == Metadata::journal) {
      // As service::journal() creates it: a journal keeps every event.
      svc.topics.back().configs["retention.ms"] = "-1";
      svc.topics.back().configs["retention.bytes"] = "-1";
    }
    if (topic.consumed || topic.table == eddy::codegen::table_kind::local)
      svc.group_topics.emplace_back(topic.name);
  }
  return svc;
}

/// The topic of the events of type `Event`, as its schema declares it.
template <class Event>
topic_spec spec_of() {
  const auto& options = Event::descriptor()->options();
  return make_spec(options.GetExtension(eddy::topic), options.GetExtension(eddy::partitions),
                   options.GetExtension(eddy::compacted));
}

} // namespace

std::vector<shop_service> shop_services() {
  // orders is written by hand, not generated: it keeps `orders` as a local table.
  auto orders = describe("orders", "the HTTP API: takes orders, answers when they are decided",
                         "nothing can be posted", true, false);
  orders.http = true;
  orders.topics.push_back(spec_of<shop::Order>());
  orders.group_topics.push_back(orders.topics.back().name);
  return {
    orders,
    with_schema<shop::OrderDetailsMetadata>(describe(
      "order-details", "checks each order's quantity, price and product",
      "orders are not checked for quantity and price; none is VALIDATED", false, false)),
    with_schema<shop::FraudMetadata>(
      describe("fraud", "checks each customer's spending within the hour",
               "orders are not checked for fraud; none is VALIDATED", false, false)),
    with_schema<shop::InventoryMetadata>(
      describe("inventory", "checks and reserves each order's stock, exactly once",
               "orders are not checked against the stock; none is VALIDATED", false, true)),
    with_schema<shop::ValidationsAggregatorMetadata>(describe(
      "validations-aggregator", "decides each order from its three checks, exactly once",
      "no order is decided", true, true)),
    with_schema<shop::EmailMetadata>(
      describe("email", "records a confirmation mail per validated and paid order",
               "no confirmation mails are recorded", false, false)),
  };
}

std::string topic_of(const google::protobuf::Descriptor& type) {
  return type.options().GetExtension(eddy::topic);
}

std::vector<topic_spec> shop_topics() {
  std::vector<topic_spec> topics{spec_of<shop::Customer>(), spec_of<shop::StockLevel>(),
                                 spec_of<shop::Payment>()};
  for (auto& svc : shop_services())
    topics.insert(topics.end(), svc.topics.begin(), svc.topics.end());
  std::vector<topic_spec> unique;
  for (auto& spec : topics)
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const topic_spec& known) { return known.name == spec.name; }))
      unique.push_back(spec);
  return unique;
}

} // namespace shop_demo
