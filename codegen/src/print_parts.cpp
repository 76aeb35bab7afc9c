#include "print_parts.hpp"

#include <google/protobuf/stubs/strutil.h>

namespace eddy::codegen::printing {

using google::protobuf::FileDescriptor;

std::string quote(const std::string& text) {
  return "\"" + google::protobuf::CEscape(text) + "\"";
}

vars_t service_vars(const service_model& svc) {
  auto& name = svc.service->name();
  vars_t vars{
    {"service", svc.service->full_name()},
    {"handlers", name + "Handlers"},
    {"context", name + "Context"},
    {"dispatcher", name + "Dispatcher"},
    {"metadata", name + "Metadata"},
    {"test_kit", name + "TestKit"},
    {"proto", svc.service->file()->name()},
    {"journal", quote(svc.journal)},
    {"journal_name", svc.journal},
    {"journal_partitions", std::to_string(svc.journal_partitions)},
    {"policy", svc.dead_letter ? "dead_letter" : "skip"},
  };
  if (svc.state != nullptr) {
    vars["state"] = cpp_type(*svc.state);
    vars["state_name"] = svc.state->full_name();
  }
  return vars;
}

vars_t event_vars(const service_model& svc, const event_model& event) {
  auto vars = service_vars(svc);
  vars["event"] = cpp_type(*event.type);
  vars["event_name"] = event.type->full_name();
  vars["topic"] = quote(event.topic);
  vars["topic_name"] = event.topic;
  vars["key_field"] = event.key->name();
  vars["key"] = key_expression(event, "event");
  return vars;
}

const char* table_kind_name(table_role role) {
  switch (role) {
    case table_role::local:
      return "local";
    case table_role::global:
      return "global";
    case table_role::none:
      break;
  }
  return "none";
}

void print_banner(Printer& p, const FileDescriptor& file) {
  p.Print("// generated — do not edit; source: $proto$\n"
          "//\n"
          "// The Eddy services of $proto$ (typed handlers, emit functions, dispatchers,\n"
          "// topic metadata and test kits), written by protoc-gen-eddy.\n",
          "proto", file.name());
}

void print_section(Printer& p, const google::protobuf::ServiceDescriptor& service) {
  constexpr std::size_t width = 92;
  auto title = "// -- service " + service.full_name() + " ";
  p.Print("\n$title$$rule$\n", "title", title, "rule",
          std::string(title.size() + 2 < width ? width - title.size() : 2, '-'));
}

void print_namespace_open(Printer& p, const FileDescriptor& file) {
  if (!file.package().empty())
    p.Print("\nnamespace $ns$ {\n", "ns", cpp_namespace(file.package()));
}

void print_namespace_close(Printer& p, const FileDescriptor& file) {
  if (!file.package().empty())
    p.Print("\n} // namespace $ns$\n", "ns", cpp_namespace(file.package()));
}

} // namespace eddy::codegen::printing
