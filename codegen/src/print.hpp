#pragma once

// The printers of protoc-gen-eddy: pure functions from a checked model to C++ text, one
// `print_…` per construct, each printing through `io::Printer` with named `$vars$`.

#include <string>

#include <google/protobuf/io/printer.h>

#include "model.hpp"

namespace eddy::codegen {

/// Returns the name of the generated header for `file`, e.g. `shop/orders.eddy.h`.
std::string header_name(const google::protobuf::FileDescriptor& file);

/// Returns the name of the generated source for `file`, e.g. `shop/orders.eddy.cc`.
std::string source_name(const google::protobuf::FileDescriptor& file);

/// Returns the name of the generated test kit header for `file`, e.g.
/// `shop/orders.eddy.testkit.h`.
std::string test_kit_name(const google::protobuf::FileDescriptor& file);

/// Prints the header: handler classes, contexts, metadata, dispatchers.
void print_header(google::protobuf::io::Printer& p, const file_model& model);

/// Prints the source that implements what `print_header` declares.
void print_source(google::protobuf::io::Printer& p, const file_model& model);

/// Prints the test kit header: one test kit class per service, defined inline.
void print_test_kit_header(google::protobuf::io::Printer& p, const file_model& model);

} // namespace eddy::codegen
