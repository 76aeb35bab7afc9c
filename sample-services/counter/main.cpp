// Counter: the smallest event-sourced service — counts records per key. Every input record
// emits an increment ("+1") to the service's own journal, and the count is the sum of the
// key's increments: the fold of that journal, kept in a SQLite store per partition and
// rebuilt from the journal when the store is missing or behind. The fold is deliberately
// not idempotent, so an event applied twice or lost shows in the count. Each input also
// yields an output record carrying the key's new count and, in the header
// `counter.input`, the input it answers ("<partition>:<offset>").
//
//   counter -X bootstrap.servers=127.0.0.1:9092 [-X app.input=in] [-X app.journal=events]
//           [-X app.output=out]
//
// Settings of its own: app.input, app.journal, app.output (topics), app.partitions (of all
// three), app.handler.delay.us (a deliberately slow handler, for crash experiments).

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <eddy/service.hpp>

namespace {

/// The count `state` holds for `key`, 0 if none.
std::int64_t count_of(eddy::state_view state, const std::string& key) {
  auto count = state.get(key);
  return count ? std::stoll(*count) : 0;
}

} // namespace

int main(int argc, char** argv) {
  return eddy::service::main(
    argc, argv, "counter", [](eddy::service& svc, const eddy::config& cfg) {
      auto input = cfg.get("app.input").value_or("counter-in");
      auto journal = cfg.get("app.journal").value_or("counter-events");
      auto output = cfg.get("app.output").value_or("counter-out");
      auto partitions = static_cast<int>(cfg.integer("app.partitions", 4, 1, 10000));
      auto delay =
        std::chrono::microseconds{cfg.integer("app.handler.delay.us", 0, 0, 60000000)};
      if (partitions < 1 || delay.count() < 0)
        throw std::invalid_argument{
          "app.partitions must be >= 1 and app.handler.delay.us >= 0"};
      svc.topic(input, partitions).topic(output, partitions);
      svc.journal(journal, partitions, [](const eddy::record& event, eddy::state_view state) {
        state.put(event.key,
                  std::to_string(count_of(state, event.key) + std::stoll(event.value)));
      });
      svc.consume(input, [delay, output](const eddy::record& r, eddy::context& ctx) {
        if (delay.count() > 0)
          std::this_thread::sleep_for(delay);
        ctx.emit_event(r.key, "+1");
        ctx.emit(
          output, r.key, std::to_string(count_of(ctx.state(), r.key)),
          {{"counter.input", std::to_string(r.partition) + ":" + std::to_string(r.offset)}});
      });
    });
}
