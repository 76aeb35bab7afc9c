// email: the shop's order-confirmation mail, joining each validated order with its payment
// (co-partitioned, kept in the journal until both arrived) and its customer (a global table).

#include <eddy/service.hpp>

#include "email.hpp"

int main(int argc, char** argv) {
  shop::email handlers;
  return eddy::service::main(argc, argv, "email", [&](eddy::service& svc, const eddy::config&) {
    shop::bind(svc, handlers);
  });
}
