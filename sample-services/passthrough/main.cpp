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

namespace {

int integer_setting(const eddy::config& cfg, const std::string& key, int fallback) {
  auto text = cfg.get(key);
  if (!text)
    return fallback;
  std::size_t used = 0;
  int value = std::stoi(*text, &used);
  if (used != text->size() || value < 0)
    throw std::invalid_argument{key + " needs a non-negative integer, got '" + *text + "'"};
  return value;
}

} // namespace

int main(int argc, char** argv) {
  return eddy::service::main(argc, argv, "passthrough", [](eddy::service& svc,
                                                           const eddy::config& cfg) {
    auto input = cfg.get("app.input").value_or("passthrough-in");
    auto output = cfg.get("app.output").value_or("passthrough-out");
    int partitions = integer_setting(cfg, "app.partitions", 4);
    auto delay = std::chrono::microseconds{integer_setting(cfg, "app.handler.delay.us", 0)};
    svc.topic(input, partitions).topic(output, partitions);
    svc.consume(input, [output, delay](const eddy::record& r, eddy::context& ctx) {
      if (delay.count() > 0)
        std::this_thread::sleep_for(delay);
      ctx.emit(output, r.key, r.value, r.headers);
    });
  });
}
