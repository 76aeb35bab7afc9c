// Proof that the TSan build still sees races between actors once tools/sanitizers makes
// CAF's message hand-offs visible: `ordered` writes one variable from two actors whose
// writes a message orders (must be clean); `racing` writes it from two actors that nothing
// orders (TSan must report it, and the test registered for it expects that failure).
#include <caf/all.hpp>

#include <cstring>
#include <iostream>
#include <thread>

namespace {

long shared_count = 0;

caf::behavior writer(caf::event_based_actor* self, caf::actor next) {
  return {[=](int writes) {
    for (int i = 0; i < writes; ++i) {
      shared_count += 1;
      std::this_thread::yield();
    }
    if (next)
      self->send(next, writes);
    self->quit();
  }};
}

} // namespace

int main(int argc, char** argv) {
  bool racing = argc == 2 && std::strcmp(argv[1], "racing") == 0;
  if (argc != 2 || (!racing && std::strcmp(argv[1], "ordered") != 0)) {
    std::cerr << "usage: tsan_canary_test ordered|racing\n";
    return 2;
  }
  caf::actor_system_config config;
  config.set("scheduler.max-threads", 2);
  // As services run in TSan builds (actors/src/service.cpp): work sharing hands jobs over
  // under a mutex TSan sees.
  config.set("scheduler.policy", caf::atom("sharing"));
  config.set("logger.console", caf::atom("none"));
  caf::actor_system system{config};
  constexpr int writes = 1000;
  auto second = system.spawn(writer, caf::actor{});
  auto first = system.spawn(writer, racing ? caf::actor{} : second);
  caf::anon_send(first, writes);
  if (racing)
    caf::anon_send(second, writes);
  system.await_all_actors_done();
  std::cout << "writes counted: " << shared_count << "\n";
  return 0;
}
