#include "print.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <google/protobuf/compiler/code_generator.h>
#include <google/protobuf/stubs/strutil.h>

namespace eddy::codegen {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::io::Printer;

using vars_t = std::map<std::string, std::string>;

/// Returns `text` as the contents of a C++ string literal.
std::string quote(const std::string& text) {
  return "\"" + google::protobuf::CEscape(text) + "\"";
}

/// Prints the leading comments of a proto element as `///` lines, if it has any.
template <class Element>
void print_proto_comments(Printer& p, const Element& element) {
  google::protobuf::SourceLocation loc;
  if (!element.GetSourceLocation(&loc) || loc.leading_comments.empty())
    return;
  std::istringstream lines{loc.leading_comments};
  for (std::string line; std::getline(lines, line);) {
    // A trailing backslash would continue the `//` comment onto the next line of code.
    while (!line.empty() && std::string_view{" \r\\"}.find(line.back()) != std::string_view::npos)
      line.pop_back();
    p.Print("///$line$\n", "line", line);
  }
  p.Print("///\n");
}

/// The variables every printer of one service uses.
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

/// The variables of one event of a service.
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

/// The name of a `::eddy::codegen::table_kind` value.
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

// -- header -------------------------------------------------------------------------------

/// Prints the do-not-edit banner naming the source .proto.
void print_banner(Printer& p, const FileDescriptor& file) {
  p.Print("// generated — do not edit; source: $proto$\n"
          "//\n"
          "// The Eddy services of $proto$ (typed handlers, emit functions, dispatchers,\n"
          "// topic metadata and test kits), written by protoc-gen-eddy.\n",
          "proto", file.name());
}

/// Prints `#pragma once` and the includes: std, Eddy, and the .pb.h of every used message.
void print_includes(Printer& p, const file_model& model) {
  p.Print("\n#pragma once\n\n"
          "#include <array>\n"
          "#include <atomic>\n"
          "#include <cstddef>\n"
          "#include <cstdint>\n"
          "#include <memory>\n"
          "#include <optional>\n"
          "#include <string>\n"
          "#include <string_view>\n"
          "#include <type_traits>\n"
          "#include <vector>\n\n"
          "#include <eddy/codegen/runtime.hpp>\n"
          "#include <eddy/context.hpp>\n"
          "#include <eddy/record.hpp>\n"
          "#include <eddy/service.hpp>\n"
          "#include <eddy/state_view.hpp>\n\n");
  std::set<std::string> files{model.file->name()};
  for (auto& svc : model.services) {
    for (auto* events : {&svc.consumes, &svc.emits})
      for (auto& event : *events)
        files.insert(event.type->file()->name());
    for (auto& table : svc.tables)
      files.insert(table.row.type->file()->name());
    if (svc.state != nullptr)
      files.insert(svc.state->file()->name());
  }
  for (auto& file : files)
    p.Print("#include \"$pb_h$\"\n", "pb_h",
            google::protobuf::compiler::StripProto(file) + ".pb.h");
}

/// Prints a banner opening the code of one service, as wide as the project's lines.
void print_section(Printer& p, const google::protobuf::ServiceDescriptor& service) {
  constexpr std::size_t width = 92;
  auto title = "// -- service " + service.full_name() + " ";
  p.Print("\n$title$$rule$\n", "title", title, "rule",
          std::string(title.size() + 2 < width ? width - title.size() : 2, '-'));
}

/// Opens the namespace of the file's package, if it has one.
void print_namespace_open(Printer& p, const FileDescriptor& file) {
  if (!file.package().empty())
    p.Print("\nnamespace $ns$ {\n", "ns", cpp_namespace(file.package()));
}

/// Closes what `print_namespace_open` opened.
void print_namespace_close(Printer& p, const FileDescriptor& file) {
  if (!file.package().empty())
    p.Print("\n} // namespace $ns$\n", "ns", cpp_namespace(file.package()));
}

/// Prints the abstract handler class: `on()` per consumed event, `apply()` per own event.
void print_handlers(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars, "\n");
  print_proto_comments(p, *svc.service);
  vars["apply_note"] = svc.state != nullptr ? ",\n/// and one `apply()` per own event" : "";
  p.Print(vars,
          "/// The handlers of service `$service$`: one `on()` per consumed event$apply_note$.\n"
          "/// Calls for records of different partitions may run concurrently; the records of\n"
          "/// one partition arrive one at a time, in offset order. An exception thrown by a\n"
          "/// handler sends its record to the dead-letter topic.\n"
          "class $handlers$ {\n"
          "public:\n"
          "  virtual ~$handlers$() = default;\n");
  p.Indent();
  for (auto& event : svc.consumes) {
    auto ev = event_vars(svc, event);
    p.Print("\n");
    print_proto_comments(p, *event.type);
    p.Print(ev, "/// Handles a `$event_name$` from topic `$topic_name$`.\n"
                "virtual void on(const $event$& event, $context$& ctx) = 0;\n");
  }
  if (svc.state != nullptr) {
    for (auto& event : svc.emits) {
      if (!event.own)
        continue;
      p.Print(event_vars(svc, event),
              "\n/// Applies own event `$event_name$` to the `$state_name$` of its key.\n"
              "virtual void apply($state$& state, const $event$& event) = 0;\n");
    }
  }
  p.Outdent();
  p.Print("};\n");
}

/// Prints the constexpr topic and event metadata of a service.
void print_metadata(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  vars["topic_count"] = std::to_string(svc.topics.size());
  std::vector<const event_model*> events;
  std::vector<std::pair<bool, bool>> roles;
  for (auto* list : {&svc.consumes, &svc.emits})
    for (auto& event : *list) {
      auto consumed = list == &svc.consumes;
      auto known = std::find_if(events.begin(), events.end(),
                                [&](const event_model* e) { return e->type == event.type; });
      if (known == events.end()) {
        events.push_back(&event);
        roles.emplace_back(consumed, !consumed);
      } else {
        roles[static_cast<std::size_t>(known - events.begin())].second = true;
      }
    }
  vars["event_count"] = std::to_string(events.size());
  p.Print(vars,
          "\n/// What the schema says about service `$service$`:\n"
          "/// its topics (for creating and checking them) and its event types.\n"
          "struct $metadata$ {\n"
          "  /// The full name of the service block.\n"
          "  static constexpr std::string_view service_name = \"$service$\";\n"
          "  /// The service's own event topic; empty if it has none.\n"
          "  static constexpr std::string_view journal = $journal$;\n"
          "  /// What happens to records of types the service does not consume.\n"
          "  static constexpr ::eddy::codegen::unhandled_policy unhandled\n"
          "    = ::eddy::codegen::unhandled_policy::$policy$;\n"
          "  /// The topics the service consumes, emits to or reads as tables: name, partitions"
          " (0:\n"
          "  /// unset), consumed, owned, compacted, table.\n"
          "  static constexpr std::array<::eddy::codegen::topic_info, $topic_count$> topics{{\n");
  for (auto& topic : svc.topics)
    p.Print("    {$name$, $partitions$, $consumed$, $owned$, $compacted$,"
            " ::eddy::codegen::table_kind::$table$},\n",
            "name", quote(topic.name), "partitions", std::to_string(topic.partitions),
            "consumed", topic.consumed ? "true" : "false", "owned",
            topic.owned ? "true" : "false", "compacted", topic.compacted ? "true" : "false",
            "table", table_kind_name(topic.table));
  p.Print(vars,
          "  }};\n"
          "  /// The event types the service consumes or emits: type, topic, key field,"
          " consumed,\n"
          "  /// emitted.\n"
          "  static constexpr std::array<::eddy::codegen::event_info, $event_count$> events{{\n");
  for (std::size_t i = 0; i < events.size(); ++i)
    p.Print("    {\"$type$\", $topic$, \"$key$\", $consumed$, $emitted$},\n", "type",
            events[i]->type->full_name(), "topic", quote(events[i]->topic), "key",
            events[i]->key->name(), "consumed", roles[i].first ? "true" : "false", "emitted",
            roles[i].second ? "true" : "false");
  p.Print("  }};\n");
  vars["table_count"] = std::to_string(svc.tables.size());
  p.Print(vars, "  /// The tables the service reads: row type, topic, key field, kind.\n"
                "  static constexpr std::array<::eddy::codegen::table_info, $table_count$>"
                " tables{");
  if (!svc.tables.empty()) {
    p.Print("{\n");
    for (auto& table : svc.tables)
      p.Print("    {\"$type$\", $topic$, \"$key$\", ::eddy::codegen::table_kind::$kind$},\n",
              "type", table.row.type->full_name(), "topic", quote(table.row.topic), "key",
              table.row.key->name(), "kind", table_kind_name(table.role));
    p.Print("  }");
  }
  p.Print("};\n};\n");
}

/// Prints the context's typed `lookup()`: one branch per declared table, and a
/// `static_assert` for every other type.
void print_lookup(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars,
          "/// The latest row of `key` in the table of type `Row`, or nullopt if it has none."
          " A local\n"
          "/// table holds the partition of the record being handled, so look up keys of that\n"
          "/// partition. Types the service does not declare with `(eddy.table)` or\n"
          "/// `(eddy.global_table)` are rejected at compile time.\n"
          "template <class Row>\n");
  if (svc.tables.empty()) {
    p.Print(vars,
            "std::optional<Row> lookup(const std::string&) const {\n"
            "  static_assert(::eddy::codegen::always_false<Row>,\n"
            "                \"service $service$ reads no table of this type; declare it with\"\n"
            "                \" option (eddy.table) or (eddy.global_table) in $proto$\");\n"
            "  return std::nullopt;\n"
            "}\n\n");
    return;
  }
  p.Print("std::optional<Row> lookup(const std::string& key) const {\n");
  auto first = true;
  for (auto& table : svc.tables) {
    p.Print(event_vars(svc, table.row),
            first ? "  if constexpr (std::is_same_v<Row, $event$>)\n"
                  : "  else if constexpr (std::is_same_v<Row, $event$>)\n");
    p.Print(event_vars(svc, table.row),
            "    return ::eddy::codegen::lookup<Row>(out_, $topic$, key);\n");
    first = false;
  }
  p.Print(vars,
          "  else {\n"
          "    static_assert(::eddy::codegen::always_false<Row>,\n"
          "                  \"service $service$ reads no table of this type; declare it with\"\n"
          "                  \" option (eddy.table) or (eddy.global_table) in $proto$\");\n"
          "    return std::nullopt;\n"
          "  }\n"
          "}\n\n");
}

/// Prints the context class: `emit()` per declared output, `state()`, `lookup()`, `input()`.
void print_context(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  auto stateful = svc.state != nullptr;
  auto tables = !svc.tables.empty();
  vars["state_note"] = stateful && tables
                         ? ",\n/// reads the state of the record's key and looks rows up in its tables"
                       : stateful ? ",\n/// and reads the state of the record's key"
                       : tables   ? ",\n/// and looks rows up in its tables"
                                  : "";
  p.Print(vars,
          "\n/// Handed to `$handlers$` methods: emits the events the service declares with\n"
          "/// `(eddy.emits)`, keyed by their schema's key field$state_note$.\n"
          "/// Valid only during the call, on its thread.\n"
          "class $context$ {\n"
          "public:\n");
  p.Indent();
  for (auto& event : svc.emits) {
    auto ev = event_vars(svc, event);
    print_proto_comments(p, *event.type);
    p.Print(ev,
            "/// Emits a `$event_name$` to topic `$topic_name$`, keyed by its `$key_field$`.\n");
    if (event.own && svc.state != nullptr)
      p.Print("/// An own event: applies it to the state of its key, which must be the"
              " record's.\n");
    p.Print(ev, "void emit(const $event$& event);\n\n");
  }
  p.Print(vars,
          "/// Rejects, at compile time, events the service does not declare in"
          " `(eddy.emits)`.\n"
          "template <class Event>\n"
          "void emit(const Event&) {\n"
          "  static_assert(::eddy::codegen::always_false<Event>,\n"
          "                \"service $service$ does not emit this type; declare it with\"\n"
          "                \" option (eddy.emits) in $proto$\");\n"
          "}\n\n");
  if (svc.state != nullptr)
    p.Print(vars, "/// The state of the key of the record being handled, including the own events"
                  " emitted\n"
                  "/// so far in this call.\n"
                  "const $state$& state() const;\n\n");
  print_lookup(p, svc);
  p.Print(vars, "/// The record being handled.\n"
                "const ::eddy::record& input() const noexcept {\n"
                "  return input_;\n"
                "}\n");
  p.Outdent();
  p.Print(vars,
          "\nprivate:\n"
          "  friend class $dispatcher$;\n\n"
          "  $context$(const ::eddy::record& input, ::eddy::context& out)\n"
          "    : input_(input), out_(out) {\n"
          "  }\n\n"
          "  const ::eddy::record& input_;\n"
          "  ::eddy::context& out_;\n");
  if (svc.state != nullptr)
    p.Print(vars, "  mutable std::optional<$state$> state_;\n");
  p.Print("};\n");
}

/// Prints the dispatcher class and the declaration of `bind()`.
void print_dispatcher(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  vars["policy_doc"] = svc.dead_letter
                         ? "thrown out as\n"
                           "/// `::eddy::codegen::unhandled_type_error` (dead letters)"
                         : "skipped and reported\n"
                           "/// to `::eddy::context::skipped` (the runtime counts and logs them)";
  vars["apply_doc"] = svc.state != nullptr ? "; `apply()`\n/// folds its journal into state" : "";
  p.Print(vars,
          "\n/// Decodes the records of service `$service$` by their `eddy.type` header\n"
          "/// and calls the matching `$handlers$::on()`. Throws\n"
          "/// `::eddy::codegen::decode_error` for a payload that does not parse; records of\n"
          "/// types the service does not consume are $policy_doc$$apply_doc$.\n"
          "/// `dispatch()` may be called from several threads, one per partition.\n"
          "class $dispatcher$ {\n"
          "public:\n"
          "  /// Creates a dispatcher calling `handlers`, which must outlive it.\n"
          "  explicit $dispatcher$($handlers$& handlers) : handlers_(handlers) {\n"
          "  }\n\n"
          "  /// Handles one record, emitting through `out`.\n"
          "  void dispatch(const ::eddy::record& input, ::eddy::context& out);\n");
  if (svc.state != nullptr)
    p.Print(vars,
            "\n  /// Folds one event of journal `$journal_name$` into the `$state_name$` of its key in\n"
            "  /// `store` through `$handlers$::apply()`: the service's journal applier. Events of\n"
            "  /// other types are ignored. Throws `::eddy::codegen::decode_error` if the event"
            " does not\n"
            "  /// parse, `::eddy::codegen::row_decode_error` if the stored state does not.\n"
            "  void apply(const ::eddy::record& event, ::eddy::state_view store) const;\n");
  p.Print(vars,
          "\n  /// How many records were skipped because the service does not consume their"
          " type\n"
          "  /// (or they have no `eddy.type` header).\n"
          "  std::int64_t skipped() const noexcept {\n"
          "    return skipped_.load();\n"
          "  }\n"
          "\nprivate:\n"
          "  $handlers$& handlers_;\n"
          "  std::atomic<std::int64_t> skipped_{0};\n"
          "};\n");
  p.Print(vars, "\n/// Declares service `$service$` to `svc`:\n"
                "/// * its topics that have a partition count (created if missing),\n");
  if (svc.state != nullptr)
    p.Print("/// * its journal, whose events the dispatcher's `apply()` folds into state,\n");
  if (!svc.tables.empty())
    p.Print("/// * its tables,\n");
  p.Print(vars,
          "/// * and the dispatcher as the handler of every consumed topic.\n"
          "/// `handlers` must outlive the service's run. Returns the dispatcher, for its"
          " counters.\n"
          "std::shared_ptr<$dispatcher$> bind(::eddy::service& svc,\n"
          "    $handlers$& handlers);\n");
}

/// Prints the test kit class.
void print_test_kit(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  vars["state_note"] = svc.state != nullptr ? "\n/// and the `state()` of a key" : "";
  p.Print(vars,
          "\n/// Drives `$handlers$` in-process, without a broker: `send()` events, then check\n"
          "/// what was `emitted()`$state_note$. Records whose handler throws land in\n"
          "/// `dead_letters()`, as they would in the dead-letter topic. Deterministic; use it\n"
          "/// from one thread.\n"
          "class $test_kit$ {\n"
          "public:\n"
          "  /// Creates a test kit driving `handlers`, which must outlive it.\n"
          "  explicit $test_kit$($handlers$& handlers) : dispatcher_(handlers) {\n"
          "  }\n");
  p.Indent();
  for (auto& event : svc.consumes)
    p.Print(event_vars(svc, event),
            "\n/// Feeds `event` as a record on topic `$topic_name$`, keyed by its"
            " `$key_field$`.\n"
            "void send(const $event$& event);\n");
  p.Print(vars,
          "\n/// Feeds a raw record (e.g. of an unhandled type, or with a broken payload);"
          " its offset\n"
          "/// is set to the number of records sent before.\n"
          "void send(::eddy::record input);\n\n"
          "/// Feeds the records emitted to topics the service consumes (a re-keying topic, say)\n"
          "/// back into it, as the broker would, in order and until none are left; returns how\n"
          "/// many it fed. Throws std::logic_error once `limit` records were fed and more keep\n"
          "/// coming.\n"
          "std::size_t relay(std::size_t limit = 100000);\n");
  for (auto& table : svc.tables)
    p.Print(event_vars(svc, table.row),
            "\n/// Puts `row` into the table of topic `$topic_name$`, keyed by its `$key_field$`,"
            " as if\n"
            "/// its record had arrived; `lookup<$event$>()` then finds it.\n"
            "void put(const $event$& row);\n");
  p.Print(vars,
          "\n/// The events of type `Event` emitted so far, in order.\n"
          "template <class Event>\n"
          "std::vector<Event> emitted() const {\n"
          "  return out_.emitted<Event>();\n"
          "}\n\n"
          "/// Every record emitted so far, in order.\n"
          "const std::vector<::eddy::record>& emitted_records() const noexcept {\n"
          "  return out_.records();\n"
          "}\n\n"
          "/// The records whose handling threw, with the errors.\n"
          "const std::vector<::eddy::codegen::dead_letter>& dead_letters() const noexcept {\n"
          "  return dead_letters_;\n"
          "}\n\n"
          "/// How many records were skipped because the service does not consume their"
          " type\n"
          "/// (or they have no `eddy.type` header), as the runtime counts them in\n"
          "/// `::eddy::service_stats::records_skipped`.\n"
          "std::int64_t skipped() const noexcept {\n"
          "  return static_cast<std::int64_t>(out_.skipped_records().size());\n"
          "}\n\n"
          "/// The records skipped so far, with the reasons given.\n"
          "const std::vector<::eddy::codegen::skipped_record>& skipped_records() const"
          " noexcept {\n"
          "  return out_.skipped_records();\n"
          "}\n\n");
  if (svc.state != nullptr)
    p.Print(vars, "/// A copy of the state of `key` (a default one if it has none).\n"
                  "$state$ state(const std::string& key) const {\n"
                  "  return ::eddy::codegen::load_state<$state$>(out_.store(), key);\n"
                  "}\n\n");
  p.Print(vars, "/// Forgets emitted records and dead letters; keeps state, tables and counters.\n"
                "void clear() {\n"
                "  out_.clear();\n"
                "  dead_letters_.clear();\n"
                "  relayed_ = 0;\n"
                "}\n");
  p.Outdent();
  p.Print(vars, "\nprivate:\n"
                "  $dispatcher$ dispatcher_;\n");
  if (svc.state != nullptr)
    p.Print(vars, "  ::eddy::codegen::capture_context out_{\n"
                  "    \"$service$\", $journal$,\n"
                  "    [this](const ::eddy::record& event, ::eddy::state_view store) {\n"
                  "      dispatcher_.apply(event, store);\n"
                  "    }};\n");
  else
    p.Print(vars, "  ::eddy::codegen::capture_context out_{\"$service$\"};\n");
  p.Print(vars, "  std::vector<::eddy::codegen::dead_letter> dead_letters_;\n"
                "  std::int64_t next_offset_ = 0;\n"
                "  std::size_t relayed_ = 0;\n"
                "};\n");
}

// -- source -------------------------------------------------------------------------------

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
    p.Print(vars,
            "  throw ::eddy::codegen::unhandled_type_error{\n"
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
      p.Print(event_vars(svc, event),
              "  if (type == \"$event_name$\")\n"
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

/// Prints the test kit's `send()` overloads, `relay()` and one `put()` per table.
void print_test_kit_impl(Printer& p, const service_model& svc) {
  for (auto& event : svc.consumes)
    p.Print(event_vars(svc, event),
            "\nvoid $test_kit$::send(const $event$& event) {\n"
            "  send(::eddy::codegen::encode($topic$, $key$, event));\n"
            "}\n");
  p.Print(service_vars(svc),
          "\nvoid $test_kit$::send(::eddy::record input) {\n"
          "  input.offset = next_offset_++;\n"
          "  try {\n"
          "    dispatcher_.dispatch(input, out_);\n"
          "  } catch (const std::exception& e) {\n"
          "    dead_letters_.push_back({std::move(input), e.what()});\n"
          "  }\n"
          "}\n"
          "\nstd::size_t $test_kit$::relay(std::size_t limit) {\n"
          "  std::size_t fed = 0;\n"
          "  while (relayed_ < out_.records().size()) {\n"
          "    auto rec = out_.records()[relayed_++];\n"
          "    if (!::eddy::codegen::consumes($metadata$::topics, rec.topic))\n"
          "      continue;\n"
          "    if (fed == limit)\n"
          "      throw std::logic_error{\"$test_kit$::relay() fed \" + std::to_string(limit)\n"
          "                             + \" records and more keep coming\"};\n"
          "    ++fed;\n"
          "    send(std::move(rec));\n"
          "  }\n"
          "  return fed;\n"
          "}\n");
  for (auto& table : svc.tables) {
    auto vars = event_vars(svc, table.row);
    vars["key"] = key_expression(table.row, "row");
    p.Print(vars, "\nvoid $test_kit$::put(const $event$& row) {\n"
                  "  out_.put_row($topic$, $key$,\n"
                  "               ::eddy::codegen::serialize(row, \"table $topic_name$\"));\n"
                  "}\n");
  }
}

} // namespace

std::string header_name(const FileDescriptor& file) {
  return google::protobuf::compiler::StripProto(file.name()) + ".eddy.h";
}

std::string source_name(const FileDescriptor& file) {
  return google::protobuf::compiler::StripProto(file.name()) + ".eddy.cc";
}

void print_header(Printer& p, const file_model& model) {
  print_banner(p, *model.file);
  print_includes(p, model);
  if (model.services.empty()) {
    p.Print("\n// $proto$ declares no Eddy service.\n", "proto", model.file->name());
    return;
  }
  print_namespace_open(p, *model.file);
  for (auto& svc : model.services) {
    print_section(p, *svc.service);
    p.Print(service_vars(svc), "\nclass $context$;\nclass $dispatcher$;\n");
    print_handlers(p, svc);
    print_metadata(p, svc);
    print_context(p, svc);
    print_dispatcher(p, svc);
    print_test_kit(p, svc);
  }
  print_namespace_close(p, *model.file);
}

void print_source(Printer& p, const file_model& model) {
  print_banner(p, *model.file);
  p.Print("\n#include \"$header$\"\n", "header", header_name(*model.file));
  if (model.services.empty())
    return;
  print_namespace_open(p, *model.file);
  for (auto& svc : model.services) {
    print_section(p, *svc.service);
    print_context_impl(p, svc);
    print_dispatcher_impl(p, svc);
    print_bind_impl(p, svc);
    print_test_kit_impl(p, svc);
  }
  print_namespace_close(p, *model.file);
}

} // namespace eddy::codegen
