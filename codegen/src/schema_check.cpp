#include "schema_check.hpp"

#include <map>

#include "eddy/options.pb.h"

namespace eddy::codegen {

namespace {

using google::protobuf::DescriptorProto;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptorSet;

/// A message of a snapshot with the file it is declared in.
struct located_message {
  const DescriptorProto* message;
  std::string file;
};

/// Collects every message of `set`, nested ones included, by full name.
void collect(const std::string& file, const std::string& scope, const DescriptorProto& msg,
             std::map<std::string, located_message>& out) {
  auto name = scope.empty() ? msg.name() : scope + "." + msg.name();
  out[name] = {&msg, file};
  for (auto& nested : msg.nested_type())
    collect(file, name, nested, out);
}

std::map<std::string, located_message> messages_of(const FileDescriptorSet& set) {
  std::map<std::string, located_message> out;
  for (auto& file : set.file())
    for (auto& msg : file.message_type())
      collect(file.name(), file.package(), msg, out);
  return out;
}

/// The type of `field` as written in a .proto, e.g. `repeated int32` or `.shop.Order`.
std::string type_of(const FieldDescriptorProto& field) {
  static const std::map<FieldDescriptorProto::Type, std::string> names{
    {FieldDescriptorProto::TYPE_DOUBLE, "double"},
    {FieldDescriptorProto::TYPE_FLOAT, "float"},
    {FieldDescriptorProto::TYPE_INT64, "int64"},
    {FieldDescriptorProto::TYPE_UINT64, "uint64"},
    {FieldDescriptorProto::TYPE_INT32, "int32"},
    {FieldDescriptorProto::TYPE_FIXED64, "fixed64"},
    {FieldDescriptorProto::TYPE_FIXED32, "fixed32"},
    {FieldDescriptorProto::TYPE_BOOL, "bool"},
    {FieldDescriptorProto::TYPE_STRING, "string"},
    {FieldDescriptorProto::TYPE_BYTES, "bytes"},
    {FieldDescriptorProto::TYPE_UINT32, "uint32"},
    {FieldDescriptorProto::TYPE_SFIXED32, "sfixed32"},
    {FieldDescriptorProto::TYPE_SFIXED64, "sfixed64"},
    {FieldDescriptorProto::TYPE_SINT32, "sint32"},
    {FieldDescriptorProto::TYPE_SINT64, "sint64"},
  };
  auto it = names.find(field.type());
  auto type = it != names.end() ? it->second : field.type_name();
  return field.label() == FieldDescriptorProto::LABEL_REPEATED ? "repeated " + type : type;
}

bool is_reserved(const DescriptorProto& msg, int number) {
  for (auto& range : msg.reserved_range())
    if (number >= range.start() && number < range.end())
      return true;
  return false;
}

const FieldDescriptorProto* field_by_number(const DescriptorProto& msg, int number) {
  for (auto& field : msg.field())
    if (field.number() == number)
      return &field;
  return nullptr;
}

/// Checks one published event `name` from `before` against its successor in `after`.
void check_event(const std::string& name, const located_message& before,
                 const located_message& after, std::vector<std::string>& errors) {
  auto& old_msg = *before.message;
  auto& new_msg = *after.message;
  auto where = after.file + ": event " + name;
  auto old_topic = old_msg.options().GetExtension(eddy::topic);
  auto new_topic = new_msg.options().GetExtension(eddy::topic);
  if (old_topic != new_topic)
    errors.push_back(where + " moved from topic '" + old_topic + "' to '" + new_topic
                     + "': readers of '" + old_topic
                     + "' lose it. Fix: keep option"
                       " (eddy.topic) = \""
                     + old_topic + "\" and publish a new event type on '" + new_topic + "'.");
  auto old_key = old_msg.options().GetExtension(eddy::key);
  auto new_key = new_msg.options().GetExtension(eddy::key);
  if (old_key != new_key)
    errors.push_back(where + " changed its key field from '" + old_key + "' to '" + new_key
                     + "': records of one entity would land on other partitions. Fix: keep"
                       " option (eddy.key) = \""
                     + old_key + "\".");
  for (auto& old_field : old_msg.field()) {
    auto number = std::to_string(old_field.number());
    auto field_where = where + ", field " + old_field.name() + " = " + number;
    auto new_field = field_by_number(new_msg, old_field.number());
    if (new_field == nullptr) {
      if (!is_reserved(new_msg, old_field.number()))
        errors.push_back(field_where
                         + " was removed without reserving its number: a later"
                           " field could reuse it and misread old records. Fix: add `reserved "
                         + number + "; reserved \"" + old_field.name() + "\";` to " + name
                         + ".");
    } else if (type_of(old_field) != type_of(*new_field)) {
      errors.push_back(field_where + " changed from `" + type_of(old_field) + "` to `"
                       + type_of(*new_field) + " " + new_field->name()
                       + "`: old records would be misread. Fix: keep field " + number + " as `"
                       + type_of(old_field)
                       + "`, or give the new field a new number"
                         " and add `reserved "
                       + number + ";`.");
    }
  }
  for (auto& new_field : new_msg.field())
    if (is_reserved(old_msg, new_field.number()))
      errors.push_back(where + ", field " + new_field.name() + " = "
                       + std::to_string(new_field.number())
                       + " reuses a reserved number: old records may hold another field"
                         " there. Fix: give "
                       + new_field.name()
                       + " a new number and keep"
                         " `reserved "
                       + std::to_string(new_field.number()) + ";`.");
}

} // namespace

std::vector<std::string> check_evolution(const FileDescriptorSet& before,
                                         const FileDescriptorSet& after) {
  std::vector<std::string> errors;
  auto old_messages = messages_of(before);
  auto new_messages = messages_of(after);
  for (auto& [name, old_msg] : old_messages) {
    if (!old_msg.message->options().HasExtension(eddy::topic))
      continue;
    auto it = new_messages.find(name);
    if (it == new_messages.end()) {
      errors.push_back(old_msg.file + ": event " + name + " was removed: readers of topic '"
                       + old_msg.message->options().GetExtension(eddy::topic)
                       + "' still get it. Fix: keep the message (mark it `option deprecated ="
                         " true;`).");
      continue;
    }
    check_event(name, old_msg, it->second, errors);
  }
  return errors;
}

} // namespace eddy::codegen
