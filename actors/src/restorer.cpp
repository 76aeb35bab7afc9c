#include "restorer.hpp"

#include <algorithm>

#include <eddy/log.hpp>

namespace eddy::detail {

restorer::restorer(runtime& rt, const state_registry& states,
                   std::function<std::unique_ptr<log_reader>()> make_reader,
                   restore_settings settings)
  : rt_(rt),
    states_(states),
    make_reader_(std::move(make_reader)),
    settings_(settings) {
  worker_ = std::thread{[this] { work(); }};
}

restorer::~restorer() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void restorer::request(const std::vector<std::int32_t>& numbers) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto number : numbers) {
      queued_.insert(number);
      cancelled_.erase(number);
    }
  }
  wake_.notify_all();
}

void restorer::cancel(const std::set<std::int32_t>& numbers) {
  std::unique_lock<std::mutex> lock{mtx_};
  for (auto number : numbers)
    queued_.erase(number);
  auto& restored = done_.restored;
  restored.erase(
    std::remove_if(restored.begin(), restored.end(),
                   [&](auto& state) { return numbers.count(state->partition) != 0; }),
    restored.end());
  bool overlaps = false;
  for (auto number : numbers)
    if (current_.count(number) != 0) {
      cancelled_.insert(number);
      overlaps = true;
    }
  if (overlaps)
    wake_.wait(lock, [&] {
      return std::none_of(numbers.begin(), numbers.end(),
                          [&](auto number) { return current_.count(number) != 0; });
    });
}

restorer::outcome restorer::collect() {
  std::lock_guard<std::mutex> guard{mtx_};
  outcome taken = std::move(done_);
  done_ = {};
  return taken;
}

bool restorer::busy() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return !queued_.empty() || !current_.empty();
}

void restorer::work() {
  std::unique_lock<std::mutex> lock{mtx_};
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
    if (stopping_)
      return;
    current_ = std::move(queued_);
    queued_.clear();
    std::vector<std::int32_t> numbers{current_.begin(), current_.end()};
    lock.unlock();
    if (!reader_)
      reader_ = make_reader_();
    auto restored = restore_partitions(rt_, states_, *reader_, numbers, settings_, [this] {
      std::lock_guard<std::mutex> guard{mtx_};
      return stopping_ || !cancelled_.empty();
    });
    lock.lock();
    if (restored) {
      // A number cancelled after the pass stopped looking is not wanted any more.
      for (auto& state : *restored)
        if (cancelled_.count(state->partition) == 0 && !stopping_)
          done_.restored.push_back(std::move(state));
    } else if (!cancelled_.empty() || stopping_) {
      // Restore again, later, whatever of this pass is still wanted.
      for (auto number : current_)
        if (cancelled_.count(number) == 0 && !stopping_)
          queued_.insert(number);
    } else if (!done_.failure) {
      logger().error("restore failed service={} error=\"{}\"", rt_.service_name,
                     restored.error_value().message);
      done_.failure = restored.error_value();
    }
    cancelled_.clear();
    current_.clear();
    wake_.notify_all();
  }
}

} // namespace eddy::detail
