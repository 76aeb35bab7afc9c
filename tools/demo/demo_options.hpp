// The shop demo's command line: how many orders, how fast, how many instances, where.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace shop_demo {

/// What a run of the shop demo is asked to do.
struct demo_options {
  std::int64_t orders = 1000;
  double rate = 100;
  int instances = 1;
  int products = 10;
  bool keep = false;
  std::string bootstrap;
  std::string services_dir = EDDY_DEMO_SERVICES_DIR;
  std::string run_dir;
  int wait_seconds = 30;
};

/// Declares the shop demo's options on `app`, writing into `opts`.
void add_demo_options(CLI::App& app, demo_options& opts);

} // namespace shop_demo
