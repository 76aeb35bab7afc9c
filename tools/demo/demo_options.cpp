#include "demo_options.hpp"

namespace shop_demo {

void add_demo_options(CLI::App& app, demo_options& opts) {
  app.add_option("--orders", opts.orders, "orders to post")
    ->capture_default_str()
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{10000000}));
  app.add_option("--rate", opts.rate, "orders posted per second")
    ->capture_default_str()
    ->check(CLI::Range(0.1, 100000.0));
  app
    .add_option("--instances", opts.instances,
                "instances of each service (orders instances get a port each and are posted "
                "to round-robin)")
    ->capture_default_str()
    ->check(CLI::Range(1, 16));
  app.add_option("--products", opts.products, "products in the warehouse")
    ->capture_default_str()
    ->check(CLI::Range(1, 10000));
  app.add_flag("--keep", opts.keep,
               "keep the run folder (logs and state stores) afterwards; "
               "it is kept anyway when the run fails");
  app.footer("Exit code: 0 when every order was decided as planned (and, with the email "
             "service, mailed) and every service stopped cleanly; 130 after Ctrl-C; 1 "
             "otherwise, 2 for bad arguments.");
  app.add_option("--bootstrap", opts.bootstrap,
                 "Kafka bootstrap servers (default: $EDDY_KAFKA_BOOTSTRAP_SERVERS)");
  app
    .add_option("--services", opts.services_dir,
                "folder of the built services, each as <name>/<name>")
    ->capture_default_str();
  app.add_option(
    "--run-dir", opts.run_dir,
    "where the run's folder eddy-shop-demo-<run id> (the services' logs and state) "
    "is made (default: the system's temporary directory)");
  app.add_option("--wait", opts.wait_seconds, "seconds an order may take to be decided")
    ->capture_default_str()
    ->check(CLI::Range(1, 3600));
}

} // namespace shop_demo
