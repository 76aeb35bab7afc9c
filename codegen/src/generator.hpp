#pragma once

// The protoc entry of protoc-gen-eddy: reads parameters, builds the model, opens the output
// files and hands them to the printers. All the work is in model.cpp and print.cpp.

#include <cstdint>
#include <string>

#include <google/protobuf/compiler/code_generator.h>

namespace eddy::codegen {

/// Writes `<file>.eddy.h` and `<file>.eddy.cc` for every .proto protoc hands it.
class generator : public google::protobuf::compiler::CodeGenerator {
public:
  /// Generates the files for `file`; fails on parameters (it takes none) and on bad
  /// annotations, with a message naming file, element and fix.
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;

  /// Declares support for proto3 `optional` fields.
  std::uint64_t GetSupportedFeatures() const override;
};

} // namespace eddy::codegen
