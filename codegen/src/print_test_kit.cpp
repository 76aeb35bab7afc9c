// The test kit of one Eddy service in its .eddy.testkit.h: a class that drives the
// handlers in-process, defined inline, so only the tests that include it compile it.
#include "print_parts.hpp"

namespace eddy::codegen::printing {

namespace {

/// Prints the test kit class.
void print_test_kit(Printer& p, const service_model& svc) {
  auto vars = service_vars(svc);
  vars["state_note"] = svc.state != nullptr ? "\n/// and the `state()` of a key" : "";
  p.Print(
    vars,
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
  p.Print(
    vars,
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
    p.Print(
      event_vars(svc, table.row),
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
  p.Print(vars,
          "/// Forgets emitted records and dead letters; keeps state, tables and counters.\n"
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

/// Prints the test kit's `send()` overloads, `relay()` and one `put()` per table.
void print_test_kit_impl(Printer& p, const service_model& svc) {
  for (auto& event : svc.consumes)
    p.Print(event_vars(svc, event), "\ninline void $test_kit$::send(const $event$& event) {\n"
                                    "  send(::eddy::codegen::encode($topic$, $key$, event));\n"
                                    "}\n");
  p.Print(service_vars(svc),
          "\ninline void $test_kit$::send(::eddy::record input) {\n"
          "  input.offset = next_offset_++;\n"
          "  try {\n"
          "    dispatcher_.dispatch(input, out_);\n"
          "  } catch (const std::exception& e) {\n"
          "    dead_letters_.push_back({std::move(input), e.what()});\n"
          "  }\n"
          "}\n"
          "\ninline std::size_t $test_kit$::relay(std::size_t limit) {\n"
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
    p.Print(vars, "\ninline void $test_kit$::put(const $event$& row) {\n"
                  "  out_.put_row($topic$, $key$,\n"
                  "               ::eddy::codegen::serialize(row, \"table $topic_name$\"));\n"
                  "}\n");
  }
}

} // namespace

void print_service_test_kit(Printer& p, const service_model& svc) {
  print_test_kit(p, svc);
  print_test_kit_impl(p, svc);
}

} // namespace eddy::codegen::printing
