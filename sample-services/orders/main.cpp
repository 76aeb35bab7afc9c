// orders: the shop's HTTP front end — an HTTP API over an Eddy service that keeps the
// `orders` topic as a local table, with requests forwarded to the instance owning a key.
//
//   orders -X bootstrap.servers=127.0.0.1:9092 [-X app.http.port=8080] ...
//
// Several instances on one machine need their own ports and state folders
// (`-X eddy.state.dir=...`). `--help` lists the settings.

#include <csignal>
#include <iostream>
#include <thread>

#include <pthread.h>

#include <eddy/config.hpp>
#include <eddy/service.hpp>

#include "orders_api.hpp"

int main(int argc, char** argv) {
  auto cfg = eddy::config::from_command_line(argc, argv);
  if (!cfg) {
    std::cerr << argv[0] << ": " << cfg.error_value().message << "\n";
    return 2;
  }
  if (cfg->help_requested()) {
    std::cout << eddy::config::usage(argv[0]) << "\nSettings of the orders service:\n"
              << shop::orders_api_options::describe_settings();
    return 0;
  }
  auto options = shop::orders_api_options::from_config(*cfg, "orders");
  if (!options) {
    std::cerr << argv[0] << ": " << options.error_value().message << "\n";
    return 2;
  }

  // SIGINT and SIGTERM go to one thread, blocked everywhere else (every thread started
  // from here on inherits the mask): it takes the instance out of the registry while the
  // service can still publish, then stops the service.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  eddy::service svc{"orders", *cfg};
  shop::orders_api api{svc, *options};
  auto port = api.start();
  if (!port) {
    std::cerr << argv[0] << ": " << port.error_value().message << "\n";
    return 2;
  }
  std::cout << "orders: instance " << api.instance_id() << " listening on " << api.endpoint()
            << std::endl;

  std::thread on_signal{[&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    api.stop();
    svc.stop();
  }};
  auto outcome = svc.run(false);
  // A service that ended on its own (a fatal error) wakes the signal thread itself.
  pthread_kill(on_signal.native_handle(), SIGTERM);
  on_signal.join();
  api.stop();
  if (outcome)
    return 0;
  std::cerr << argv[0] << ": " << outcome.error_value().what() << "\n";
  return outcome.error_value().code == eddy::errc::invalid_config ? 2 : 1;
}
