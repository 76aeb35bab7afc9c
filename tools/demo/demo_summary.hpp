// The shop demo's closing words: what a run posted and decided, how fast, and whether
// posting kept the requested pace (and if not, why).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "order_load.hpp"
#include "order_mix.hpp"

namespace shop_demo {

/// What a run asked for and how it ended, beside the load's own figures.
struct run_report {
  std::string run_id;
  std::int64_t orders = 0;          ///< orders requested
  double rate = 0;                  ///< orders per second requested
  int wait_seconds = 0;             ///< how long an order may wait for its decision
  bool interrupted = false;         ///< stopped by Ctrl-C
  std::string service_failure;      ///< why a service stopped early, or empty
  std::string payments_failure;     ///< why the payments could not be sent, or empty
  std::optional<std::size_t> mails; ///< confirmation mails found, if email ran
  std::size_t validated = 0;        ///< orders validated
  std::string mail_topic;           ///< where the mails were looked for
  std::string not_run;              ///< services not built, comma-separated
};

/// Prints the summary of a run whose load planned `planned` orders of each kind.
void print_summary(const load_snapshot& s, const std::map<order_kind, std::int64_t>& planned,
                   const run_report& run);

} // namespace shop_demo
