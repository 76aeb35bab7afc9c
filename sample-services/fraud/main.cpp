// fraud: the shop's check of a customer's spending per hour, re-keyed by customer through
// the service's own topic.

#include <eddy/service.hpp>

#include "fraud.hpp"

int main(int argc, char** argv) {
  shop::fraud handlers;
  return eddy::service::main(argc, argv, "fraud", [&](eddy::service& svc, const eddy::config&) {
    shop::bind(svc, handlers);
  });
}
