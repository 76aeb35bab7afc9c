#include "model.hpp"

#include <algorithm>

#include <google/protobuf/compiler/cpp/names.h>

#include "eddy/options.pb.h"

namespace eddy::codegen {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::SourceLocation;

/// Returns `file:line:column` of an element, or just the file without source info.
template <class Element>
std::string where(const Element& element, const FileDescriptor& file) {
  SourceLocation loc;
  if (!element.GetSourceLocation(&loc))
    return file.name();
  return file.name() + ":" + std::to_string(loc.start_line + 1) + ":"
         + std::to_string(loc.start_column + 1);
}

std::string where(const Descriptor& message) {
  return where(message, *message.file());
}

std::string where(const ServiceDescriptor& service) {
  return where(service, *service.file());
}

/// Whether a field's type may serve as a record key.
bool is_key_type(const FieldDescriptor& field) {
  if (field.is_repeated())
    return false;
  switch (field.cpp_type()) {
  case FieldDescriptor::CPPTYPE_INT32:
  case FieldDescriptor::CPPTYPE_INT64:
  case FieldDescriptor::CPPTYPE_UINT32:
  case FieldDescriptor::CPPTYPE_UINT64:
    return true;
  case FieldDescriptor::CPPTYPE_STRING:
    return field.type() == FieldDescriptor::TYPE_STRING;
  default:
    return false;
  }
}

/// Says how to name a valid key field of `message`, listing the candidates.
std::string key_fix(const Descriptor& message) {
  std::string result;
  for (int i = 0; i < message.field_count(); ++i) {
    auto& field = *message.field(i);
    if (!is_key_type(field))
      continue;
    if (!result.empty())
      result += ", ";
    result += field.name();
  }
  if (result.empty())
    return "Fix: add a singular string or integer field and name it in (eddy.key).";
  return "Fix: set (eddy.key) to one of its singular string or integer fields: " + result + ".";
}

/// Describes a field's type for error messages, e.g. `repeated string` or `double`.
std::string describe_type(const FieldDescriptor& field) {
  std::string type =
    field.type() == FieldDescriptor::TYPE_MESSAGE ? field.message_type()->full_name()
    : field.type() == FieldDescriptor::TYPE_ENUM  ? "enum " + field.enum_type()->full_name()
                                                  : field.type_name();
  return field.is_repeated() ? "repeated " + type : type;
}

/// Checks the Eddy options of one message; fills `event` if the message is an event.
bool check_message(const Descriptor& message, event_model* event, std::string& error) {
  auto& opts = message.options();
  auto has_topic = opts.HasExtension(eddy::topic);
  auto has_key = opts.HasExtension(eddy::key);
  auto has_partitions = opts.HasExtension(eddy::partitions);
  auto has_compacted = opts.HasExtension(eddy::compacted);
  auto name = "message " + message.full_name();
  if (!has_topic) {
    if (has_key || has_partitions || has_compacted) {
      error = where(message) + ": " + name + " sets "
              + (has_key          ? "(eddy.key)"
                 : has_partitions ? "(eddy.partitions)"
                                  : "(eddy.compacted)")
              + " but no (eddy.topic). Fix: add option (eddy.topic) = \"<topic>\"; to it.";
      return false;
    }
    return true;
  }
  auto& topic = opts.GetExtension(eddy::topic);
  if (topic.empty()) {
    error = where(message) + ": " + name + " has an empty (eddy.topic)."
            + " Fix: name the Kafka topic its events are written to.";
    return false;
  }
  if (!has_key) {
    error = where(message) + ": " + name + " has (eddy.topic) \"" + topic
            + "\" but no (eddy.key), the field whose value is the record key. "
            + key_fix(message);
    return false;
  }
  auto& key_name = opts.GetExtension(eddy::key);
  auto key = message.FindFieldByName(key_name);
  if (key == nullptr) {
    error = where(message) + ": " + name + ": (eddy.key) names field \"" + key_name
            + "\", which does not exist. " + key_fix(message);
    return false;
  }
  if (!is_key_type(*key)) {
    error = where(message) + ": " + name + ": key field \"" + key_name + "\" is "
            + describe_type(*key) + ", but a key must be a singular string or integer"
            + " field. " + key_fix(message);
    return false;
  }
  auto partitions = opts.GetExtension(eddy::partitions);
  if (has_partitions && partitions < 1) {
    error = where(message) + ": " + name + ": (eddy.partitions) is "
            + std::to_string(partitions) + ". Fix: set it to 1 or more, or remove it.";
    return false;
  }
  if (event != nullptr) {
    event->type = &message;
    event->topic = topic;
    event->key = key;
    event->partitions = has_partitions ? partitions : 0;
    event->compacted = opts.GetExtension(eddy::compacted);
  }
  return true;
}

/// Checks every message of `file`, nested ones included.
bool check_messages(const Descriptor& message, std::string& error) {
  if (!check_message(message, nullptr, error))
    return false;
  for (int i = 0; i < message.nested_type_count(); ++i)
    if (!check_messages(*message.nested_type(i), error))
      return false;
  return true;
}

/// Resolves a message name as Protobuf resolves type references: relative to the
/// service's package and its parents, or fully qualified with a leading dot.
const Descriptor* resolve(const ServiceDescriptor& service, const std::string& name) {
  auto pool = service.file()->pool();
  if (!name.empty() && name.front() == '.')
    return pool->FindMessageTypeByName(name.substr(1));
  auto scope = service.file()->package();
  for (;;) {
    auto found = pool->FindMessageTypeByName(scope.empty() ? name : scope + "." + name);
    if (found != nullptr || scope.empty())
      return found;
    auto dot = scope.rfind('.');
    scope = dot == std::string::npos ? std::string{} : scope.substr(0, dot);
  }
}

/// Whether a service block carries any Eddy option.
bool is_eddy_service(const ServiceDescriptor& service) {
  auto& opts = service.options();
  return opts.ExtensionSize(eddy::consumes) > 0 || opts.ExtensionSize(eddy::emits) > 0
         || opts.HasExtension(eddy::journal) || opts.HasExtension(eddy::state)
         || opts.HasExtension(eddy::unhandled) || opts.ExtensionSize(eddy::table) > 0
         || opts.ExtensionSize(eddy::global_table) > 0;
}

/// Resolves and checks the events one service option lists (`consumes` or `emits`).
template <class Extension>
bool collect_events(const ServiceDescriptor& service, const Extension& ext,
                    const std::string& option, std::vector<event_model>& out,
                    std::string& error) {
  auto prefix = where(service) + ": service " + service.full_name() + ": ";
  auto& opts = service.options();
  for (int i = 0; i < opts.ExtensionSize(ext); ++i) {
    auto& name = opts.GetExtension(ext, i);
    auto message = resolve(service, name);
    if (message == nullptr) {
      error = prefix + option + " names \"" + name + "\", which is no message in scope."
              + " Fix: name a message of this file or of an import, relative to package \""
              + service.file()->package() + "\" or fully qualified with a leading dot.";
      return false;
    }
    auto twice = std::any_of(out.begin(), out.end(),
                             [&](const event_model& e) { return e.type == message; });
    if (twice) {
      error =
        prefix + option + " lists " + message->full_name() + " twice. Fix: remove one of them.";
      return false;
    }
    event_model event;
    if (!check_message(*message, &event, error))
      return false;
    if (event.type == nullptr) {
      error = prefix + option + " names " + message->full_name()
              + ", which has no (eddy.topic). Fix: add option (eddy.topic) = \"<topic>\";"
              + " and option (eddy.key) = \"<field>\"; to message " + message->full_name()
              + " (" + where(*message) + ").";
      return false;
    }
    out.push_back(std::move(event));
  }
  return true;
}

/// How a service uses the topic of an event or table.
enum class topic_use { consumed, emitted, local_table, global_table };

/// Adds the topic of `event` to `topics`; fails if partition counts disagree.
bool add_topic(const ServiceDescriptor& service, const event_model& event, topic_use use,
               std::vector<topic_model>& topics, std::vector<const Descriptor*>& setters,
               std::string& error) {
  auto it = std::find_if(topics.begin(), topics.end(),
                         [&](const topic_model& t) { return t.name == event.topic; });
  if (it == topics.end()) {
    topics.push_back(topic_model{event.topic, 0, false, false});
    setters.push_back(nullptr);
    it = topics.end() - 1;
  }
  auto& setter = setters[static_cast<std::size_t>(it - topics.begin())];
  if (event.partitions > 0) {
    if (it->partitions > 0 && it->partitions != event.partitions) {
      error = where(service) + ": service " + service.full_name() + ": topic \"" + event.topic
              + "\" has " + std::to_string(it->partitions) + " partitions according to "
              + setter->full_name() + " but " + std::to_string(event.partitions)
              + " according to " + event.type->full_name()
              + ". Fix: give every message on one topic the same (eddy.partitions).";
      return false;
    }
    it->partitions = event.partitions;
    setter = event.type;
  }
  switch (use) {
  case topic_use::consumed:
    it->consumed = true;
    break;
  case topic_use::emitted:
    it->owned = true;
    break;
  case topic_use::local_table:
    it->table = table_role::local;
    break;
  case topic_use::global_table:
    it->table = table_role::global;
    break;
  }
  it->compacted = it->compacted || event.compacted;
  return true;
}

/// Resolves and checks the tables one service option lists (`table` or `global_table`)
/// and adds them to `model.tables`.
template <class Extension>
bool collect_tables(const ServiceDescriptor& service, const Extension& ext,
                    const std::string& option, table_role role, service_model& model,
                    std::string& error) {
  auto prefix = where(service) + ": service " + service.full_name() + ": ";
  std::vector<event_model> rows;
  if (!collect_events(service, ext, option, rows, error))
    return false;
  for (auto& row : rows) {
    for (auto& other : model.tables) {
      if (other.row.type == row.type) {
        error = prefix + row.type->full_name()
                + " is named by both (eddy.table) and (eddy.global_table). Fix: keep the one"
                + " it should be: a local table holds the partitions of the service's inputs,"
                + " a global table every partition.";
        return false;
      }
      if (other.row.topic == row.topic) {
        error = prefix + "tables " + other.row.type->full_name() + " and "
                + row.type->full_name() + " are both built from topic \"" + row.topic
                + "\", but a table holds one row type. Fix: declare one table per topic.";
        return false;
      }
    }
    if (role == table_role::local && row.partitions == 0) {
      error = prefix + "(eddy.table) names " + row.type->full_name() + ", whose topic \""
              + row.topic + "\" has no partition count; a local table is"
              + " sharded like the service's inputs. Fix: add option (eddy.partitions) = <n>;"
              + " to message " + row.type->full_name() + " (" + where(*row.type)
              + "), the partition count of the consumed topics, or read it with"
              + " (eddy.global_table).";
      return false;
    }
    if (row.topic == model.journal) {
      error = prefix + "table " + row.type->full_name() + " is built from its journal \""
              + row.topic + "\". Fix: read the service's own state with ctx.state() and"
              + " (eddy.state) instead.";
      return false;
    }
    for (auto& event : model.consumes)
      if (event.topic == row.topic) {
        error = prefix + "topic \"" + row.topic + "\" is both consumed ("
                + event.type->full_name() + ") and read as table " + row.type->full_name()
                + ". Fix: either handle its records with (eddy.consumes) or look its rows up"
                + " with a table, not both.";
        return false;
      }
    model.tables.push_back(table_model{row, role});
  }
  return true;
}

/// Checks that a key's inputs, state and local table rows share a partition number: the
/// journal (with a state), the consumed topics and the local tables must agree on their
/// partition counts wherever the schema sets them.
bool check_co_partitioning(const ServiceDescriptor& service, const service_model& model,
                           std::string& error) {
  auto local_tables =
    std::any_of(model.tables.begin(), model.tables.end(),
                [](const table_model& t) { return t.role == table_role::local; });
  if (model.state == nullptr && !local_tables)
    return true; // stateless: each record is handled on its own
  std::vector<std::pair<std::string, int>> counts;
  if (model.state != nullptr)
    counts.emplace_back("its journal \"" + model.journal + "\"", model.journal_partitions);
  for (auto& topic : model.topics)
    if (topic.consumed && topic.partitions > 0)
      counts.emplace_back("consumed topic \"" + topic.name + "\"", topic.partitions);
  for (auto& table : model.tables)
    if (table.role == table_role::local)
      counts.emplace_back("local table topic \"" + table.row.topic + "\"",
                          table.row.partitions);
  for (auto& [what, partitions] : counts)
    if (partitions != counts.front().second) {
      error = where(service) + ": service " + service.full_name() + ": " + what + " has "
              + std::to_string(partitions) + " partitions but " + counts.front().first + " has "
              + std::to_string(counts.front().second)
              + "; a key's inputs, state and local tables must share a partition number"
              + " (co-partitioning). Fix: give them the same (eddy.partitions), or re-key the"
              + " input through a topic with " + std::to_string(counts.front().second)
              + " partitions that the service emits and consumes (see eddy/options.proto).";
      return false;
    }
  return true;
}

/// Builds and checks the model of one Eddy service.
bool build_service(const ServiceDescriptor& service, service_model& model, std::string& error) {
  auto prefix = where(service) + ": service " + service.full_name() + ": ";
  auto& opts = service.options();
  model.service = &service;
  model.dead_letter = opts.GetExtension(eddy::unhandled) == eddy::DEAD_LETTER;
  if (!collect_events(service, eddy::consumes, "(eddy.consumes)", model.consumes, error)
      || !collect_events(service, eddy::emits, "(eddy.emits)", model.emits, error))
    return false;
  if (model.consumes.empty()) {
    error = prefix + "it consumes no events, so nothing would ever call it. Fix: add"
            + " option (eddy.consumes) = \"<event message>\"; once per consumed event.";
    return false;
  }
  model.journal = opts.GetExtension(eddy::journal);
  if (opts.HasExtension(eddy::journal)) {
    auto on_journal = false;
    for (auto& event : model.emits)
      on_journal = (event.own = event.topic == model.journal) || on_journal;
    if (!on_journal) {
      error = prefix + "no emitted event lives on its journal \"" + model.journal
              + "\". Fix: emit its own events (messages with (eddy.topic) = \"" + model.journal
              + "\") with option (eddy.emits), or correct (eddy.journal).";
      return false;
    }
  }
  if (opts.HasExtension(eddy::state)) {
    auto& name = opts.GetExtension(eddy::state);
    model.state = resolve(service, name);
    if (model.state == nullptr) {
      error = prefix + "(eddy.state) names \"" + name + "\", which is no message in scope."
              + " Fix: name the state message, relative to package \""
              + service.file()->package() + "\" or fully qualified with a leading dot.";
      return false;
    }
    if (model.journal.empty()) {
      error = prefix + "(eddy.state) is set but (eddy.journal) is not; state is the fold"
              + " of the journal. Fix: add option (eddy.journal) = \"<topic>\"; naming the"
              + " topic of its own events.";
      return false;
    }
  }
  if (!collect_tables(service, eddy::table, "(eddy.table)", table_role::local, model, error)
      || !collect_tables(service, eddy::global_table, "(eddy.global_table)", table_role::global,
                         model, error))
    return false;
  std::vector<const Descriptor*> setters;
  for (auto& event : model.consumes)
    if (!add_topic(service, event, topic_use::consumed, model.topics, setters, error))
      return false;
  for (auto& event : model.emits)
    if (!add_topic(service, event, topic_use::emitted, model.topics, setters, error))
      return false;
  for (auto& table : model.tables)
    if (!add_topic(service, table.row,
                   table.role == table_role::local ? topic_use::local_table
                                                   : topic_use::global_table,
                   model.topics, setters, error))
      return false;
  if (!model.journal.empty()) {
    auto journal = std::find_if(model.topics.begin(), model.topics.end(),
                                [&](const topic_model& t) { return t.name == model.journal; });
    model.journal_partitions = journal->partitions;
    if (journal->compacted) {
      error = prefix + "its journal \"" + model.journal + "\" is compacted, but a journal's"
              + " old events are the state and must stay. Fix: remove (eddy.compacted) from"
              + " the messages on topic \"" + model.journal + "\".";
      return false;
    }
  }
  if (model.state != nullptr && model.journal_partitions == 0) {
    std::string own;
    for (auto& event : model.emits)
      if (event.own)
        own += (own.empty() ? "" : ", ") + event.type->full_name();
    error = prefix + "its journal \"" + model.journal + "\" has no partition count, which"
            + " the runtime needs to shard its state. Fix: add option (eddy.partitions) ="
            + " <n>; to its own events (" + own + "), the partition count of its consumed"
            + " topics.";
    return false;
  }
  return check_co_partitioning(service, model, error);
}

} // namespace

bool build_file_model(const FileDescriptor& file, file_model& model, std::string& error) {
  model.file = &file;
  for (int i = 0; i < file.message_type_count(); ++i)
    if (!check_messages(*file.message_type(i), error))
      return false;
  for (int i = 0; i < file.service_count(); ++i) {
    auto& service = *file.service(i);
    if (!is_eddy_service(service))
      continue;
    service_model svc;
    if (!build_service(service, svc, error))
      return false;
    model.services.push_back(std::move(svc));
  }
  return true;
}

std::string cpp_namespace(const std::string& package) {
  std::string result;
  for (auto c : package)
    if (c == '.')
      result += "::";
    else
      result += c;
  return result;
}

std::string cpp_type(const Descriptor& message) {
  return google::protobuf::compiler::cpp::QualifiedClassName(&message);
}

std::string key_expression(const event_model& event, const std::string& var) {
  auto getter = var + "." + google::protobuf::compiler::cpp::FieldName(event.key) + "()";
  if (event.key->cpp_type() == FieldDescriptor::CPPTYPE_STRING)
    return getter;
  return "std::to_string(" + getter + ")";
}

} // namespace eddy::codegen
