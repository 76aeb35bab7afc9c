// Passthrough: the smallest Eddy service — copies every record of one topic to another,
// keeping its key (and so its partition and per-key order).
//
//   passthrough -X bootstrap.servers=127.0.0.1:9092 [-X app.input=in] [-X app.output=out]
//
// Settings of its own: app.input, app.output (topics), app.partitions (of both topics),
// app.handler.delay.us (a deliberately slow handler, for backpressure experiments).

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <eddy/service.hpp>

int main(int argc, char** argv) {
  return eddy::service::main(
    argc, argv, "passthrough", [](eddy::service& svc, const eddy::config& cfg) {
      auto input = cfg.get("app.input").value_or("passthrough-in");
      auto output = cfg.get("app.output").value_or("passthrough-out");
      auto partitions = static_cast<int>(cfg.integer("app.partitions", 4, 1, 10000));
      auto delay =
        std::chrono::microseconds{cfg.integer("app.handler.delay.us", 0, 0, 60000000)};
      svc.topic(input, partitions).topic(output, partitions);
      svc.consume(input, [output, delay](const eddy::record& r, eddy::context& ctx) {
        if (delay.count() > 0)
          std::this_thread::sleep_for(delay);
        ctx.emit(output, r.key, r.value, r.headers);
      });
    });
}
