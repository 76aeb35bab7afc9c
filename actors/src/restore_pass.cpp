#include "restore_pass.hpp"

#include <algorithm>
#include <map>
#include <thread>

#include <eddy/log.hpp>

#include "restore_progress.hpp"

namespace eddy::detail {

namespace {

using clock = std::chrono::steady_clock;

/// One topic partition to read into a store.
struct replay_job {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next = 0;
  std::int64_t high = 0;
  state_store* store = nullptr;
  std::function<void(const log_read&)> apply;
  std::int64_t replayed = 0;
  bool done = false;
};

std::string where(const std::string& topic, std::int32_t partition) {
  return "'" + topic + "' partition " + std::to_string(partition);
}

class pass {
public:
  pass(runtime& rt, log_reader& reader, const restore_settings& settings,
       const std::function<bool()>& cancelled)
    : rt_(rt),
      reader_(reader),
      settings_(settings),
      cancelled_(cancelled) {}

  /// The watermarks of a partition, asked again a few times before the pass fails: a
  /// failed query never counts as "nothing to replay".
  expected<std::pair<std::int64_t, std::int64_t>> bounds(const std::string& topic,
                                                         std::int32_t partition) {
    std::string last;
    for (int attempt = 1; attempt <= settings_.watermark_attempts; ++attempt) {
      if (cancelled_ && cancelled_())
        return error{errc::restore_failed, "cancelled"};
      auto found = reader_.watermarks(topic, partition);
      if (found)
        return found;
      last = found.error_value().message;
      logger().warn("watermark query failed service={} topic={} partition={} attempt={}/{} "
                    "error=\"{}\"",
                    rt_.service_name, topic, partition, attempt, settings_.watermark_attempts,
                    last);
      if (attempt < settings_.watermark_attempts)
        std::this_thread::sleep_for(settings_.retry_delay);
    }
    return error{errc::restore_failed,
                 "cannot read the offsets of " + where(topic, partition) + " after "
                   + std::to_string(settings_.watermark_attempts) + " attempts: " + last};
  }

  /// Publishes each job's progress for /metrics.
  void publish(const std::vector<replay_job>& jobs) {
    std::lock_guard<std::mutex> guard{rt_.restores_mtx};
    for (auto& job : jobs)
      rt_.restores[{job.topic, job.partition}] = {
        job.replayed, job.replayed + std::max<std::int64_t>(job.high - job.next, 0)};
  }

  /// Reads every job's partition from `next` to `high` into its `apply`, checkpointing its
  /// store as it goes; fails unless every job reached its end.
  expected<void> replay(std::vector<replay_job>& jobs) {
    std::vector<partition_offset> start;
    std::map<std::pair<std::string, std::int32_t>, replay_job*> by_partition;
    std::int64_t total = 0;
    for (auto& job : jobs) {
      if (job.next >= job.high) {
        job.done = true;
        continue;
      }
      logger().info("restoring service={} topic={} partition={} from={} to={}",
                    rt_.service_name, job.topic, job.partition, job.next, job.high);
      total += job.high - job.next;
      start.push_back({job.topic, job.partition, job.next});
      by_partition[{job.topic, job.partition}] = &job;
    }
    if (start.empty())
      return {};
    if (rt_.on_restoring)
      rt_.on_restoring(true);
    auto open = start.size();
    reader_.assign(start);
    restore_progress progress{rt_.service_name, total, settings_.progress};
    publish(jobs);
    auto last_published = clock::now();
    auto last_progress = clock::now();
    auto last_commit = clock::now();
    auto finish = [&](replay_job& job) {
      if (!job.done) {
        job.done = true;
        --open;
      }
    };
    bool cancelled = false;
    log_read read;
    while (open > 0 && clock::now() - last_progress < settings_.patience) {
      if (cancelled_ && cancelled_()) {
        cancelled = true;
        break;
      }
      reader_.next(read, std::chrono::milliseconds{200});
      if (read.what == log_read::kind::nothing || read.what == log_read::kind::error)
        continue;
      auto found = by_partition.find({read.rec.topic, read.rec.partition});
      if (found == by_partition.end() || found->second->done)
        continue;
      auto& job = *found->second;
      if (read.what == log_read::kind::end_of_partition) {
        // Past the last record: done once the position (which skips transaction markers
        // and aborted records) reaches the end.
        if (reader_.position(job.topic, job.partition) >= job.high)
          finish(job);
        continue;
      }
      auto now = clock::now();
      last_progress = now;
      try {
        job.apply(read);
      } catch (const std::exception& e) {
        // The live path never journals an event its applier rejects, so this one came from
        // elsewhere or the applier changed: the state would silently differ from the log.
        if (!rt_.restore_skips_bad_events) {
          for (auto& each : jobs)
            each.store->rollback(); // back to the last checkpoint, before the bad event
          reader_.unassign();
          return error{errc::restore_failed,
                       "the applier rejected the event at offset "
                         + std::to_string(read.rec.offset) + " of "
                         + where(job.topic, job.partition) + ": " + e.what()
                         + "; fix the applier, or set eddy.errors.restore=continue to skip "
                           "such events (the state then lacks them)"};
        }
        rt_.counters.handler_errors.fetch_add(1);
        logger().error("restore skipped a record service={} topic={} partition={} offset={} "
                       "error=\"{}\"",
                       rt_.service_name, job.topic, job.partition, read.rec.offset, e.what());
      }
      job.next = read.rec.offset + 1;
      ++job.replayed;
      progress.advance(now);
      if (job.next >= job.high)
        finish(job);
      if (now - last_published > std::chrono::milliseconds{200}) {
        publish(jobs);
        last_published = now;
      }
      if (now - last_commit > std::chrono::seconds{2}) {
        // Rarely: staged rows coalesce per key, so SQLite writes each key once per commit.
        if (auto saved = checkpoint(jobs); !saved)
          return saved;
        last_commit = now;
      }
    }
    reader_.unassign();
    publish(jobs);
    progress.finish(start.size());
    if (rt_.on_restoring)
      rt_.on_restoring(false);
    // What was read is consistent with its checkpoint: keep it, whatever happens next.
    if (auto saved = checkpoint(jobs); !saved)
      return saved;
    if (cancelled)
      return error{errc::restore_failed, "cancelled"};
    for (auto& job : jobs)
      if (!job.done)
        return error{errc::restore_failed,
                     "the restore of " + where(job.topic, job.partition) + " stopped at offset "
                       + std::to_string(job.next) + ", short of the end "
                       + std::to_string(job.high) + " it had when the restore began (nothing "
                       + "read for " + std::to_string(settings_.patience.count())
                       + " ms); its inputs are not handled on partial state"};
    return {};
  }

private:
  expected<void> checkpoint(std::vector<replay_job>& jobs) {
    for (auto& job : jobs)
      job.store->set_checkpoint(job.topic, job.partition, std::max<std::int64_t>(job.next, 0));
    for (auto& job : jobs)
      if (auto saved = job.store->commit(); !saved)
        return saved.error_value();
    return {};
  }

  runtime& rt_;
  log_reader& reader_;
  const restore_settings& settings_;
  const std::function<bool()>& cancelled_;
};

/// The fix to print when a journal lost events a store needs.
std::string journal_fix(const std::string& topic) {
  return "journals must be kept forever: kafka-configs --alter --entity-type topics "
         "--entity-name "
         + topic
         + " --add-config retention.ms=-1,retention.bytes=-1; the lost events cannot be "
           "replayed, so bring them back or rebuild the state from a snapshot topic that "
           "covers them";
}

} // namespace

expected<std::vector<std::shared_ptr<partition_state>>>
restore_partitions(runtime& rt, const state_registry& states, log_reader& reader,
                   const std::vector<std::int32_t>& numbers, const restore_settings& settings,
                   const std::function<bool()>& cancelled) {
  std::vector<std::shared_ptr<partition_state>> opened;
  for (auto number : numbers) {
    auto state = states.open(number);
    if (!state)
      return state.error_value();
    opened.push_back(std::move(*state));
  }
  pass run{rt, reader, settings, cancelled};
  // Fresh stores start from the latest snapshot rather than the whole history.
  if (rt.journal && !rt.journal->snapshot_topic.empty()) {
    auto& journal = *rt.journal;
    std::vector<replay_job> jobs;
    std::vector<std::shared_ptr<std::int64_t>> covered;
    for (auto& state : opened) {
      if (state->store.checkpoint(journal.topic, state->partition))
        continue;
      auto found = run.bounds(journal.snapshot_topic, state->partition);
      if (!found)
        return found.error_value();
      auto& store = state->store;
      auto seen = std::make_shared<std::int64_t>(-1);
      covered.push_back(seen);
      jobs.push_back({journal.snapshot_topic, state->partition, found->first, found->second,
                      &store, [&store, seen](const log_read& read) {
                        if (read.rec.value.empty())
                          store.erase(read.rec.key);
                        else
                          store.put(read.rec.key, read.rec.value.substr(1));
                        if (auto* at = read.rec.find_header("eddy.checkpoint"))
                          *seen = std::stoll(*at);
                      }});
    }
    if (auto done = run.replay(jobs); !done)
      return done.error_value();
    for (std::size_t i = 0; i < jobs.size(); ++i)
      if (*covered[i] >= 0) {
        jobs[i].store->set_checkpoint(journal.topic, jobs[i].partition, *covered[i]);
        if (auto saved = jobs[i].store->commit(); !saved)
          return saved.error_value();
      }
  }
  std::vector<replay_job> jobs;
  for (auto& state : opened) {
    auto partition = state->partition;
    auto& store = state->store;
    if (rt.journal) {
      auto& journal = *rt.journal;
      auto found = run.bounds(journal.topic, partition);
      if (!found)
        return found.error_value();
      auto [low, high] = *found;
      // Never trust a store past its checkpoint, and never restore part of the history.
      auto needed = store.checkpoint(journal.topic, partition).value_or(0);
      if (low > needed)
        return error{errc::restore_failed,
                     "journal " + where(journal.topic, partition) + " begins at offset "
                       + std::to_string(low) + " but the state needs its events from offset "
                       + std::to_string(needed) + ": events " + std::to_string(needed) + " to "
                       + std::to_string(low - 1) + " are gone (retention or deleted records). "
                       + journal_fix(journal.topic)};
      if (needed > high)
        return error{errc::restore_failed,
                     "the store of " + where(journal.topic, partition) + " (" + store.path()
                       + ") has applied events up to offset " + std::to_string(needed)
                       + " but the journal ends at " + std::to_string(high)
                       + ": the journal lost events (was it deleted and created again?). "
                       + "Delete the store to rebuild it from what the journal holds"};
      jobs.push_back(
        {journal.topic, partition, needed, high, &store,
         [&store, &journal](const log_read& read) { journal.apply(read.rec, store); }});
    }
    for (auto& [topic, table] : rt.local_tables) {
      auto found = run.bounds(topic, partition);
      if (!found)
        return found.error_value();
      auto [low, high] = *found;
      auto checkpoint = store.checkpoint(topic, partition);
      if (checkpoint && low > *checkpoint)
        logger().warn("table records gone service={} topic={} partition={} checkpoint={} "
                      "first={}: reading from the first one held",
                      rt.service_name, topic, partition, *checkpoint, low);
      jobs.push_back({topic, partition, std::max(checkpoint.value_or(0), low), high, &store,
                      [&store, topic = topic](const log_read& read) {
                        auto row = table_row_key(topic, read.rec.key);
                        if (read.value_null)
                          store.erase(row);
                        else
                          store.put(row, read.rec.value);
                      }});
    }
  }
  if (auto done = run.replay(jobs); !done)
    return done.error_value();
  for (auto& job : jobs)
    if (rt.journal && job.topic == rt.journal->topic) {
      rt.counters.events_restored.fetch_add(job.replayed);
      rt.journal->delivered_next[static_cast<std::size_t>(job.partition)].store(
        job.store->checkpoint(job.topic, job.partition).value_or(0));
    }
  return opened;
}

} // namespace eddy::detail
