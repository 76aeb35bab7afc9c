// Tests of eddy-schema-check run as the build runs it: protoc writes descriptor sets of the
// published schema (evolution/before) and of each change (evolution/after/<case>), and the
// check accepts the compatible changes and rejects each breaking one with a message naming
// the file, the event, the field and the fix.

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "child_process.hpp"

using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

/// The exit code and output of one program run.
struct run_result {
  int exit_code = -1;
  std::string output;
};

run_result run(const std::string& program, const std::vector<std::string>& args) {
  eddy::test::child_process child{program, args};
  auto code = child.wait(30s);
  return {code.value_or(-1), child.output()};
}

/// Writes the descriptor set of `evolution/<dir>/events.proto` and returns its path.
fs::path descriptor_set(const std::string& dir) {
  auto name = dir;
  for (auto& c : name)
    if (c == '/')
      c = '-';
  auto out = fs::temp_directory_path()
             / ("eddy-schema-check-" + std::to_string(getpid()) + "-" + name + ".desc");
  auto result = run(EDDY_PROTOC, {"--descriptor_set_out=" + out.string(), "--include_imports",
                                  "-I" EDDY_EVOLUTION_DIR "/" + dir,
                                  "-I" EDDY_OPTIONS_PROTO_DIR, "events.proto"});
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return out;
}

/// Checks the change `evolution/after/<name>` against `evolution/before`.
run_result check(const std::string& name) {
  auto before = descriptor_set("before");
  auto after = descriptor_set("after/" + name);
  auto result = run(EDDY_SCHEMA_CHECK, {before.string(), after.string()});
  fs::remove(before);
  fs::remove(after);
  return result;
}

} // namespace

TEST_CASE("new fields, renamed fields, new event types and non-events are compatible") {
  auto result = check("compatible");
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output.empty());
}

TEST_CASE("a field removed with its number reserved is compatible") {
  auto result = check("field_reserved");
  INFO(result.output);
  CHECK(result.exit_code == 0);
}

TEST_CASE("a field removed without reserved is rejected, naming the reservation to add") {
  auto result = check("field_removed");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output,
             Catch::Contains("events.proto: event evo.Shipment, field carrier = 3")
               && Catch::Contains("removed without reserving")
               && Catch::Contains("Fix: add `reserved 3; reserved \"carrier\";`"));
}

TEST_CASE("a field number reused with another type is rejected") {
  auto result = check("type_changed");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output, Catch::Contains("evo.Shipment, field parcels = 2")
                              && Catch::Contains("from `int32` to `string parcels`")
                              && Catch::Contains("Fix: keep field 2 as `int32`"));
}

TEST_CASE("a repeated field made singular is rejected") {
  auto result = check("cardinality_changed");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output, Catch::Contains("field items = 4")
                              && Catch::Contains("from `repeated string` to `string items`"));
}

TEST_CASE("a reserved field number reused is rejected") {
  auto result = check("reserved_reused");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output, Catch::Contains("field insurer = 9 reuses a reserved number")
                              && Catch::Contains("Fix: give insurer a new number"));
}

TEST_CASE("an event moved to another topic is rejected") {
  auto result = check("topic_moved");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output,
             Catch::Contains("event evo.Shipment moved from topic 'shipments' to 'deliveries'")
               && Catch::Contains("Fix: keep option (eddy.topic) = \"shipments\""));
}

TEST_CASE("an event keyed by another field is rejected") {
  auto result = check("key_changed");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output, Catch::Contains("changed its key field from 'id' to 'carrier'")
                              && Catch::Contains("Fix: keep option (eddy.key) = \"id\""));
}

TEST_CASE("a published event type removed is rejected") {
  auto result = check("event_removed");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output, Catch::Contains("event evo.Shipment was removed"));
}

TEST_CASE("input that is not a descriptor set is an error of its own") {
  auto result = run(EDDY_SCHEMA_CHECK, {EDDY_EVOLUTION_DIR "/before/events.proto",
                                        EDDY_EVOLUTION_DIR "/before/events.proto"});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.output, Catch::Contains("cannot read a FileDescriptorSet"));
}
