// The consumer lag per partition read from librdkafka's statistics reports.

#include <catch2/catch.hpp>

#include "consumer_stats.hpp"

using eddy::detail::consumer_stats;

TEST_CASE("the lag runs from what the service read to the partition's end") {
  consumer_stats stats;
  stats.apply(R"({"name": "rdkafka#consumer-1", "topics": {
    "orders": {"partitions": {
      "0": {"fetch_state": "active", "app_offset": 88, "committed_offset": 50,
            "hi_offset": 110, "ls_offset": 100, "consumer_lag": 50},
      "1": {"fetch_state": "active", "app_offset": -1001, "committed_offset": 40,
            "hi_offset": 40, "ls_offset": 40, "consumer_lag": 0},
      "2": {"fetch_state": "none", "app_offset": 5, "committed_offset": 5,
            "hi_offset": 9, "ls_offset": 9},
      "3": {"fetch_state": "offset-query", "app_offset": -1001, "committed_offset": -1001,
            "hi_offset": 7, "ls_offset": 7},
      "-1": {"fetch_state": "none", "app_offset": -1001, "hi_offset": -1, "ls_offset": -1}}},
    "payments": {"partitions": {"0": {"fetch_state": "active", "app_offset": 3,
                                      "committed_offset": -1001, "hi_offset": 10,
                                      "ls_offset": 10, "consumer_lag": -1}}}}})");
  // Read committed: to the last stable offset; orders/0 from app_offset, not the committed
  // 50 (exactly_once commits through the producer: the consumer's figure is stale), and
  // payments/0 though librdkafka's own consumer_lag is unknown.
  consumer_stats::lag_map expected{
    {{"orders", 0}, 12}, {{"orders", 1}, 0}, {{"payments", 0}, 7}};
  CHECK(stats.lag() == expected);

  SECTION("read uncommitted: to the high watermark") {
    consumer_stats uncommitted;
    uncommitted.set_read_committed(false);
    uncommitted.apply(R"({"topics": {"orders": {"partitions": {
      "0": {"fetch_state": "active", "app_offset": 88, "hi_offset": 110, "ls_offset": 100}}}}})");
    CHECK(uncommitted.lag() == consumer_stats::lag_map{{{"orders", 0}, 22}});
  }
  SECTION("a later report replaces the figures: a revoked partition disappears") {
    stats.apply(R"({"topics": {"orders": {"partitions": {
      "0": {"fetch_state": "active", "app_offset": 97, "ls_offset": 100}}}}})");
    CHECK(stats.lag() == consumer_stats::lag_map{{{"orders", 0}, 3}});
  }
  SECTION("a report that does not parse keeps the last figures") {
    stats.apply("{not json");
    stats.apply(R"(["no", "topics"])");
    CHECK(stats.lag() == expected);
  }
}
