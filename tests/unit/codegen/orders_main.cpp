// A service built by eddy_add_service() from the test schema and its handlers alone: the
// build check of the CMake function, run with --help by the test codegen_service_builds.

#include <eddy/service.hpp>

#include "orders_handlers.hpp"

int main(int argc, char** argv) {
  shop::orders_handlers handlers;
  return eddy::service::main(
    argc, argv, "orders",
    [&](eddy::service& svc, const eddy::config&) { shop::bind(svc, handlers); });
}
