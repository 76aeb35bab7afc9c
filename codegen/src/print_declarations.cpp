// The declarations of one Eddy service in its .eddy.h: the handler class, topic metadata,
// the typed context and the dispatcher.
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

/// Prints the abstract handler class: `on()` per consumed event, `apply()` per own event.
void print_handlers(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars, "\n");
  print_proto_comments(p, *svc.service);
  vars["apply_note"] = svc.state != nullptr ? ",\n/// and one `apply()` per own event" : "";
  p.Print(
    vars,
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
  p.Print(
    vars,
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
    "  /// The topics the service consumes, emits to or reads as tables (partitions 0:"
    " unset).\n"
    "  static constexpr std::array<::eddy::codegen::topic_info, $topic_count$> topics{{\n");
  for (auto& topic : svc.topics)
    p.Print("    {.name = $name$,\n"
            "     .partitions = $partitions$,\n"
            "     .consumed = $consumed$,\n"
            "     .owned = $owned$,\n"
            "     .compacted = $compacted$,\n"
            "     .table = ::eddy::codegen::table_kind::$table$},\n",
            "name", quote(topic.name), "partitions", std::to_string(topic.partitions),
            "consumed", topic.consumed ? "true" : "false", "owned",
            topic.owned ? "true" : "false", "compacted", topic.compacted ? "true" : "false",
            "table", table_kind_name(topic.table));
  p.Print(
    vars,
    "  }};\n"
    "  /// The event types the service consumes or emits.\n"
    "  static constexpr std::array<::eddy::codegen::event_info, $event_count$> events{{\n");
  for (std::size_t i = 0; i < events.size(); ++i)
    p.Print("    {.type = \"$type$\",\n"
            "     .topic = $topic$,\n"
            "     .key_field = \"$key$\",\n"
            "     .consumed = $consumed$,\n"
            "     .emitted = $emitted$},\n",
            "type", events[i]->type->full_name(), "topic", quote(events[i]->topic), "key",
            events[i]->key->name(), "consumed", roles[i].first ? "true" : "false", "emitted",
            roles[i].second ? "true" : "false");
  p.Print("  }};\n");
  vars["table_count"] = std::to_string(svc.tables.size());
  p.Print(vars, "  /// The tables the service reads.\n"
                "  static constexpr std::array<::eddy::codegen::table_info, $table_count$>"
                " tables{");
  if (!svc.tables.empty()) {
    p.Print("{\n");
    for (auto& table : svc.tables)
      p.Print("    {.type = \"$type$\",\n"
              "     .topic = $topic$,\n"
              "     .key_field = \"$key$\",\n"
              "     .kind = ::eddy::codegen::table_kind::$kind$},\n",
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
    p.Print(
      vars,
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
  p.Print(
    vars,
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
  vars["state_note"] =
    stateful && tables
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
    p.Print(
      ev, "/// Emits a `$event_name$` to topic `$topic_name$`, keyed by its `$key_field$`.\n");
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
    p.Print(vars,
            "/// The state of the key of the record being handled, including the own events"
            " emitted\n"
            "/// so far in this call.\n"
            "const $state$& state() const;\n\n");
  print_lookup(p, svc);
  p.Print(vars, "/// The record being handled.\n"
                "const ::eddy::record& input() const noexcept {\n"
                "  return input_;\n"
                "}\n");
  p.Outdent();
  p.Print(vars, "\nprivate:\n"
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
  vars["policy_doc"] =
    svc.dead_letter ? "thrown out as\n"
                      "/// `::eddy::codegen::unhandled_type_error` (dead letters)"
                    : "skipped and reported\n"
                      "/// to `::eddy::context::skipped` (the runtime counts and logs them)";
  vars["apply_doc"] =
    svc.state != nullptr ? "; `apply()`\n/// folds its journal into state" : "";
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
    p.Print(
      vars,
      "\n  /// Folds one event of journal `$journal_name$` into the `$state_name$` of its key "
      "in\n"
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
  p.Print(vars, "/// * and the dispatcher as the handler of every consumed topic.\n"
                "/// `handlers` must outlive the service's run. Returns the dispatcher, for its"
                " counters.\n"
                "std::shared_ptr<$dispatcher$> bind(::eddy::service& svc,\n"
                "    $handlers$& handlers);\n");
}

} // namespace

void print_service_declarations(Printer& p, const service_model& svc) {
  p.Print(service_vars(svc), "\nclass $context$;\nclass $dispatcher$;\n");
  print_handlers(p, svc);
  print_metadata(p, svc);
  print_context(p, svc);
  print_dispatcher(p, svc);
}

} // namespace eddy::codegen::printing
