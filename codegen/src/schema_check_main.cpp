// eddy-schema-check OLD.desc NEW.desc: fails (exit code 1) when NEW breaks a published
// event of OLD; both are FileDescriptorSets from `protoc --descriptor_set_out
// --include_imports`. Exit code 2 for unreadable input.

#include <fstream>
#include <iostream>

#include "schema_check.hpp"

namespace {

bool read_set(const char* path, google::protobuf::FileDescriptorSet& set) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    std::cerr << "eddy-schema-check: cannot open " << path
              << " (a missing snapshot is written by the target"
                 " <service>-update-schema-snapshot)\n";
    return false;
  }
  if (set.ParseFromIstream(&in))
    return true;
  std::cerr << "eddy-schema-check: cannot read a FileDescriptorSet from " << path << "\n";
  return false;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: eddy-schema-check OLD.desc NEW.desc\n";
    return 2;
  }
  google::protobuf::FileDescriptorSet before;
  google::protobuf::FileDescriptorSet after;
  if (!read_set(argv[1], before) || !read_set(argv[2], after))
    return 2;
  auto errors = eddy::codegen::check_evolution(before, after);
  for (auto& error : errors)
    std::cerr << "error: " << error << "\n";
  if (errors.empty())
    return 0;
  std::cerr << "eddy-schema-check: " << errors.size()
            << " breaking change(s) against the snapshot " << argv[1]
            << "; if they are intended, update the snapshot (target <service>-update-schema-snapshot).\n";
  return 1;
}
