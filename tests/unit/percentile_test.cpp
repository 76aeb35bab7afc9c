// Unit test of the test support's percentile helper, which the demos and benchmarks print.

#include <catch2/catch.hpp>

#include "percentile.hpp"

TEST_CASE("quantiles by the nearest rank, of sorted and unsorted samples") {
  std::vector<int> samples;
  for (int i = 100; i >= 1; --i)
    samples.push_back(i);
  CHECK(eddy::test::quantile(samples, 0.0) == 1);
  CHECK(eddy::test::quantile(samples, 0.5) == 51);
  CHECK(eddy::test::quantile(samples, 0.99) == 99);
  CHECK(eddy::test::quantile(samples, 1.0) == 100);
  CHECK(eddy::test::quantile(std::vector<double>{3.0, 1.0, 2.0}, 0.5) == 2.0);
  CHECK(eddy::test::quantile_of_sorted(std::vector<double>{}, 0.5) == 0.0);
}
