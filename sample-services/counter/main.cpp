// Counter: the smallest event-sourced service — counts records per key. Every input record
// emits the key's new count to the service's own journal; the count is the fold of that
// journal, kept in a SQLite store per partition and rebuilt from the journal when the
// store is missing or behind.
//
//   counter -X bootstrap.servers=127.0.0.1:9092 [-X app.input=in] [-X app.journal=events]
//
// Settings of its own: app.input, app.journal (topics), app.partitions (of both),
// app.handler.delay.us (a deliberately slow handler, for crash experiments).

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <eddy/service.hpp>

int main(int argc, char** argv) {
  return eddy::service::main(argc, argv, "counter", [](eddy::service& svc,
                                                       const eddy::config& cfg) {
    auto input = cfg.get("app.input").value_or("counter-in");
    auto journal = cfg.get("app.journal").value_or("counter-events");
    int partitions = std::stoi(cfg.get("app.partitions").value_or("4"));
    auto delay = std::chrono::microseconds{std::stoi(cfg.get("app.handler.delay.us").value_or("0"))};
    if (partitions < 1 || delay.count() < 0)
      throw std::invalid_argument{"app.partitions must be >= 1 and app.handler.delay.us >= 0"};
    svc.topic(input, partitions);
    svc.journal(journal, partitions, [](const eddy::record& event, eddy::state_view state) {
      state.put(event.key, event.value);
    });
    svc.consume(input, [delay](const eddy::record& r, eddy::context& ctx) {
      if (delay.count() > 0)
        std::this_thread::sleep_for(delay);
      auto count = ctx.state().get(r.key);
      ctx.emit_event(r.key, std::to_string(count ? std::stoll(*count) + 1 : 1));
    });
  });
}
