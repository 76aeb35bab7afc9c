#pragma once

// The greeter's handlers: one greeting per request, keyed by the name it greets.

#include "greet/greetings.eddy.h"

struct greeter : greet::GreeterHandlers {
  void on(const greet::Greet& request, greet::GreeterContext& ctx) override {
    greet::Greeted greeted;
    greeted.set_name(request.name());
    greeted.set_text("Hello, " + request.name() + "!");
    ctx.emit(greeted); // to `greetings`, keyed by name
  }
};
