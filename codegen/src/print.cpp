#include "print.hpp"

#include "print_parts.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <google/protobuf/compiler/code_generator.h>
#include <google/protobuf/stubs/strutil.h>

namespace eddy::codegen {

namespace {

using google::protobuf::FileDescriptor;
using namespace printing;

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

} // namespace

std::string header_name(const FileDescriptor& file) {
  return google::protobuf::compiler::StripProto(file.name()) + ".eddy.h";
}

std::string source_name(const FileDescriptor& file) {
  return google::protobuf::compiler::StripProto(file.name()) + ".eddy.cc";
}

std::string test_kit_name(const FileDescriptor& file) {
  return google::protobuf::compiler::StripProto(file.name()) + ".eddy.testkit.h";
}

void print_header(Printer& p, const file_model& model) {
  print_banner(p, *model.file,
               "typed handlers, contexts and emit functions, topic metadata and dispatchers");
  print_includes(p, model);
  if (model.services.empty()) {
    p.Print("\n// $proto$ declares no Eddy service.\n", "proto", model.file->name());
    return;
  }
  print_namespace_open(p, *model.file);
  for (auto& svc : model.services) {
    print_section(p, *svc.service);
    print_service_declarations(p, svc);
  }
  print_namespace_close(p, *model.file);
}

void print_source(Printer& p, const file_model& model) {
  print_banner(p, *model.file, "the definitions of what its .eddy.h declares");
  p.Print("\n#include \"$header$\"\n", "header", header_name(*model.file));
  if (model.services.empty())
    return;
  print_namespace_open(p, *model.file);
  for (auto& svc : model.services) {
    print_section(p, *svc.service);
    print_service_definitions(p, svc);
  }
  print_namespace_close(p, *model.file);
}

void print_test_kit_header(Printer& p, const file_model& model) {
  print_banner(p, *model.file, "test kits that drive the handlers in-process, for tests only");
  p.Print("\n#pragma once\n\n"
          "#include <cstddef>\n"
          "#include <cstdint>\n"
          "#include <stdexcept>\n"
          "#include <string>\n"
          "#include <vector>\n\n"
          "#include <eddy/codegen/testkit.hpp>\n\n"
          "#include \"$header$\"\n",
          "header", header_name(*model.file));
  if (model.services.empty())
    return;
  print_namespace_open(p, *model.file);
  for (auto& svc : model.services) {
    print_section(p, *svc.service);
    print_service_test_kit(p, svc);
  }
  print_namespace_close(p, *model.file);
}

} // namespace eddy::codegen
