#pragma once
// A Prometheus-style histogram of seconds with fixed buckets (internal to the runtime),
// cheap enough for the record path: a partition task counts a batch's observations in a
// `tally` of its own, then adds the tally to the shared histogram with one relaxed atomic
// add per bucket it touched.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace eddy::detail {

/// Bucket upper bounds, in seconds, of the histograms below.
inline constexpr std::array<double, 12> handler_seconds_bounds{
  0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
inline constexpr std::array<double, 12> record_age_seconds_bounds{
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600};

class histogram {
public:
  static constexpr std::size_t buckets = 12;
  using bounds_type = std::array<double, buckets>;

  explicit constexpr histogram(const bounds_type& bounds) noexcept
    : bounds_(bounds) {}

  /// Observations of one batch, before they are added to the histogram.
  class tally {
  public:
    explicit tally(const histogram& of) noexcept
      : bounds_(&of.bounds_) {}
    void observe(double seconds) noexcept {
      auto at = std::lower_bound(bounds_->begin(), bounds_->end(), seconds) - bounds_->begin();
      ++counts_[static_cast<std::size_t>(at)];
      sum_ += seconds;
    }

  private:
    friend class histogram;
    const bounds_type* bounds_;
    std::array<std::uint64_t, buckets + 1> counts_{};
    double sum_ = 0;
  };

  /// Adds `t`'s observations and empties it.
  void add(tally& t) noexcept {
    for (std::size_t i = 0; i <= buckets; ++i)
      if (t.counts_[i] != 0) {
        counts_[i].fetch_add(t.counts_[i], std::memory_order_relaxed);
        t.counts_[i] = 0;
      }
    sum_nanos_.fetch_add(std::llround(t.sum_ * 1e9), std::memory_order_relaxed);
    t.sum_ = 0;
  }

  const bounds_type& bounds() const noexcept { return bounds_; }

  /// Observations in bucket `i` alone (`i == buckets`: above the last bound).
  std::uint64_t count_in(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }

  /// The sum of all observations, in seconds (to the nanosecond).
  double sum() const noexcept {
    return static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  }

private:
  bounds_type bounds_;
  std::array<std::atomic<std::uint64_t>, buckets + 1> counts_{};
  std::atomic<std::int64_t> sum_nanos_{0};
};

} // namespace eddy::detail
