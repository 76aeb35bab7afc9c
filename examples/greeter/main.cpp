// The greeter service: `greeter --help` lists its options and Eddy's settings.

#include <eddy/service.hpp>

#include "greeter.hpp"

int main(int argc, char** argv) {
  greeter handlers;
  return eddy::service::main(
    argc, argv, "greeter", [&](eddy::service& svc, const eddy::config&) {
      greet::bind(svc, handlers); // creates the topics, registers the dispatcher
    });
}
