#pragma once

// The checked model of a .proto file's Eddy annotations: what the printers print. Building
// it is where bad annotations are caught; every error names the file, line, element and
// the fix.

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

namespace eddy::codegen {

/// An event type as a service uses it.
struct event_model {
  /// The message.
  const google::protobuf::Descriptor* type = nullptr;
  /// The topic from `(eddy.topic)`.
  std::string topic;
  /// The key field from `(eddy.key)`.
  const google::protobuf::FieldDescriptor* key = nullptr;
  /// The partition count from `(eddy.partitions)`, 0 if unset.
  int partitions = 0;
  /// Whether `(eddy.compacted)` is set.
  bool compacted = false;
  /// Whether the event is an own event (emitted on the service's journal).
  bool own = false;
};

/// How a service reads a topic as a table, if it does.
enum class table_role {
  /// Not as a table.
  none,
  /// As a local table, `(eddy.table)`.
  local,
  /// As a global table, `(eddy.global_table)`.
  global,
};

/// A table a service reads: the latest row per key of a topic.
struct table_model {
  /// The row type, its topic, key field and partitions, as for an event.
  event_model row;
  /// Local (`(eddy.table)`) or global (`(eddy.global_table)`).
  table_role role = table_role::local;
};

/// A topic a service consumes, emits to or reads as a table.
struct topic_model {
  /// The topic's name.
  std::string name;
  /// The agreed partition count of its events, 0 if none sets one.
  int partitions = 0;
  /// Whether the service consumes it.
  bool consumed = false;
  /// Whether the service emits to it.
  bool owned = false;
  /// Whether any event on it sets `(eddy.compacted)`.
  bool compacted = false;
  /// Whether the service reads it as a table, and which kind.
  table_role table = table_role::none;
};

/// An Eddy service: a `service` block with Eddy options.
struct service_model {
  /// The service block.
  const google::protobuf::ServiceDescriptor* service = nullptr;
  /// The consumed events, in declaration order.
  std::vector<event_model> consumes;
  /// The emitted events, in declaration order.
  std::vector<event_model> emits;
  /// The tables it reads: `(eddy.table)` ones, then `(eddy.global_table)` ones.
  std::vector<table_model> tables;
  /// Every topic consumed, emitted to or read as a table, in order of first mention.
  std::vector<topic_model> topics;
  /// The journal topic, empty if unset.
  std::string journal;
  /// The journal's partition count, 0 if unset (required with a state).
  int journal_partitions = 0;
  /// The state message, or nullptr.
  const google::protobuf::Descriptor* state = nullptr;
  /// Whether unhandled types go to the dead-letter topic (else they are skipped).
  bool dead_letter = false;
};

/// The Eddy services of one file.
struct file_model {
  /// The file.
  const google::protobuf::FileDescriptor* file = nullptr;
  /// Its Eddy services, in declaration order.
  std::vector<service_model> services;
};

/// Checks the Eddy options of `file` (its own messages and services, and the events they
/// refer to in other files) and builds its model. Returns false and sets `error` to a
/// message naming file, line, element and fix if an annotation is bad.
bool build_file_model(const google::protobuf::FileDescriptor& file, file_model& model,
                      std::string& error);

/// Returns the C++ name of a message's generated class, e.g. `::shop::Order_Line`.
std::string cpp_type(const google::protobuf::Descriptor& message);

/// Returns the C++ namespace of a package, e.g. `shop::v1` for `shop.v1`.
std::string cpp_namespace(const std::string& package);

/// Returns a C++ expression turning the key field of `var` into the record key.
std::string key_expression(const event_model& event, const std::string& var);

} // namespace eddy::codegen
