// order-details: the shop's check of an order's own fields, from a schema and one handler.

#include <eddy/service.hpp>

#include "order_details.hpp"

int main(int argc, char** argv) {
  shop::order_details handlers;
  return eddy::service::main(
    argc, argv, "order-details",
    [&](eddy::service& svc, const eddy::config&) { shop::bind(svc, handlers); });
}
