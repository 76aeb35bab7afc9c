#include "service_metrics.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace eddy::detail {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class exposition {
public:
  explicit exposition(const service_face& face)
    : labels_{{"service", face.service_name}, {"instance", face.instance}} {}

  void counter(const char* name, const char* help, const std::atomic<std::int64_t>& value) {
    ClientMetric metric;
    metric.label = labels_;
    metric.counter.value = static_cast<double>(value.load());
    families_.push_back({name, help, MetricType::Counter, {metric}});
  }

  /// A gauge per (topic, partition).
  template <class Map, class Value>
  void partition_gauge(const char* name, const char* help, const Map& values, Value value_of) {
    MetricFamily family{name, help, MetricType::Gauge, {}};
    for (auto& [where, value] : values) {
      ClientMetric metric;
      metric.label = labels_;
      metric.label.push_back({"topic", where.first});
      metric.label.push_back({"partition", std::to_string(where.second)});
      metric.gauge.value = static_cast<double>(value_of(value));
      family.metric.push_back(std::move(metric));
    }
    families_.push_back(std::move(family));
  }

  void histogram_family(const char* name, const char* help, const histogram& h) {
    ClientMetric metric;
    metric.label = labels_;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= histogram::buckets; ++i) {
      cumulative += h.count_in(i);
      metric.histogram.bucket.push_back(
        {cumulative,
         i < histogram::buckets ? h.bounds()[i] : std::numeric_limits<double>::infinity()});
    }
    metric.histogram.sample_count = cumulative;
    metric.histogram.sample_sum = h.sum();
    families_.push_back({name, help, MetricType::Histogram, {metric}});
  }

  void gauge(const char* name, const char* help, double value) {
    ClientMetric metric;
    metric.label = labels_;
    metric.gauge.value = value;
    families_.push_back({name, help, MetricType::Gauge, {metric}});
  }

  std::string text() const {
    std::ostringstream out;
    prometheus::TextSerializer{}.Serialize(out, families_);
    return out.str();
  }

private:
  std::vector<ClientMetric::Label> labels_;
  std::vector<MetricFamily> families_;
};

} // namespace

std::string metrics_text(const service_face& face) {
  auto& c = face.rt->counters;
  exposition out{face};
  out.counter("eddy_records_handled_total", "Records handed to handlers.", c.records_handled);
  out.counter("eddy_records_emitted_total",
              "Records emitted by handlers, dead letters of consumed records included.",
              c.records_emitted);
  out.counter("eddy_records_skipped_total",
              "Records a handler skipped (context::skipped), e.g. of a type not consumed.",
              c.records_skipped);
  out.counter("eddy_handler_errors_total",
              "Handler calls that threw, and journal or table records a restore skipped.",
              c.handler_errors);
  out.counter("eddy_decode_errors_total", "Consumed records that did not decode.",
              c.decode_errors);
  out.counter("eddy_production_errors_total",
              "Outputs the broker refused or that could not be delivered.",
              c.production_errors);
  out.counter("eddy_dead_letters_total",
              "Failed records and refused outputs sent to the dead-letter topic.",
              c.dead_letters);
  out.counter("eddy_errors_skipped_total",
              "Failed records and refused outputs the error policy skipped.", c.errors_skipped);
  out.counter("eddy_commits_total", "Offset commits (exactly_once: committed transactions).",
              c.commits);
  out.counter("eddy_transactions_aborted_total",
              "exactly_once: transactions aborted (their work is handled again).",
              c.transactions_aborted);
  out.counter("eddy_events_restored_total", "Journal events replayed into state stores.",
              c.events_restored);
  out.counter("eddy_rebalances_total",
              "Assignments and revocations the consumer group handed this instance.",
              c.rebalance_callbacks);
  out.counter("eddy_partitions_lost_total",
              "Partitions taken from this instance without a revocation.", c.partitions_lost);
  out.counter("eddy_pauses_total", "Times a partition was paused for lack of credit.",
              c.pauses);
  out.counter("eddy_fetch_wakeups_total",
              "Fetchers woken after librdkafka 2.0.2 left them idle with a full queue.",
              c.fetch_wakeups);
  out.gauge("eddy_assigned_partitions", "Partitions assigned to this instance.",
            static_cast<double>(c.assigned_partitions.load()));
  out.gauge("eddy_paused_partitions", "Partitions paused for lack of credit.",
            static_cast<double>(c.paused_partitions.load()));
  out.gauge("eddy_records_in_flight",
            "Records handed to partition tasks and not yet complete (outputs delivered, "
            "offsets committable).",
            static_cast<double>(c.records_in_flight.load()));
  out.gauge("eddy_partitions_restoring", "Assigned partitions still restoring their state.",
            static_cast<double>(c.partitions_restoring.load()));
  if (face.consumer_lag)
    out.partition_gauge("eddy_consumer_lag",
                        "Records between the next one the service reads and the partition's "
                        "end (its last stable offset under read_committed), per fetched "
                        "partition (librdkafka statistics, statistics.interval.ms apart).",
                        face.consumer_lag->lag(), [](std::int64_t lag) { return lag; });
  {
    std::map<std::pair<std::string, std::int32_t>, restore_figures> restores;
    {
      std::lock_guard<std::mutex> guard{face.rt->restores_mtx};
      restores = face.rt->restores;
    }
    out.partition_gauge("eddy_restore_records_restored",
                        "Records the last restore of a journal or table partition replayed.",
                        restores, [](const restore_figures& f) { return f.restored; });
    out.partition_gauge("eddy_restore_records_to_restore",
                        "Records the last restore of a journal or table partition had to "
                        "replay (restored / to_restore is its progress).",
                        restores, [](const restore_figures& f) { return f.to_restore; });
  }
  out.histogram_family("eddy_handler_seconds", "Time a handler took per record.",
                       face.rt->handler_seconds);
  out.histogram_family("eddy_record_age_seconds",
                       "A record's age when its handler began: now minus the record's "
                       "timestamp.",
                       face.rt->record_age_seconds);
  out.gauge("eddy_ready", "1 while running with every assigned partition restored, else 0.",
            face.ready() ? 1.0 : 0.0);
  return out.text();
}

} // namespace eddy::detail
