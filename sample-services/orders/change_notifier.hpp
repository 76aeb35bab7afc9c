// The orders API's wake-up service for long-polling requests: a request thread sleeps until
// the table row of its key changed, the stop, or its deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace shop {

/// Lets request threads sleep until the table row of a key changed. A request registers
/// a watch before its first look at the table, so that no change between the look and the
/// wait is lost.
class change_notifier {
public:
  /// A registration for one key; unregisters when destroyed.
  class watch {
  public:
    watch(change_notifier& owner, std::string key)
      : owner_(owner),
        key_(std::move(key)) {
      std::lock_guard<std::mutex> guard{owner_.mtx_};
      auto& s = owner_.slots_[key_];
      ++s.watchers;
      seen_ = s.changes;
    }

    ~watch() {
      std::lock_guard<std::mutex> guard{owner_.mtx_};
      auto i = owner_.slots_.find(key_);
      if (--i->second.watchers == 0)
        owner_.slots_.erase(i);
    }

    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

    /// Waits until the key changed since the last wait, `wake_all()` was called, or
    /// `until` passed.
    void wait_until(std::chrono::steady_clock::time_point until) {
      std::unique_lock<std::mutex> lock{owner_.mtx_};
      auto& s = owner_.slots_[key_];
      s.cv.wait_until(lock, until, [&] { return s.changes != seen_ || owner_.woken_; });
      seen_ = s.changes;
    }

  private:
    change_notifier& owner_;
    std::string key_;
    std::uint64_t seen_ = 0;
  };

  /// Wakes the watchers of `key`.
  void changed(const std::string& key) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = slots_.find(key);
    if (i == slots_.end())
      return;
    ++i->second.changes;
    i->second.cv.notify_all();
  }

  /// Wakes every watcher now and from now on (at shutdown).
  void wake_all() {
    std::lock_guard<std::mutex> guard{mtx_};
    woken_ = true;
    for (auto& [key, s] : slots_)
      s.cv.notify_all();
  }

private:
  struct slot {
    std::condition_variable cv;
    std::uint64_t changes = 0;
    int watchers = 0;
  };

  std::mutex mtx_;
  std::unordered_map<std::string, slot> slots_;
  bool woken_ = false;
};

} // namespace shop
