// Unit tests of the commit bookkeeping: an offset is committable only once every batch
// before it is handled and delivered.

#include <catch2/catch.hpp>

#include "partition_progress.hpp"

using eddy::detail::partition_progress;

TEST_CASE("the committable offset advances only over the completed prefix of batches") {
  auto progress = std::make_shared<partition_progress>();
  progress->add_in_flight(30);
  auto* first = progress->open(10, 10);
  auto* second = progress->open(20, 10);
  auto* third = progress->open(30, 10);
  partition_progress::hold(first); // one output of the first batch awaits delivery
  partition_progress::release(first);
  partition_progress::release(second);
  CHECK(progress->committable() == -1);
  CHECK(progress->in_flight() == 30);
  partition_progress::release(first); // the delivery report arrives
  CHECK(progress->committable() == 20);
  CHECK(progress->in_flight() == 10);
  partition_progress::release(third);
  CHECK(progress->committable() == 30);
  CHECK(progress->in_flight() == 0);
}

TEST_CASE("a failed delivery stops the committable offset and reports the reason") {
  auto progress = std::make_shared<partition_progress>();
  progress->add_in_flight(20);
  auto* first = progress->open(10, 10);
  auto* second = progress->open(20, 10);
  partition_progress::release(first);
  partition_progress::hold(second);
  partition_progress::release(second, "broker said no");
  partition_progress::release(second);
  auto* third = progress->open(30, 0);
  partition_progress::release(third);
  CHECK(progress->committable() == 10);
  CHECK(progress->failed());
  CHECK(progress->failure_reason() == "broker said no");
  CHECK(progress->in_flight() == 0); // credit is returned so a stop does not hang
}

TEST_CASE("a progress stays alive while a ticket is outstanding") {
  auto progress = std::make_shared<partition_progress>();
  std::weak_ptr<partition_progress> watch = progress;
  auto* ticket = progress->open(1, 1);
  progress.reset();
  CHECK_FALSE(watch.expired());
  partition_progress::release(ticket);
  CHECK(watch.expired());
}
