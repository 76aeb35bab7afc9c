// The definitions of one Eddy service in its .eddy.cc: emit functions, the dispatcher,
// and binding to a service.
#include "print_parts.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <google/protobuf/stubs/strutil.h>

namespace eddy::codegen::printing {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;

/// Prints the context's `emit()` overloads and `state()`.
void print_context_impl(Printer& p, const service_model& svc) {
  for (auto& event : svc.emits) {
    auto ev = event_vars(svc, event);
    p.Print(ev, "\nvoid $context$::emit(const $event$& event) {\n");
    if (event.own && svc.state != nullptr) {
      p.Print(ev,
              "  auto key = $key$;\n"
              "  if (key != input_.key)\n"
              "    throw ::eddy::codegen::key_mismatch_error{\n"
              "      \"service $service$ emitted own event $event_name$ with key '\" + key\n"
              "      + \"' while handling record \" + ::eddy::codegen::describe(input_)"
              " + \" with key '\"\n"
              "      + input_.key + \"'; own events must keep the key of the record they"
              " answer\"};\n"
              "  ::eddy::codegen::emit_event(out_, key, event);\n"
              "  if (state_)\n"
              "    *state_ = ::eddy::codegen::load_state<$state$>(out_.state(), key);\n");
    } else {
      p.Print(ev, "  ::eddy::codegen::emit(out_, $topic$, $key$, event);\n");
    }
    p.Print("}\n");
  }
  if (svc.state != nullptr)
    p.Print(service_vars(svc),
            "\nconst $state$& $context$::state() const {\n"
            "  if (!state_)\n"
            "    state_ = ::eddy::codegen::load_state<$state$>(out_.state(), input_.key);\n"
            "  return *state_;\n"
            "}\n");
}

/// Prints `dispatch()`, which decodes by type header, and `apply()`, the journal applier.
void print_dispatcher_impl(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars, "\nvoid $dispatcher$::dispatch(const ::eddy::record& input, ::eddy::context&"
                " out) {\n"
                "  const auto& type = ::eddy::codegen::type_of(input);\n"
                "  $context$ ctx{input, out};\n");
  for (auto& event : svc.consumes)
    p.Print(event_vars(svc, event),
            "  if (type == \"$event_name$\") {\n"
            "    handlers_.on(::eddy::codegen::decode<$event$>(input), ctx);\n"
            "    return;\n"
            "  }\n");
  if (svc.dead_letter)
    p.Print(vars, "  throw ::eddy::codegen::unhandled_type_error{\n"
                  "    \"service $service$ does not consume type '\" + type + \"' (record \"\n"
                  "    + ::eddy::codegen::describe(input) + \"); its policy (eddy.unhandled) is"
                  " DEAD_LETTER\"};\n");
  else
    p.Print(vars,
            "  ++skipped_;\n"
            "  if (type.empty())\n"
            "    out.skipped(input, \"no eddy.type header; the policy (eddy.unhandled) of\"\n"
            "                       \" service $service$ is SKIP\");\n"
            "  else\n"
            "    out.skipped(input, \"service $service$ does not consume type '\" + type\n"
            "                         + \"'; its policy (eddy.unhandled) is SKIP\");\n");
  p.Print("}\n");
  if (svc.state == nullptr)
    return;
  p.Print(vars, "\nvoid $dispatcher$::apply(const ::eddy::record& event,"
                " ::eddy::state_view store) const {\n"
                "  const auto& type = ::eddy::codegen::type_of(event);\n");
  for (auto& event : svc.emits)
    if (event.own)
      p.Print(event_vars(svc, event), "  if (type == \"$event_name$\")\n"
                                      "    return ::eddy::codegen::fold<$state$, $event$>(\n"
                                      "      handlers_, event, store);\n");
  p.Print("}\n");
}

/// Prints `bind()`: topic, journal and table declarations and one consume registration per
/// consumed topic.
void print_bind_impl(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars, "\nstd::shared_ptr<$dispatcher$> bind(::eddy::service& svc,\n"
                "    $handlers$& handlers) {\n"
                "  auto dispatcher = std::make_shared<$dispatcher$>(handlers);\n");
  for (auto& topic : svc.topics) {
    if (svc.state != nullptr && topic.name == svc.journal)
      continue;
    if (topic.partitions > 0 && topic.compacted)
      p.Print("  svc.topic($name$, $partitions$, -1, {{\"cleanup.policy\", \"compact\"}});\n",
              "name", quote(topic.name), "partitions", std::to_string(topic.partitions));
    else if (topic.partitions > 0)
      p.Print("  svc.topic($name$, $partitions$);\n", "name", quote(topic.name), "partitions",
              std::to_string(topic.partitions));
  }
  if (svc.state != nullptr)
    p.Print(vars, "  svc.journal($journal$, $journal_partitions$,\n"
                  "              [dispatcher](const ::eddy::record& event,"
                  " ::eddy::state_view store) {\n"
                  "                dispatcher->apply(event, store);\n"
                  "              });\n");
  for (auto& table : svc.tables)
    if (table.role == table_role::local)
      p.Print("  svc.table($topic$, $partitions$);\n", "topic", quote(table.row.topic),
              "partitions", std::to_string(table.row.partitions));
    else
      p.Print("  svc.global_table($topic$);\n", "topic", quote(table.row.topic));
  p.Print("  auto handle = [dispatcher](const ::eddy::record& input, ::eddy::context& out) {\n"
          "    dispatcher->dispatch(input, out);\n"
          "  };\n");
  for (auto& topic : svc.topics)
    if (topic.consumed)
      p.Print("  svc.consume($name$, handle);\n", "name", quote(topic.name));
  p.Print("  return dispatcher;\n}\n");
}

} // namespace

void print_service_definitions(Printer& p, const service_model& svc) {
  print_context_impl(p, svc);
  print_dispatcher_impl(p, svc);
  print_bind_impl(p, svc);
}

} // namespace eddy::codegen::printing
