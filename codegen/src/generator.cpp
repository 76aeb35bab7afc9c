#include "generator.hpp"

#include <memory>
#include <utility>
#include <vector>

#include <google/protobuf/io/printer.h>
#include <google/protobuf/io/zero_copy_stream.h>

#include "model.hpp"
#include "print.hpp"

namespace eddy::codegen {

bool generator::Generate(const google::protobuf::FileDescriptor* file,
                         const std::string& parameter,
                         google::protobuf::compiler::GeneratorContext* context,
                         std::string* error) const {
  std::vector<std::pair<std::string, std::string>> params;
  google::protobuf::compiler::ParseGeneratorParameter(parameter, &params);
  if (!params.empty()) {
    *error = "unknown parameter \"" + params.front().first
             + "\": protoc-gen-eddy takes no parameters. Fix: pass --eddy_out=<dir>.";
    return false;
  }
  file_model model;
  if (!build_file_model(*file, model, *error))
    return false;
  auto write = [&](const std::string& name, auto print) {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out{context->Open(name)};
    google::protobuf::io::Printer p{out.get(), '$'};
    print(p, model);
  };
  write(header_name(*file), print_header);
  write(source_name(*file), print_source);
  write(test_kit_name(*file), print_test_kit_header);
  return true;
}

std::uint64_t generator::GetSupportedFeatures() const {
  return FEATURE_PROTO3_OPTIONAL;
}

} // namespace eddy::codegen
