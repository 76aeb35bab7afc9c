// Pieces every printer of protoc-gen-eddy's output shares: the variables of a service and
// of an event, string quoting, and the banner, section and namespace lines of both files.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include <google/protobuf/io/printer.h>

#include "model.hpp"

namespace eddy::codegen::printing {

using google::protobuf::io::Printer;

/// Printer variables by name.
using vars_t = std::map<std::string, std::string>;

/// Returns `text` as the contents of a C++ string literal.
std::string quote(const std::string& text);

/// Prints the leading comments of a proto element as `///` lines, if it has any.
template <class Element>
void print_proto_comments(Printer& p, const Element& element) {
  google::protobuf::SourceLocation loc;
  if (!element.GetSourceLocation(&loc) || loc.leading_comments.empty())
    return;
  std::istringstream lines{loc.leading_comments};
  for (std::string line; std::getline(lines, line);) {
    // A trailing backslash would continue the `//` comment onto the next line of code.
    while (!line.empty()
           && std::string_view{" \r\\"}.find(line.back()) != std::string_view::npos)
      line.pop_back();
    p.Print("///$line$\n", "line", line);
  }
  p.Print("///\n");
}

/// The variables every printer of one service uses.
vars_t service_vars(const service_model& svc);

/// The variables of one event of a service.
vars_t event_vars(const service_model& svc, const event_model& event);

/// The name of a `::eddy::codegen::table_kind` value.
const char* table_kind_name(table_role role);

/// Prints the do-not-edit banner naming the source .proto, the generator's version and
/// `contents`, what the file holds (e.g. "typed handlers, emit functions, ...").
void print_banner(Printer& p, const google::protobuf::FileDescriptor& file,
                  std::string_view contents);

/// Prints a banner opening the code of one service, as wide as the project's lines.
void print_section(Printer& p, const google::protobuf::ServiceDescriptor& service);

/// Opens the namespace of the file's package, if it has one.
void print_namespace_open(Printer& p, const google::protobuf::FileDescriptor& file);

/// Closes what `print_namespace_open` opened.
void print_namespace_close(Printer& p, const google::protobuf::FileDescriptor& file);

/// Prints the declarations of one service into the .eddy.h (handlers to dispatcher).
void print_service_declarations(Printer& p, const service_model& svc);

/// Prints the definitions of one service into the .eddy.cc.
void print_service_definitions(Printer& p, const service_model& svc);

/// Prints the test kit of one service, defined inline, into the .eddy.testkit.h.
void print_service_test_kit(Printer& p, const service_model& svc);

} // namespace eddy::codegen::printing
