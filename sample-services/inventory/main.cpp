// inventory: the shop's stock check, re-keyed by product through the service's own topic,
// with the warehouse's stock as a local table and the reservations as event-sourced state.

#include <eddy/service.hpp>

#include "inventory.hpp"

int main(int argc, char** argv) {
  shop::inventory handlers;
  return eddy::service::main(
    argc, argv, "inventory",
    [&](eddy::service& svc, const eddy::config&) { shop::bind(svc, handlers); });
}
