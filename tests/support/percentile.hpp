#pragma once

// The one percentile helper of the tests, demos and benchmarks: the value at a quantile of
// a set of samples, by the nearest rank. Header-only.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace eddy::test {

/// The value at quantile `q` (0 = the smallest, 0.5 = the median, 1 = the largest) of
/// `sorted` (ascending), by the nearest rank; a value-initialised T if it is empty.
template <class T>
T quantile_of_sorted(const std::vector<T>& sorted, double q) {
  if (sorted.empty())
    return T{};
  auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

/// The value at quantile `q` of `samples` (see `quantile_of_sorted`).
template <class T>
T quantile(std::vector<T> samples, double q) {
  std::sort(samples.begin(), samples.end());
  return quantile_of_sorted(samples, q);
}

} // namespace eddy::test
