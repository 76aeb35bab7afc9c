#pragma once

// The slot of a running instance in its state folder (internal to the runtime): the first
// free `instance-<n>.lock` file of the folder, held with an exclusive flock while the
// instance runs. A restarted instance gets its predecessor's slot back (a dead process
// holds no lock), so a transactional.id derived from the folder and the slot stays the
// same across restarts: the new instance fences its dead predecessor at once instead of
// waiting out the predecessor's transaction timeout. Instances sharing a folder get
// different slots.

#include <string>

#include <eddy/error.hpp>

namespace eddy::detail {

class instance_slot {
public:
  /// Claims the first free slot of `folder`, creating the folder if missing.
  static expected<instance_slot> claim(const std::string& folder);

  instance_slot(instance_slot&& other) noexcept;
  instance_slot& operator=(instance_slot&& other) noexcept;
  ~instance_slot();

  /// The slot's number, from 0.
  int number() const noexcept { return number_; }

  /// A short stable name of the host, the folder and the slot, e.g. `3f2a9c01-0`: the
  /// same host, folder and slot always give the same name.
  std::string stable_name() const;

private:
  instance_slot(std::string folder, int fd, int number) noexcept
    : folder_(std::move(folder)),
      fd_(fd),
      number_(number) {}

  std::string folder_;
  int fd_ = -1;
  int number_ = -1;
};

} // namespace eddy::detail
