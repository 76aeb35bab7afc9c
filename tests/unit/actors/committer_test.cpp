// Unit tests of the committer through fakes of the group consumer and the transactional
// producer: which stores and offsets commit, when a commit waits, and how an exactly_once
// commit that overran its budget or was fenced ends. Deterministic: the tests play the
// tasks' part on partition_progress directly and pass the clock in.

#include <future>

#include <catch2/catch.hpp>

#include "committer.hpp"
#include "runtime_fakes.hpp"

using namespace std::chrono_literals;
using eddy::detail::committer;

namespace {

/// A live in-memory store for partition number `partition` with one staged row.
std::shared_ptr<eddy::detail::partition_state>
staged_state(eddy::detail::state_registry& states, std::int32_t partition) {
  auto state = std::make_shared<eddy::detail::partition_state>(
    eddy::state_store::open_in_memory(), partition);
  state->store.put("k" + std::to_string(partition), "1");
  states.adopt(state);
  return state;
}

struct fixture {
  eddy::test::test_runtime env;
  eddy::detail::assignment parts;
  eddy::detail::state_registry states{env.rt};
  eddy::test::fake_group group;
  eddy::test::fake_transactions txn;
  std::vector<std::string> restarted;

  committer make(bool exactly_once) {
    env.rt.exactly_once = exactly_once;
    return committer{env.rt,
                     parts,
                     states,
                     group,
                     exactly_once ? &txn : nullptr,
                     [this](eddy::detail::assigned_partition& p) {
                       restarted.push_back(p.topic + "/" + std::to_string(p.partition));
                       p.progress = std::make_shared<eddy::detail::partition_progress>();
                       p.progress->rewind(p.committed);
                     }};
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "at_least_once: a revocation commits only the stores of drained "
                          "partitions") {
  env.add_journal(2);
  auto c = make(false);
  auto& p0 = eddy::test::assign(parts, "in", 0);
  auto& p1 = eddy::test::assign(parts, "in", 1);
  auto s0 = staged_state(states, 0);
  auto s1 = staged_state(states, 1);
  eddy::test::deliver(eddy::test::hand_out_and_handle(p0, 0, 10));
  auto* in_flight = eddy::test::hand_out_and_handle(p1, 0, 10); // its output still in flight
  env.rt.journal->delivered_next[0].store(10);
  env.rt.journal->delivered_next[1].store(4);

  c.on_revoke({&p0}, false);

  CHECK(s0->store.staged() == 0);
  CHECK(s0->store.checkpoint("journal", 0) == 10);
  CHECK(s1->store.staged() > 0); // partition 1 is still busy: its rows are not complete
  CHECK_FALSE(s1->store.checkpoint("journal", 1).has_value());
  CHECK(group.committed.at({"in", 0}) == 10);
  CHECK(group.committed.count({"in", 1}) == 0);
  eddy::test::deliver(in_flight); // the ticket keeps its partition alive until delivered
}

TEST_CASE_METHOD(fixture, "at_least_once: a periodic commit holds dispatch until the tasks "
                          "are quiet") {
  env.add_journal(1);
  auto c = make(false);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto state = staged_state(states, 0);
  auto* busy = eddy::test::hand_out_and_handle(p, 0, 10);
  auto now = std::chrono::steady_clock::now() + 1s;

  c.tick(now);
  CHECK_FALSE(c.dispatch_allowed());
  CHECK(state->store.staged() > 0);
  CHECK(group.commits == 0);

  eddy::test::deliver(busy);
  env.rt.journal->delivered_next[0].store(10);
  c.tick(now + 5ms);
  CHECK(c.dispatch_allowed());
  CHECK(state->store.staged() == 0);
  CHECK(state->store.checkpoint("journal", 0) == 10);
  CHECK(group.committed.at({"in", 0}) == 10);
}

TEST_CASE_METHOD(fixture, "after a failed delivery no store is committed") {
  env.add_journal(1);
  auto c = make(false);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto state = staged_state(states, 0);
  eddy::test::deliver(eddy::test::hand_out_and_handle(p, 0, 10));
  env.rt.journal->delivered_next[0].store(10);
  env.rt.failure.raise(eddy::error{eddy::errc::delivery_failed, "refused"});

  c.finish();

  CHECK(state->store.staged() > 0);
  CHECK_FALSE(state->store.checkpoint("journal", 0).has_value());
}

TEST_CASE_METHOD(fixture, "exactly_once: a commit sends the handled offsets, commits, then "
                          "commits the stores and begins the next transaction") {
  env.add_journal(1);
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto state = staged_state(states, 0);
  c.start();
  c.dispatched(p, 0, 10);
  eddy::test::deliver(eddy::test::hand_out_and_handle(p, 0, 10));
  env.rt.journal->delivered_next[0].store(10);

  c.tick(std::chrono::steady_clock::now() + 1s);

  CHECK(txn.calls == std::vector<std::string>{"begin", "offsets", "commit", "begin"});
  CHECK(txn.sent.at({"in", 0}) == 10);
  CHECK(p.committed == 10);
  CHECK(state->store.staged() == 0);
  CHECK(state->store.checkpoint("journal", 0) == 10);
}

TEST_CASE_METHOD(fixture, "exactly_once: a transaction hands a partition no more records "
                          "than its share") {
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto& other = eddy::test::assign(parts, "in", 1);
  c.start();
  auto cap = c.transaction_cap();
  REQUIRE(c.dispatch_room(p) == cap);
  c.dispatched(p, 0, cap - 1);
  CHECK(c.dispatch_room(p) == 1);
  c.dispatched(p, cap - 1, 1);
  CHECK(c.dispatch_room(p) == 0);
  CHECK(c.dispatch_room(other) == 0); // the commit is due: every task finishes what it has
}

TEST_CASE_METHOD(fixture, "exactly_once: a full transaction that commits at once lets the "
                          "next take four times as much") {
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  c.start();
  auto cap = c.transaction_cap();
  for (int round = 1; round <= 2; ++round) {
    auto first = p.committed < 0 ? 0 : p.committed;
    auto share = c.transaction_cap();
    c.dispatched(p, first, share);
    eddy::test::deliver(eddy::test::hand_out_and_handle(p, first, first + share));
    c.tick(std::chrono::steady_clock::now());
    REQUIRE(p.committed == first + share);
  }
  CHECK(c.transaction_cap() == 16 * cap);
  CHECK(c.aborts() == 0);
}

TEST_CASE_METHOD(fixture, "exactly_once: a full share waits out a cooperative rebalance's "
                          "hold, then commits") {
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto& other = eddy::test::assign(parts, "in", 1);
  c.start();
  auto now = std::chrono::steady_clock::now();
  c.hold_until(now + 6s);
  auto share = c.transaction_cap();
  c.dispatched(p, 0, share);
  eddy::test::deliver(eddy::test::hand_out_and_handle(p, 0, share));
  CHECK(c.dispatch_room(p) == 0);    // no more for the full partition
  CHECK(c.dispatch_room(other) > 0); // the others go on while the hold lasts
  c.tick(now + 1s);
  CHECK(txn.calls == std::vector<std::string>{"begin"});
  c.tick(now + 6001ms);
  CHECK(txn.calls == std::vector<std::string>{"begin", "offsets", "commit", "begin"});
  CHECK(p.committed == share);
}

TEST_CASE_METHOD(fixture, "exactly_once: a commit whose tasks overrun the drain budget "
                          "aborts, rewinds and restarts the tasks") {
  env.add_journal(1);
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto state = staged_state(states, 0);
  c.start();
  auto cap = c.transaction_cap();
  c.dispatched(p, 40, 100);
  p.committed = 40;
  p.progress->add_in_flight(100);
  p.dispatched_next = 140; // handed out, never handled: a handler far too slow
  auto now = std::chrono::steady_clock::now() + 1s;

  c.tick(now);
  CHECK(txn.calls == std::vector<std::string>{"begin"}); // due, waiting for the tasks
  c.tick(now + 3001ms); // past a third of transaction.timeout.ms

  CHECK(txn.calls == std::vector<std::string>{"begin", "abort", "begin"});
  REQUIRE(group.seeks.size() == 1);
  CHECK(group.seeks[0].offset == 40);
  CHECK(restarted == std::vector<std::string>{"in/0"});
  CHECK(p.dispatched_next == -1);
  CHECK(p.progress->in_flight() == 0);
  CHECK(state->store.staged() == 0); // rolled back, not committed
  CHECK_FALSE(state->store.checkpoint("journal", 0).has_value());
  CHECK(c.transaction_cap() < cap);
  CHECK(c.aborts() == 1);
  CHECK(c.dispatch_allowed());
}

TEST_CASE_METHOD(fixture, "exactly_once: a fenced commit raises `fenced` and commits no "
                          "store") {
  env.add_journal(1);
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  auto state = staged_state(states, 0);
  c.start();
  c.dispatched(p, 0, 10);
  eddy::test::deliver(eddy::test::hand_out_and_handle(p, 0, 10));
  txn.commit_answer.ok = false;
  txn.commit_answer.fatal = true;
  txn.commit_answer.fenced = true;
  txn.commit_answer.message = "producer fenced";

  c.tick(std::chrono::steady_clock::now() + 1s);

  REQUIRE(env.rt.failure.raised());
  CHECK(env.rt.failure.first()->code == eddy::errc::fenced);
  CHECK(txn.calls == std::vector<std::string>{"begin", "offsets", "commit"});
  CHECK(state->store.staged() > 0);
  CHECK(p.committed == -1);
}

TEST_CASE_METHOD(fixture, "exactly_once: a lost assignment aborts the open transaction") {
  auto c = make(true);
  auto& p = eddy::test::assign(parts, "in", 0);
  c.start();
  c.dispatched(p, 0, 10);
  eddy::test::deliver(eddy::test::hand_out_and_handle(p, 0, 10));

  c.on_revoke({&p}, true);

  CHECK(txn.calls == std::vector<std::string>{"begin", "abort", "begin"});
  CHECK(txn.sent.empty());
}

namespace {

/// The sink's part in pipelined commits: real generations, opened generations recorded.
class fake_outputs final : public eddy::detail::generation_outputs {
public:
  eddy::detail::generations& batch_generations() noexcept override { return generations; }
  void open_generation(std::uint64_t g) override {
    opened.push_back(g);
    generations.open(g);
  }
  void drop_parked() override { generations.drop_parked(); }
  eddy::detail::generations generations;
  std::vector<std::uint64_t> opened;
};

/// Plays a task's batch of records [from, to) in the generation current when it begins;
/// `finish` false leaves it running.
std::uint64_t run_batch(eddy::detail::assigned_partition& p, eddy::detail::generations& gens,
                        std::int64_t from, std::int64_t to, bool finish = true) {
  auto g = gens.begin_batch();
  p.progress->add_in_flight(to - from);
  p.dispatched_next = to;
  if (!finish)
    return g;
  auto* t = p.progress->open(to, to - from);
  t->generation = g;
  p.progress->mark_handled(t);
  eddy::detail::partition_progress::release(t);
  gens.end_batch(g);
  return g;
}

} // namespace

TEST_CASE_METHOD(fixture, "exactly_once without state: a commit waits only for the batches "
                          "running, and what is handled meanwhile goes to the next "
                          "transaction") {
  env.rt.exactly_once = true;
  fake_outputs outputs;
  bool launched = false;
  committer c{env.rt,
              parts,
              states,
              group,
              &txn,
              [](eddy::detail::assigned_partition&) {},
              &outputs,
              [&](std::function<eddy::detail::txn_status()> job) {
                launched = true; // run at once, on this thread: deterministic
                std::promise<eddy::detail::txn_status> done;
                done.set_value(job());
                return done.get_future();
              }};
  REQUIRE(c.pipelined());
  auto& p = eddy::test::assign(parts, "in", 0);
  c.start();
  c.dispatched(p, 0, 20);
  auto first = run_batch(p, outputs.generations, 0, 10);
  // The second batch is under way when the commit falls due.
  auto second_gen = outputs.generations.begin_batch();
  REQUIRE(second_gen == first);
  auto now = std::chrono::steady_clock::now() + 1s;

  c.tick(now);
  CHECK(c.dispatch_allowed()); // the tasks go on while the commit waits
  CHECK_FALSE(launched);       // a batch of the closed generation still runs
  auto third = run_batch(p, outputs.generations, 20, 30); // begun after the close
  CHECK(third == first + 1);
  CHECK(outputs.generations.must_park(third));

  auto* t = p.progress->open(20, 10);
  t->generation = second_gen;
  p.progress->mark_handled(t);
  eddy::detail::partition_progress::release(t);
  outputs.generations.end_batch(second_gen);
  p.dispatched_next = 30;
  c.tick(now + 1ms);

  REQUIRE(launched);
  CHECK(txn.calls == std::vector<std::string>{"begin", "offsets", "commit", "begin"});
  CHECK(txn.sent.at({"in", 0}) == 20); // the closed generation's records, not the third batch
  CHECK(p.committed == 20);
  CHECK(p.transaction_start == 20);
  CHECK(outputs.opened == std::vector<std::uint64_t>{third});
  CHECK_FALSE(outputs.generations.must_park(third));
}

TEST_CASE("a fence found after failed deliveries is reported as the cause") {
  eddy::detail::failure_latch latch;
  latch.raise(eddy::error{eddy::errc::delivery_failed, "message timed out"});
  latch.raise(eddy::error{eddy::errc::commit_failed, "later"});
  CHECK(latch.first()->code == eddy::errc::delivery_failed);
  latch.raise(eddy::error{eddy::errc::fenced, "the broker ended the stalled transaction"});
  CHECK(latch.first()->code == eddy::errc::fenced);
}
