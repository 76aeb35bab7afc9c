// eddy-schema-check SNAPSHOT.desc CURRENT.desc: fails (exit code 1) when CURRENT breaks a
// published event of SNAPSHOT; both are FileDescriptorSets from `protoc --descriptor_set_out
// --include_imports`. With --write-missing, a missing SNAPSHOT is written from CURRENT (the
// first build of a project writes its snapshot). Exit code 2 for unreadable input.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "schema_check.hpp"

namespace {

bool read_set(const std::string& path, google::protobuf::FileDescriptorSet& set) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    std::cerr << "eddy-schema-check: cannot open " << path
              << " (a missing snapshot is written by the target"
                 " <name>-update-schema-snapshot)\n";
    return false;
  }
  if (set.ParseFromIstream(&in))
    return true;
  std::cerr << "eddy-schema-check: cannot read a FileDescriptorSet from " << path << "\n";
  return false;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fails when the CURRENT schemas break an event published in the SNAPSHOT "
               "(a field number reused with another type, a field removed without "
               "`reserved`, an event moved to another topic or key).",
               "eddy-schema-check"};
  std::string snapshot;
  std::string current;
  bool write_missing = false;
  app.add_option("SNAPSHOT", snapshot, "the committed descriptor set")->required();
  app.add_option("CURRENT", current, "the descriptor set of the schemas as they are now")
    ->required()
    ->check(CLI::ExistingFile);
  app.add_flag("--write-missing", write_missing,
               "if SNAPSHOT does not exist, write it from CURRENT and pass");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (write_missing && !std::filesystem::exists(snapshot)) {
    std::error_code error;
    std::filesystem::copy_file(current, snapshot, error);
    if (error) {
      std::cerr << "eddy-schema-check: cannot write " << snapshot << ": " << error.message()
                << "\n";
      return 2;
    }
    std::cerr << "eddy-schema-check: wrote the schema snapshot " << snapshot
              << " (there was none); commit it\n";
    return 0;
  }
  google::protobuf::FileDescriptorSet before;
  google::protobuf::FileDescriptorSet after;
  if (!read_set(snapshot, before) || !read_set(current, after))
    return 2;
  auto errors = eddy::codegen::check_evolution(before, after);
  for (auto& error : errors)
    std::cerr << "error: " << error << "\n";
  if (errors.empty())
    return 0;
  std::cerr << "eddy-schema-check: " << errors.size()
            << " breaking change(s) against the snapshot " << snapshot
            << "; if they are intended, update the snapshot (target"
               " <name>-update-schema-snapshot).\n";
  return 1;
}
