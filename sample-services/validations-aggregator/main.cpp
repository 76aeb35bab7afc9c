// validations-aggregator: the shop's decision on each order, from the verdicts of its
// three checks.

#include <eddy/service.hpp>

#include "validations_aggregator.hpp"

int main(int argc, char** argv) {
  shop::validations_aggregator handlers;
  return eddy::service::main(
    argc, argv, "validations-aggregator",
    [&](eddy::service& svc, const eddy::config&) { shop::bind(svc, handlers); });
}
