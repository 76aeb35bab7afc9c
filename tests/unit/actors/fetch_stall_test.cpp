// Unit tests of the mark of a fetcher librdkafka 2.0.2 left idle after its queue filled: a
// run of records between two empty polls that reaches a queue limit.

#include <catch2/catch.hpp>

#include "fetch_stall.hpp"

using eddy::detail::fetch_stall_watch;

TEST_CASE("a run of records as long as the queue limit marks a possible stall") {
  fetch_stall_watch watch{1000, 1 << 20};
  for (int i = 0; i < 950; ++i)
    watch.consumed(100);
  CHECK(watch.drained());
}

TEST_CASE("the mark lies at nine tenths of the limit") {
  fetch_stall_watch watch{1000, 1 << 20};
  for (int i = 0; i < 899; ++i)
    watch.consumed(1);
  CHECK_FALSE(watch.drained());
  for (int i = 0; i < 900; ++i)
    watch.consumed(1);
  CHECK(watch.drained());
}

TEST_CASE("short runs between empty polls are no stall, however many they add up to") {
  fetch_stall_watch watch{1000, 1 << 20};
  for (int run = 0; run < 10; ++run) {
    for (int i = 0; i < 500; ++i)
      watch.consumed(100);
    CHECK_FALSE(watch.drained());
  }
}

TEST_CASE("a run of large records marks a stall by the queue's byte limit") {
  fetch_stall_watch watch{100000, 1024}; // 1 MiB of payload
  for (int i = 0; i < 100; ++i)
    watch.consumed(10 * 1024);
  CHECK(watch.drained());
  CHECK_FALSE(watch.drained()); // the next run starts empty
}
