// The greeter through its generated test kit: no broker, no threads.

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "greet/greetings.eddy.testkit.h"
#include "greeter.hpp"

TEST_CASE("a greeting names who asked") {
  greeter handlers;
  greet::GreeterTestKit kit{handlers};
  greet::Greet request;
  request.set_name("ada");
  kit.send(request);
  auto out = kit.emitted<greet::Greeted>();
  REQUIRE(out.size() == 1);
  CHECK(out[0].text() == "Hello, ada!");
  CHECK(kit.emitted_records()[0].key == "ada");
  CHECK(kit.emitted_records()[0].topic == "greetings");
}

TEST_CASE("every request gets its own greeting, in order") {
  greeter handlers;
  greet::GreeterTestKit kit{handlers};
  for (auto name : {"ada", "grace", "alan"}) {
    greet::Greet request;
    request.set_name(name);
    kit.send(request);
  }
  auto out = kit.emitted<greet::Greeted>();
  REQUIRE(out.size() == 3);
  CHECK(out[1].text() == "Hello, grace!");
  CHECK(out[2].name() == "alan");
}
