#pragma once

// Fakes of the runtime's Kafka ports and helpers that play a partition task's part, so the
// committer and the restorer are tested deterministically: no broker, no actors, no sleeps.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "assignment.hpp"
#include "kafka_ports.hpp"
#include "runtime.hpp"

namespace eddy::test {

/// Records the group commits and seeks it is asked for.
class fake_group final : public detail::group_port {
public:
  expected<void> commit(const std::vector<detail::partition_offset>& offsets, bool) override {
    for (auto& at : offsets)
      committed[{at.topic, at.partition}] = at.offset;
    ++commits;
    return {};
  }
  expected<void> seek(const detail::partition_offset& at) override {
    seeks.push_back(at);
    return {};
  }
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> committed;
  std::vector<detail::partition_offset> seeks;
  int commits = 0;
};

/// Records the transactional calls in order ("begin", "offsets", "commit", "abort") and
/// answers `commit` with `commit_answer`.
class fake_transactions final : public detail::transaction_port {
public:
  detail::txn_status begin() override {
    calls.push_back("begin");
    return {};
  }
  detail::txn_status
  send_offsets(const std::vector<detail::partition_offset>& offsets) override {
    calls.push_back("offsets");
    for (auto& at : offsets)
      sent[{at.topic, at.partition}] = at.offset;
    return {};
  }
  detail::txn_status commit() override {
    calls.push_back("commit");
    return commit_answer;
  }
  detail::txn_status abort() override {
    calls.push_back("abort");
    return {};
  }
  std::vector<std::string> calls;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> sent;
  detail::txn_status commit_answer;
};

/// A runtime with small limits and a state folder of its own, removed at the end.
struct test_runtime {
  test_runtime() {
    dir = std::filesystem::temp_directory_path()
          / ("eddy-unit-" + std::to_string(::getpid()) + "-" + std::to_string(++serial()));
    rt.service_name = "unit";
    rt.credit_window = 30000;
    rt.batch_max_records = 500;
    rt.commit_interval = std::chrono::milliseconds{100};
    rt.shutdown_timeout = std::chrono::milliseconds{1000};
    rt.transaction_timeout = std::chrono::milliseconds{9000};
    rt.state_dir = dir.string();
  }
  ~test_runtime() { std::filesystem::remove_all(dir); }

  /// Declares a journal of `partitions` partitions whose applier adds the event's value to
  /// its key's row (a fold that shows doubled or lost events).
  void add_journal(int partitions) {
    detail::journal_spec spec;
    spec.topic = "journal";
    spec.partitions = partitions;
    spec.apply = [](const record& event, state_view store) {
      auto sum = store.get(event.key);
      store.put(event.key,
                std::to_string((sum ? std::stoll(*sum) : 0) + std::stoll(event.value)));
    };
    spec.delivered_next = std::make_unique<std::atomic<std::int64_t>[]>(partitions);
    for (int p = 0; p < partitions; ++p)
      spec.delivered_next[p].store(-1);
    rt.journal = std::move(spec);
  }

  static int& serial() {
    static int n = 0;
    return n;
  }

  std::filesystem::path dir;
  detail::runtime rt;
};

/// Adds `topic`/`partition` to `parts` with a fresh progress.
inline detail::assigned_partition& assign(detail::assignment& parts, const std::string& topic,
                                          std::int32_t partition) {
  detail::assigned_partition p;
  p.topic = topic;
  p.partition = partition;
  p.progress = std::make_shared<detail::partition_progress>();
  return parts.emplace(detail::partition_key{topic, partition}, std::move(p)).first->second;
}

/// Plays the poll loop and a task: hands out records [from, to) of `p` and lets the task
/// handle them; their outputs stay undelivered until `deliver` is called on the ticket.
inline detail::partition_progress::ticket*
hand_out_and_handle(detail::assigned_partition& p, std::int64_t from, std::int64_t to) {
  p.progress->add_in_flight(to - from);
  p.dispatched_next = to;
  auto* t = p.progress->open(to, to - from);
  detail::partition_progress::hold(t); // one output awaiting its delivery report
  p.progress->mark_handled(t);
  detail::partition_progress::release(t); // the task is done with the batch
  return t;
}

/// The delivery report of a ticket's output.
inline void deliver(detail::partition_progress::ticket* t) {
  detail::partition_progress::release(t);
}

} // namespace eddy::test
