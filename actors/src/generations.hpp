#pragma once

// Transaction generations (internal to the runtime): how an exactly_once service without
// state keeps handling records while a transaction commits. Every batch belongs to the
// generation that was current when its task began it; a commit closes the current
// generation (batches begun from then on belong to the next), waits only for the batches
// of the closed one still running, and commits their outputs and offsets on the
// committer's thread while the tasks go on. Outputs of the next generation are parked
// here until its transaction is open, then produced in the order they were emitted.
//
// Threads: tasks call begin_batch/end_batch and park; the committer closes, opens and
// drops; the sink calls the rest under its produce gate.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <eddy/record.hpp>

#include "partition_progress.hpp"

namespace eddy::detail {

/// An output waiting for its generation's transaction.
struct parked_record {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<header> headers;
  std::int32_t partition = -1;
  partition_progress::ticket* owner = nullptr;
  bool key_null = false;
  bool value_null = false;
  /// Offset of the consumed record that emitted it (for a dead letter if it is refused).
  std::int64_t source_offset = -1;
  /// True for a dead letter.
  bool dead_letter = false;
};

class generations {
public:
  /// Registers a batch that begins now; returns its generation.
  std::uint64_t begin_batch() noexcept {
    while (true) {
      auto g = current_.load();
      active_[g & 1].fetch_add(1);
      if (current_.load() == g)
        return g;
      active_[g & 1].fetch_sub(1); // closed meanwhile: the batch belongs to the next one
    }
  }

  /// The batch of generation `g` has ended (handled and marked so).
  void end_batch(std::uint64_t g) noexcept { active_[g & 1].fetch_sub(1); }

  /// The generation new batches belong to.
  std::uint64_t current() const noexcept { return current_.load(); }

  /// Closes the current generation for new batches; returns it.
  std::uint64_t close_current() noexcept { return current_.fetch_add(1); }

  /// True once no batch of generation `g` is running.
  bool quiet(std::uint64_t g) const noexcept { return active_[g & 1].load() == 0; }

  /// True if outputs of generation `g` must wait for their transaction.
  bool must_park(std::uint64_t g) const noexcept { return g > open_.load(); }

  /// Keeps an output until its generation opens.
  void park(parked_record r) {
    std::lock_guard<std::mutex> guard{mtx_};
    parked_.push_back(std::move(r));
  }

  /// Makes `g` the generation whose outputs are produced at once; returns the parked ones,
  /// in the order they came, to be produced now.
  std::vector<parked_record> open(std::uint64_t g) {
    std::lock_guard<std::mutex> guard{mtx_};
    open_.store(g);
    return std::exchange(parked_, {});
  }

  /// Removes every parked output (its work is being undone).
  std::vector<parked_record> drop_parked() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::exchange(parked_, {});
  }

private:
  std::atomic<std::uint64_t> current_{1};
  std::atomic<std::uint64_t> open_{1};
  std::atomic<int> active_[2] = {0, 0};
  std::mutex mtx_;
  std::vector<parked_record> parked_;
};

/// Where the outputs of each generation go: what the committer needs of the sink.
class generation_outputs {
public:
  virtual ~generation_outputs() = default;

  /// The generations of the batches.
  virtual generations& batch_generations() noexcept = 0;

  /// Makes `generation` the one whose outputs are produced at once (its transaction has
  /// begun) and produces its parked outputs, in order.
  virtual void open_generation(std::uint64_t generation) = 0;

  /// Drops the parked outputs (their work is undone by an abort).
  virtual void drop_parked() = 0;
};

} // namespace eddy::detail
