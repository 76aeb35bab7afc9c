#pragma once

// The producing side of a service (internal to the runtime): one idempotent librdkafka
// producer shared by all partition tasks, a thread that serves its delivery reports, and
// the link from each delivery back to the batch ticket that emitted it. An output that
// cannot be written is put to the production error policy, which decides; the sink
// carries the decision out (fail the ticket, skip, or write a dead letter first).

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>
#include <eddy/error_policy.hpp>
#include <eddy/record.hpp>

#include "generations.hpp"
#include "partition_progress.hpp"

namespace eddy::detail {

struct runtime_counters;

/// Where an output comes from, for the dead letter written if it is refused.
struct output_origin {
  /// Offset of the consumed record that emitted it, or -1.
  std::int64_t source_offset = -1;
  /// True for a dead letter: if refused, it is not put to the policy again.
  bool dead_letter = false;
};

/// How the sink treats outputs that cannot be written.
struct refusal_handling {
  /// Asked for each refused output; null: every refusal fails the ticket.
  production_error_policy policy;
  /// The dead-letter topic.
  std::string dead_letter_topic;
  /// Named in dead letters.
  std::string service_name;
  /// exactly_once: a delivery that fails later lies in a transaction that can only abort,
  /// so only errors reported by produce() itself are put to the policy.
  bool transactional = false;
  /// Counted per outcome; may be null.
  runtime_counters* counters = nullptr;
};

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

  /// Sets how outputs that cannot be written are treated; call before `start()`.
  void handle_refusals(refusal_handling how) { refusals_ = std::move(how); }

  /// Produces asynchronously; `owner` (may be null) is held until the delivery report, or
  /// until the dead letter that replaces a refused output is delivered. Drops the record
  /// if `owner`'s progress is retired (its work is being undone), and parks it while its
  /// batch's transaction generation is not open yet. A key or value
  /// whose `data()` is null is written as null (a null key; a tombstone), any other as
  /// given, even empty. Waits while the local queue is full.
  void produce(const std::string& topic, std::string_view key, std::string_view value,
               const std::vector<header>& headers, partition_progress::ticket* owner,
               std::int32_t partition = RdKafka::Topic::PARTITION_UA,
               output_origin origin = {});

  /// Produces a record owned by no ticket (null views as for `produce`); the future yields
  /// its offset once delivered, or the delivery error.
  std::future<expected<std::int64_t>> publish(const std::string& topic, std::string_view key,
                                              std::string_view value,
                                              const std::vector<header>& headers);

  /// Reports each delivered record of `topic` (the journal) as (partition, offset).
  void track_deliveries(std::string topic,
                        std::function<void(std::int32_t, std::int64_t)> delivered);

  /// Waits up to `timeout_ms` for every queued record (and dead letter still to write) to
  /// be delivered; false on timeout.
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
  /// What a ticketed record's opaque points to, until its delivery report.
  struct delivery {
    partition_progress::ticket* owner;
    output_origin origin;
    bool value_dropped = false;
  };
  /// A dead letter waiting for room in the producer's queue.
  struct pending_letter {
    record letter;
    delivery* pending = nullptr;
  };

  void dr_cb(RdKafka::Message& message) override;
  /// `produce` past the gate: holds `owner` and hands the record to librdkafka.
  void produce_now(const std::string& topic, std::string_view key, std::string_view value,
                   const std::vector<header>& headers, partition_progress::ticket* owner,
                   std::int32_t partition, output_origin origin);
  /// Hands one record to librdkafka once; the error if it was not taken.
  RdKafka::ErrorCode send(const std::string& topic, std::int32_t partition,
                          std::string_view key, std::string_view value,
                          const std::vector<header>& headers, void* opaque);
  /// Carries out the policy for `output`, refused with `err`, and consumes `d`.
  /// `synchronous`: reported by produce(), not by a delivery report. `may_block`: on a
  /// thread that may wait for room in the queue (not one that serves delivery reports).
  void refuse(std::unique_ptr<delivery> d, record output, RdKafka::ErrorCode err,
              const std::string& message, bool synchronous, bool may_block);
  /// Writes `letter`, whose delivery completes `d`; queues it if there is no room and
  /// the thread may not wait.
  void write_dead_letter(std::unique_ptr<delivery> d, record letter, bool may_block);
  /// Writes queued dead letters until the producer's queue is full.
  void drain_letters();
  /// Removes and returns the publish request behind `opaque`, or null if it is a ticket.
  std::unique_ptr<std::promise<expected<std::int64_t>>> take_publish(void* opaque);

  std::unique_ptr<RdKafka::Producer> producer_;
  std::string creation_error_;
  std::thread poller_;
  std::string tracked_topic_;
  std::function<void(std::int32_t, std::int64_t)> tracked_delivered_;
  std::atomic<bool> running_{false};
  std::atomic<std::int64_t> failed_{0};
  std::atomic<std::int64_t> refused_{0};
  std::shared_mutex gate_;
  generations generations_;
  /// Promises of records produced by `publish` and not yet reported.
  std::mutex publishes_mtx_;
  std::unordered_set<void*> publishes_;
  std::atomic<std::int64_t> pending_publishes_{0};
  refusal_handling refusals_;
  std::mutex letters_mtx_;
  std::deque<pending_letter> letters_;
  std::atomic<std::int64_t> pending_letters_{0};
};

} // namespace eddy::detail
