// service::main: a service run as a program (command line, setup, run until a signal,
// exit code).
#include <eddy/service.hpp>

#include <iostream>

namespace eddy {

int service::main(int argc, const char* const* argv, std::string name,
                  const std::function<void(service&, const config&)>& setup) {
  auto cfg = config::from_command_line(argc, argv);
  if (!cfg) {
    std::cerr << argv[0] << ": " << cfg.error_value().message << "\n";
    return 2;
  }
  if (cfg->help_requested()) {
    std::cout << config::usage(argv[0]);
    return 0;
  }
  service svc{std::move(name), *cfg};
  try {
    setup(svc, *cfg);
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 2;
  }
  auto outcome = svc.run(true);
  if (outcome)
    return 0;
  std::cerr << argv[0] << ": " << outcome.error_value().what() << "\n";
  return outcome.error_value().code == errc::invalid_config ? 2 : 1;
}

} // namespace eddy
