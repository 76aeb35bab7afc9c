#pragma once

// The producing side of a service (internal to the runtime): one idempotent librdkafka
// producer shared by all partition tasks, a thread that serves its delivery reports, and
// the link from each delivery back to the batch ticket that emitted it.

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>
#include <string_view>
#include <thread>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>
#include <eddy/record.hpp>

#include "generations.hpp"
#include "partition_progress.hpp"

namespace eddy::detail {

class sink final : public generation_outputs, private RdKafka::DeliveryReportCb {
public:
  /// Takes the producer configuration (a delivery callback is added) and creates the
  /// producer; check `producer()` for null and `creation_error()` afterwards.
  explicit sink(RdKafka::Conf& conf);
  ~sink() override;

  /// The underlying producer, or null if creation failed.
  RdKafka::Producer* producer() noexcept { return producer_.get(); }
  const std::string& creation_error() const noexcept { return creation_error_; }

  /// Starts the thread that serves delivery reports.
  void start();

  /// Produces asynchronously; `owner` (may be null) is held until the delivery report.
  /// Waits while the local queue is full. Drops the record if `owner`'s progress is
  /// retired (its work is being undone).
  void produce(const std::string& topic, std::string_view key, std::string_view value,
               const std::vector<header>& headers, partition_progress::ticket* owner,
               std::int32_t partition = RdKafka::Topic::PARTITION_UA);

  /// Produces a record owned by no ticket; the future yields its offset once delivered, or
  /// the delivery error.
  std::future<expected<std::int64_t>> publish(const std::string& topic, std::string_view key,
                                              std::string_view value,
                                              const std::vector<header>& headers);

  /// Reports each delivered record of `topic` (the journal) as (partition, offset).
  void track_deliveries(std::string topic,
                        std::function<void(std::int32_t, std::int64_t)> delivered);

  /// Waits up to `timeout_ms` for every queued record to be delivered; false on timeout.
  bool flush(int timeout_ms);

  /// Holds every `produce` back until the returned lock is released, so no output slips
  /// past a transaction that is being aborted.
  std::unique_lock<std::shared_mutex> close_gate() { return std::unique_lock{gate_}; }

  /// The transaction generations of the batches (exactly_once pipelining).
  generations& batch_generations() noexcept override { return generations_; }

  /// Makes `generation` the one whose outputs are produced at once (its transaction has
  /// begun) and produces its parked outputs, in order.
  void open_generation(std::uint64_t generation) override;

  /// Drops the parked outputs (their work is undone by an abort).
  void drop_parked() override;

  /// Records whose delivery failed since start.
  std::int64_t failed_deliveries() const noexcept { return failed_.load(); }

private:
  /// Hands a record to librdkafka, waiting while its queue is full; `owner` already holds.
  void send(const std::string& topic, std::string_view key, std::string_view value,
            const std::vector<header>& headers, partition_progress::ticket* owner,
            std::int32_t partition);
  void dr_cb(RdKafka::Message& message) override;
  /// Removes and returns the publish request behind `opaque`, or null if it is a ticket.
  std::unique_ptr<std::promise<expected<std::int64_t>>> take_publish(void* opaque);

  std::unique_ptr<RdKafka::Producer> producer_;
  std::string creation_error_;
  std::thread poller_;
  std::string tracked_topic_;
  std::function<void(std::int32_t, std::int64_t)> tracked_delivered_;
  std::atomic<bool> running_{false};
  std::atomic<std::int64_t> failed_{0};
  std::shared_mutex gate_;
  generations generations_;
  /// Promises of records produced by `publish` and not yet reported.
  std::mutex publishes_mtx_;
  std::unordered_set<void*> publishes_;
  std::atomic<std::int64_t> pending_publishes_{0};
};

} // namespace eddy::detail
