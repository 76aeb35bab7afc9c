#pragma once
// The group consumer's lag per partition, from librdkafka's statistics (internal to the
// runtime): with `statistics.interval.ms` set, librdkafka hands the poll loop's thread a
// JSON report at that interval; this event callback keeps, for each fetched partition, the
// records between what the service has read and the partition's end, for /metrics, and
// logs every other event as the default callback does. librdkafka's own `consumer_lag`
// counts from the consumer's committed offset, which in exactly_once (offsets committed
// through the producer's transactions) the consumer never learns: it would freeze or vanish.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <librdkafka/rdkafkacpp.h>

namespace eddy::detail {

class consumer_stats : public RdKafka::EventCb {
public:
  /// (topic, partition) → records between the next one the service reads and the
  /// partition's end (its last stable offset under read_committed).
  using lag_map = std::map<std::pair<std::string, std::int32_t>, std::int64_t>;

  /// Whether the consumer reads committed records only (its end is then the last stable
  /// offset, else the high watermark). Before the consumer starts.
  void set_read_committed(bool read_committed) noexcept { read_committed_ = read_committed; }

  void event_cb(RdKafka::Event& event) override;

  /// The lag of every partition the last report showed assigned, with a known lag.
  lag_map lag() const;

  /// Reads a statistics report (librdkafka's STATISTICS.md); a report that does not parse
  /// leaves the last figures as they were. Public for unit tests.
  void apply(const std::string& report);

private:
  bool read_committed_ = true;
  mutable std::mutex mtx_;
  lag_map lag_;
};

} // namespace eddy::detail
