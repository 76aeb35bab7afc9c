#pragma once

/// @file
/// What the shop demo knows about the shop: its services, how each runs, and the topics
/// their schemas declare.

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include <eddy/internal/kafka.hpp>

namespace shop_demo {

/// One of the shop's services as the demo runs it.
struct shop_service {
  /// The program's name, which is also its folder under the build's `sample-services/`.
  std::string name;
  /// What it does, in a few words.
  std::string role;
  /// What a run lacks when the program is not built.
  std::string without;
  /// Whether the demo cannot run without it.
  bool required = false;
  /// Whether it runs with `eddy.processing.guarantee=exactly_once`: its decisions must be
  /// neither lost nor doubled.
  bool exactly_once = false;
  /// Whether it serves the shop's HTTP API (and reports readiness on /v1/health).
  bool http = false;
  /// The topics its schema declares, with their partitions and compaction.
  std::vector<eddy::internal::topic_spec> topics;
  /// The topics its consumer group subscribes to: the consumed ones and its local tables.
  std::vector<std::string> group_topics;
};

/// The shop's services, in the order the demo starts them.
std::vector<shop_service> shop_services();

/// The topic events of `type` live on, as its schema's `(eddy.topic)` says.
std::string topic_of(const google::protobuf::Descriptor& type);

/// Every topic of the shop, once: those the services' schemas declare and those of the
/// events the demo writes itself (customers, stock, payments).
std::vector<eddy::internal::topic_spec> shop_topics();

} // namespace shop_demo
