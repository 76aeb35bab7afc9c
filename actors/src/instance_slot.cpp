#include "instance_slot.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace eddy::detail {

namespace {

/// How many instances may share one state folder.
constexpr int max_slots = 1024;

} // namespace

expected<instance_slot> instance_slot::claim(const std::string& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  auto absolute = std::filesystem::weakly_canonical(folder, ec).string();
  if (ec)
    absolute = folder;
  for (int number = 0; number < max_slots; ++number) {
    auto path = absolute + "/instance-" + std::to_string(number) + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return error{errc::invalid_config, "cannot open " + path + ": " + std::strerror(errno)
                                           + " (check eddy.state.dir)"};
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return instance_slot{absolute, fd, number};
    ::close(fd);
  }
  return error{errc::invalid_config, "more than " + std::to_string(max_slots)
                                       + " instances share the state folder " + absolute};
}

instance_slot::instance_slot(instance_slot&& other) noexcept
  : folder_(std::move(other.folder_)),
    fd_(other.fd_),
    number_(other.number_) {
  other.fd_ = -1;
}

instance_slot& instance_slot::operator=(instance_slot&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    folder_ = std::move(other.folder_);
    fd_ = other.fd_;
    number_ = other.number_;
    other.fd_ = -1;
  }
  return *this;
}

instance_slot::~instance_slot() {
  if (fd_ >= 0)
    ::close(fd_); // releases the lock
}

std::string instance_slot::stable_name() const {
  // The host too: replicas in containers often share the same folder path. FNV-1a:
  // stable across runs and builds, unlike std::hash.
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : std::string{host} + ":" + folder_) {
    hash ^= c;
    hash *= 16777619u;
  }
  char name[32];
  std::snprintf(name, sizeof name, "%08x-%d", hash, number_);
  return name;
}

} // namespace eddy::detail
