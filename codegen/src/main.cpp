// protoc-gen-eddy: the protoc plugin that turns Eddy-annotated .proto files into typed
// service handlers. Run by protoc: `protoc --plugin=protoc-gen-eddy=… --eddy_out=DIR x.proto`.

#include <google/protobuf/compiler/plugin.h>

#include "generator.hpp"

int main(int argc, char* argv[]) {
  eddy::codegen::generator gen;
  return google::protobuf::compiler::PluginMain(argc, argv, &gen);
}
