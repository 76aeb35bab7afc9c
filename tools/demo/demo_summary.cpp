#include "demo_summary.hpp"

#include <cstdio>

namespace shop_demo {

namespace {

void print_pace(const load_snapshot& s, const run_report& run) {
  if (s.posted == 0 || s.posting_seconds <= 0)
    return;
  auto achieved = static_cast<double>(s.posted) / s.posting_seconds;
  if (s.late == 0 && achieved >= 0.95 * run.rate) {
    std::printf("  pace        kept the requested %.0f orders/s\n", run.rate);
    return;
  }
  std::printf("  pace        FELL BEHIND the requested %.0f orders/s (%.1f/s): %lld orders "
              "were posted over 100 ms late (up to %.0f ms)\n",
              run.rate, achieved, static_cast<long long>(s.late), s.max_late_ms);
  // Little's law: orders in flight = rate x time each one is in flight.
  auto needed = run.rate * (s.p50_ms / 1000.0);
  if (s.late > 0 && needed >= 0.5 * static_cast<double>(s.in_flight_cap))
    std::printf("              why: decisions are slower than posts — %.0f orders/s x p50 "
                "%.0f ms keeps about %.0f in flight, and the demo waits for each decision "
                "with at most %lld in flight, so new orders queued for a free slot\n",
                run.rate, s.p50_ms, needed, static_cast<long long>(s.in_flight_cap));
  else
    std::printf("              why: the orders API answered POSTs slowly (p50 %.0f ms) — "
                "the machine or the broker is the limit, not the cap of %lld in flight\n",
                s.post_p50_ms, static_cast<long long>(s.in_flight_cap));
}

} // namespace

void print_summary(const load_snapshot& s, const std::map<order_kind, std::int64_t>& planned,
                   const run_report& run) {
  std::printf("\nsummary of run %s%s\n", run.run_id.c_str(),
              run.interrupted ? " (interrupted)"
              : !run.service_failure.empty()
                ? (" (stopped: " + run.service_failure + ")").c_str()
                : "");
  std::printf("  orders      %lld posted of %lld", static_cast<long long>(s.posted),
              static_cast<long long>(run.orders));
  if (s.posting_seconds > 0)
    std::printf(", %.1f orders/s over %.1f s",
                static_cast<double>(s.posted) / s.posting_seconds, s.posting_seconds);
  std::printf("\n  planned     ");
  bool first = true;
  for (auto& [kind, count] : planned) {
    std::printf("%s%lld %s", first ? "" : ", ", static_cast<long long>(count), to_string(kind));
    first = false;
  }
  std::printf("\n  decided     %lld: %lld VALIDATED, %lld FAILED, %s\n",
              static_cast<long long>(s.decided), static_cast<long long>(s.validated),
              static_cast<long long>(s.failed),
              s.unexpected == 0 ? "all as planned"
                                : (std::to_string(s.unexpected) + " NOT as planned").c_str());
  for (auto& example : s.unexpected_examples)
    std::printf("              %s\n", example.c_str());
  if (s.deciding_seconds > 0)
    std::printf("  throughput  %.1f decisions/s (first POST to last decision: %.1f s)\n",
                static_cast<double>(s.decided) / s.deciding_seconds, s.deciding_seconds);
  if (s.decided > 0)
    std::printf("  latency     POST -> decision: p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
                "POST alone p50 %.1f ms\n",
                s.p50_ms, s.p99_ms, s.max_ms, s.post_p50_ms);
  print_pace(s, run);
  if (run.mails)
    std::printf("  mails       %zu of %zu validated orders got their confirmation (%s)\n",
                *run.mails, run.validated, run.mail_topic.c_str());
  if (!run.not_run.empty())
    std::printf("  not run     %s (not built)\n", run.not_run.c_str());
  if (s.refused > 0)
    std::printf("  refused     %lld POSTs\n", static_cast<long long>(s.refused));
  if (s.undecided > 0)
    std::printf("  undecided   %lld orders not decided within %d s\n",
                static_cast<long long>(s.undecided), run.wait_seconds);
  if (s.abandoned > 0)
    std::printf("  abandoned   %lld orders still waiting when posting stopped\n",
                static_cast<long long>(s.abandoned));
  if (s.errors > 0)
    std::printf("  errors      %lld requests failed%s (the first: %s)\n",
                static_cast<long long>(s.errors), s.refused > 0 ? "" : " and were retried",
                s.first_error.c_str());
  if (!run.payments_failure.empty())
    std::printf("  payments    %s\n", run.payments_failure.c_str());
}

} // namespace shop_demo
