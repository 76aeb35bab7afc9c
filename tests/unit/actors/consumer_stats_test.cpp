// The consumer lag per partition read from librdkafka's statistics reports.

#include <catch2/catch.hpp>

#include "consumer_stats.hpp"

using eddy::detail::consumer_stats;

TEST_CASE("the lag of every fetched partition with a known lag is kept") {
  consumer_stats stats;
  stats.apply(R"({"name": "rdkafka#consumer-1", "topics": {
    "orders": {"partitions": {
      "0": {"fetch_state": "active", "consumer_lag": 12},
      "1": {"fetch_state": "active", "consumer_lag": 0},
      "2": {"fetch_state": "none", "consumer_lag": -1},
      "3": {"fetch_state": "offset-query", "consumer_lag": -1},
      "-1": {"fetch_state": "none", "consumer_lag": -1}}},
    "payments": {"partitions": {"0": {"fetch_state": "active", "consumer_lag": 7}}}}})");
  consumer_stats::lag_map expected{
    {{"orders", 0}, 12}, {{"orders", 1}, 0}, {{"payments", 0}, 7}};
  CHECK(stats.lag() == expected);

  SECTION("a later report replaces the figures: a revoked partition disappears") {
    stats.apply(R"({"topics": {"orders": {"partitions": {
      "0": {"fetch_state": "active", "consumer_lag": 3}}}}})");
    CHECK(stats.lag() == consumer_stats::lag_map{{{"orders", 0}, 3}});
  }
  SECTION("a report that does not parse keeps the last figures") {
    stats.apply("{not json");
    stats.apply(R"(["no", "topics"])");
    CHECK(stats.lag() == expected);
  }
}
