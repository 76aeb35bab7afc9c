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
          "#include <cstdint>\n"
          "#include <memory>\n"
          "#include <mutex>\n"
          "#include <string>\n"
          "#include <string_view>\n"
          "#include <unordered_map>\n"
          "#include <vector>\n\n"
          "#include <eddy/codegen/runtime.hpp>\n"
          "#include <eddy/context.hpp>\n"
          "#include <eddy/record.hpp>\n"
          "#include <eddy/service.hpp>\n\n");
  std::set<std::string> files{model.file->name()};
  for (auto& svc : model.services) {
    for (auto* events : {&svc.consumes, &svc.emits})
      for (auto& event : *events)
        files.insert(event.type->file()->name());
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
          "  /// The topics the service consumes or emits to: name, partitions (0: unset),"
          " consumed,\n"
          "  /// owned, compacted.\n"
          "  static constexpr std::array<::eddy::codegen::topic_info, $topic_count$> topics{{\n");
  for (auto& topic : svc.topics)
    p.Print("    {$name$, $partitions$, $consumed$, $owned$, $compacted$},\n", "name",
            quote(topic.name), "partitions", std::to_string(topic.partitions), "consumed",
            topic.consumed ? "true" : "false", "owned", topic.owned ? "true" : "false",
            "compacted", topic.compacted ? "true" : "false");
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
  p.Print("  }};\n};\n");
}

/// Prints the context class: `emit()` per declared output, `state()`, `input()`.
void print_context(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  vars["state_note"] = svc.state != nullptr ? ",\n/// and reads the state of the record's key" : "";
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
    p.Print(vars, "/// The state of the key of the record being handled.\n"
                  "const $state$& state() const;\n\n");
  p.Print(vars, "/// The record being handled.\n"
                "const ::eddy::record& input() const noexcept {\n"
                "  return input_;\n"
                "}\n");
  p.Outdent();
  p.Print(vars,
          "\nprivate:\n"
          "  friend class $dispatcher$;\n\n"
          "  $context$(const ::eddy::record& input, ::eddy::context& out,\n"
          "      $dispatcher$& dispatcher)\n"
          "    : input_(input), out_(out), dispatcher_(dispatcher) {\n"
          "  }\n\n"
          "  const ::eddy::record& input_;\n"
          "  ::eddy::context& out_;\n"
          "  $dispatcher$& dispatcher_;\n"
          "};\n");
}

/// Prints the dispatcher class and the declaration of `bind()`.
void print_dispatcher(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  vars["policy_doc"] = svc.dead_letter
                         ? "thrown out as\n"
                           "/// `::eddy::codegen::unhandled_type_error` (dead letters)"
                         : "skipped and counted";
  p.Print(vars,
          "\n/// Decodes the records of service `$service$` by their `eddy.type` header\n"
          "/// and calls the matching `$handlers$::on()`. Throws\n"
          "/// `::eddy::codegen::decode_error` for a payload that does not parse; records of\n"
          "/// types the service does not consume are $policy_doc$.\n"
          "/// `dispatch()` may be called from several threads, one per partition.\n"
          "class $dispatcher$ {\n"
          "public:\n"
          "  /// Creates a dispatcher calling `handlers`, which must outlive it.\n"
          "  explicit $dispatcher$($handlers$& handlers) : handlers_(handlers) {\n"
          "  }\n\n"
          "  /// Handles one record, emitting through `out`.\n"
          "  void dispatch(const ::eddy::record& input, ::eddy::context& out);\n\n"
          "  /// How many records were skipped because the service does not consume their"
          " type.\n"
          "  std::int64_t skipped() const noexcept {\n"
          "    return skipped_.load();\n"
          "  }\n");
  if (svc.state != nullptr)
    p.Print(vars,
            "\n  /// A copy of the state of `key` (a default one if it has none). Call it while"
            " no record\n"
            "  /// of that key is being handled.\n"
            "  $state$ state(const std::string& key) const;\n");
  p.Print(vars, "\nprivate:\n"
                "  friend class $context$;\n\n");
  if (svc.state != nullptr)
    p.Print(vars, "  $state$& state_of(const std::string& key);\n\n");
  p.Print(vars, "  $handlers$& handlers_;\n"
                "  std::atomic<std::int64_t> skipped_{0};\n");
  if (svc.state != nullptr)
    p.Print(vars, "  mutable std::mutex states_mtx_;\n"
                  "  std::unordered_map<std::string, $state$> states_;\n");
  p.Print("};\n");
  vars["state_note"] = svc.state != nullptr ? " and state" : "";
  p.Print(vars,
          "\n/// Declares the topics of service `$service$` that have a partition\n"
          "/// count and registers a dispatcher for every consumed topic. `handlers` must\n"
          "/// outlive the service's run.\n"
          "/// Returns the dispatcher, for its counters$state_note$.\n"
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
          "/// The events of type `Event` emitted so far, in order.\n"
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
          " type.\n"
          "std::int64_t skipped() const noexcept {\n"
          "  return dispatcher_.skipped();\n"
          "}\n\n");
  if (svc.state != nullptr)
    p.Print(vars, "/// A copy of the state of `key` (a default one if it has none).\n"
                  "$state$ state(const std::string& key) const {\n"
                  "  return dispatcher_.state(key);\n"
                  "}\n\n");
  p.Print(vars, "/// Forgets emitted records and dead letters; keeps state and counters.\n"
                "void clear() {\n"
                "  out_.clear();\n"
                "  dead_letters_.clear();\n"
                "}\n");
  p.Outdent();
  p.Print(vars, "\nprivate:\n"
                "  $dispatcher$ dispatcher_;\n"
                "  ::eddy::codegen::capture_context out_{\"$service$\"};\n"
                "  std::vector<::eddy::codegen::dead_letter> dead_letters_;\n"
                "  std::int64_t next_offset_ = 0;\n"
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
              "  ::eddy::codegen::emit(out_, $topic$, key, event);\n"
              "  dispatcher_.handlers_.apply(dispatcher_.state_of(key), event);\n");
    } else {
      p.Print(ev, "  ::eddy::codegen::emit(out_, $topic$, $key$, event);\n");
    }
    p.Print("}\n");
  }
  if (svc.state != nullptr)
    p.Print(service_vars(svc), "\nconst $state$& $context$::state() const {\n"
                               "  return dispatcher_.state_of(input_.key);\n"
                               "}\n");
}

/// Prints `dispatch()`, which decodes by type header, and the state accessors.
void print_dispatcher_impl(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars, "\nvoid $dispatcher$::dispatch(const ::eddy::record& input, ::eddy::context&"
                " out) {\n"
                "  const auto& type = ::eddy::codegen::type_of(input);\n"
                "  $context$ ctx{input, out, *this};\n");
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
    p.Print("  ++skipped_;\n");
  p.Print("}\n");
  if (svc.state == nullptr)
    return;
  p.Print(vars, "\n$state$ $dispatcher$::state(const std::string& key) const {\n"
                "  std::lock_guard<std::mutex> guard{states_mtx_};\n"
                "  auto it = states_.find(key);\n"
                "  return it != states_.end() ? it->second : $state${};\n"
                "}\n"
                "\n$state$& $dispatcher$::state_of(const std::string& key) {\n"
                "  std::lock_guard<std::mutex> guard{states_mtx_};\n"
                "  return states_[key];\n"
                "}\n");
}

/// Prints `bind()`: topic declarations and one consume registration per consumed topic.
void print_bind_impl(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  p.Print(vars, "\nstd::shared_ptr<$dispatcher$> bind(::eddy::service& svc,\n"
                "    $handlers$& handlers) {\n"
                "  auto dispatcher = std::make_shared<$dispatcher$>(handlers);\n");
  for (auto& topic : svc.topics)
    if (topic.partitions > 0 && topic.compacted)
      p.Print("  svc.topic($name$, $partitions$, -1, {{\"cleanup.policy\", \"compact\"}});\n",
              "name", quote(topic.name), "partitions", std::to_string(topic.partitions));
    else if (topic.partitions > 0)
      p.Print("  svc.topic($name$, $partitions$);\n", "name", quote(topic.name), "partitions",
              std::to_string(topic.partitions));
  p.Print("  auto handle = [dispatcher](const ::eddy::record& input, ::eddy::context& out) {\n"
          "    dispatcher->dispatch(input, out);\n"
          "  };\n");
  for (auto& topic : svc.topics)
    if (topic.consumed)
      p.Print("  svc.consume($name$, handle);\n", "name", quote(topic.name));
  p.Print("  return dispatcher;\n}\n");
}

/// Prints the test kit's `send()` overloads.
void print_test_kit_impl(Printer& p, const service_model& svc) {
  for (auto& event : svc.consumes)
    p.Print(event_vars(svc, event),
            "\nvoid $test_kit$::send(const $event$& event) {\n"
            "  send(::eddy::codegen::encode($topic$, $key$, event));\n"
            "}\n");
  p.Print(service_vars(svc), "\nvoid $test_kit$::send(::eddy::record input) {\n"
                             "  input.offset = next_offset_++;\n"
                             "  try {\n"
                             "    dispatcher_.dispatch(input, out_);\n"
                             "  } catch (const std::exception& e) {\n"
                             "    dead_letters_.push_back({std::move(input), e.what()});\n"
                             "  }\n"
                             "}\n");
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
