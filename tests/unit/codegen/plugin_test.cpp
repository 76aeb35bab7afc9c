// Tests of protoc-gen-eddy run as protoc runs it: the generated files match the checked-in
// goldens byte for byte, parameters are rejected, and every bad annotation makes protoc
// fail with a message naming the file and line, the element, and the fix.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "child_process.hpp"

using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

/// The outcome of one protoc run.
struct protoc_result {
  int exit_code = -1;
  std::string output;
};

/// Runs protoc with the plugin on `proto` (relative to `root`), writing to `out_dir`.
protoc_result run_protoc(const std::string& root, const std::string& proto,
                         const std::string& out_dir, const std::string& parameter = "") {
  std::vector<std::string> args{
    "--plugin=protoc-gen-eddy=" EDDY_PLUGIN,
    "--eddy_out=" + (parameter.empty() ? "" : parameter + ":") + out_dir,
    "-I" + root,
    "-I" EDDY_OPTIONS_PROTO_DIR,
    root + "/" + proto,
  };
  eddy::test::child_process protoc{EDDY_PROTOC, args};
  auto code = protoc.wait(30s);
  return {code.value_or(-1), protoc.output()};
}

/// A fresh, empty directory under the temp directory, removed at scope exit.
class temp_dir {
public:
  temp_dir() {
    auto base = fs::temp_directory_path() / "eddy-codegen-test-XXXXXX";
    std::string path = base.string();
    if (mkdtemp(path.data()) == nullptr)
      throw std::runtime_error{"mkdtemp failed"};
    path_ = path;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const {
    return path_;
  }

private:
  fs::path path_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> golden_schemas() {
  std::vector<std::string> result;
  std::istringstream list{EDDY_CODEGEN_GOLDEN_SCHEMAS};
  for (std::string item; std::getline(list, item, ',');)
    result.push_back(item);
  return result;
}

} // namespace

TEST_CASE("the generated code matches the golden files byte for byte") {
  for (auto& proto : golden_schemas()) {
    DYNAMIC_SECTION(proto) {
      temp_dir out;
      auto result = run_protoc(EDDY_CODEGEN_SCHEMA_DIR, proto, out.path().string());
      INFO(result.output);
      REQUIRE(result.exit_code == 0);
      auto stem = proto.substr(0, proto.size() - std::string{".proto"}.size());
      for (auto ext : {".eddy.h", ".eddy.cc"}) {
        INFO(stem + ext + " differs from its golden; if the change is intended, run"
             " `cmake --build <build dir> --target regenerate-goldens` and review the diff");
        auto golden = read_file(fs::path{EDDY_CODEGEN_GOLDEN_DIR} / (stem + ext));
        REQUIRE_FALSE(golden.empty());
        CHECK(read_file(out.path() / (stem + ext)) == golden);
      }
    }
  }
}

TEST_CASE("generated files open with the do-not-edit banner naming their source") {
  auto header = read_file(fs::path{EDDY_CODEGEN_GOLDEN_DIR} / "shop/orders.eddy.h");
  CHECK(header.rfind("// generated — do not edit; source: shop/orders.proto\n", 0) == 0);
  auto source = read_file(fs::path{EDDY_CODEGEN_GOLDEN_DIR} / "shop/orders.eddy.cc");
  CHECK(source.rfind("// generated — do not edit; source: shop/orders.proto\n", 0) == 0);
}

TEST_CASE("the proto comments are carried over to the generated code") {
  auto header = read_file(fs::path{EDDY_CODEGEN_GOLDEN_DIR} / "shop/orders.eddy.h");
  CHECK(header.find("/// Accepts orders once and cancels only placed ones.") != std::string::npos);
  CHECK(header.find("/// A customer asks to place an order.") != std::string::npos);
}

TEST_CASE("the plugin rejects parameters with a clear error") {
  temp_dir out;
  auto result = run_protoc(EDDY_CODEGEN_SCHEMA_DIR, "shop/orders.proto", out.path().string(),
                           "lite=true");
  CHECK(result.exit_code != 0);
  CHECK_THAT(result.output, Catch::Contains("unknown parameter \"lite\"")
                              && Catch::Contains("takes no parameters"));
}

TEST_CASE("bad annotations make protoc fail naming file, element and fix") {
  struct bad_case {
    const char* proto;
    const char* location;
    const char* element;
    const char* problem;
  };
  const bad_case cases[] = {
    {"key_missing.proto", "key_missing.proto:8:1:", "message bad.OrderPlaced",
     "no (eddy.key)"},
    {"key_unknown.proto", "key_unknown.proto:8:1:", "message bad.OrderPlaced",
     "(eddy.key) names field \"id\", which does not exist"},
    {"key_wrong_type.proto", "key_wrong_type.proto:8:1:", "message bad.PriceChanged",
     "key field \"price\" is double"},
    {"key_repeated.proto", "key_repeated.proto:8:1:", "message bad.OrderTagged",
     "key field \"tags\" is repeated string"},
    {"key_without_topic.proto", "key_without_topic.proto:8:1:", "message bad.OrderPlaced",
     "sets (eddy.key) but no (eddy.topic)"},
    {"consumes_without_topic.proto", "consumes_without_topic.proto:12:1:",
     "service bad.Orders", "(eddy.consumes) names bad.PlaceOrder, which has no (eddy.topic)"},
    {"emits_without_topic.proto", "emits_without_topic.proto:18:1:", "service bad.Orders",
     "(eddy.emits) names bad.OrderPlaced, which has no (eddy.topic)"},
    {"consumes_unknown_type.proto", "consumes_unknown_type.proto:8:1:", "service bad.Orders",
     "(eddy.consumes) names \"PlaceOrdr\", which is no message in scope"},
    {"partitions_conflict.proto", "partitions_conflict.proto:22:1:", "service bad.Orders",
     "topic \"commands\" has 4 partitions according to bad.PlaceOrder but 8"},
    {"state_without_journal.proto", "state_without_journal.proto:18:1:", "service bad.Orders",
     "(eddy.state) is set but (eddy.journal) is not"},
    {"journal_without_own_event.proto", "journal_without_own_event.proto:20:1:",
     "service bad.Orders", "no emitted event lives on its journal \"orders-journal\""},
    {"journal_without_partitions.proto", "journal_without_partitions.proto:24:1:",
     "service bad.Orders", "its journal \"orders-journal\" has no partition count"},
    {"journal_compacted.proto", "journal_compacted.proto:22:1:", "service bad.Orders",
     "its journal \"orders-journal\" is compacted"},
    {"not_co_partitioned.proto", "not_co_partitioned.proto:26:1:", "service bad.Orders",
     "consumed topic \"commands\" has 8 partitions but its journal \"orders-journal\" has 4"},
    {"table_without_topic.proto", "table_without_topic.proto:18:1:", "service bad.Orders",
     "(eddy.global_table) names bad.Customer, which has no (eddy.topic)"},
    {"table_without_partitions.proto", "table_without_partitions.proto:21:1:",
     "service bad.Orders", "(eddy.table) names bad.Customer, whose topic \"customers\" has no"
                           " partition count"},
    {"table_consumed.proto", "table_consumed.proto:20:1:", "service bad.Customers",
     "topic \"customers\" is both consumed (bad.CustomerChanged) and read as table"},
  };
  for (auto& c : cases) {
    DYNAMIC_SECTION(c.proto) {
      temp_dir out;
      auto result = run_protoc(EDDY_CODEGEN_BAD_DIR, c.proto, out.path().string());
      INFO(result.output);
      CHECK(result.exit_code != 0);
      CHECK_THAT(result.output, Catch::Contains(c.location) && Catch::Contains(c.element)
                                  && Catch::Contains(c.problem) && Catch::Contains("Fix: "));
      CHECK(fs::is_empty(out.path()));
    }
  }
}
