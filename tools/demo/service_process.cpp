#include "service_process.hpp"

#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shop_demo {

service_process::service_process(std::string label, const std::string& program,
                                 const std::vector<std::string>& args,
                                 std::filesystem::path log)
  : label_(std::move(label)), log_path_(std::move(log)) {
  int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error{"cannot open " + log_path_.string() + ": " + std::strerror(errno)};
  // Everything the child needs is prepared before fork(): after it, in a process that has
  // other threads, only async-signal-safe calls are allowed until exec.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (auto& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    throw std::runtime_error{"cannot start " + program + ": fork: " + std::strerror(errno)};
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent)
      ::_exit(1);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(program.c_str(), argv.data());
    static constexpr char failed[] = "shop-demo: exec failed\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, failed, sizeof failed - 1);
    ::_exit(127);
  }
  ::close(fd);
}

service_process::~service_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void service_process::signal(int signal) {
  if (running())
    ::kill(pid_, signal);
}

bool service_process::running() {
  if (exit_code_)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_)
    return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

std::optional<int> service_process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return exit_code_;
}

const std::string& service_process::label() const noexcept {
  return label_;
}

const std::filesystem::path& service_process::log_path() const noexcept {
  return log_path_;
}

std::string service_process::log() const {
  std::ifstream in{log_path_};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string service_process::log_tail(std::size_t lines) const {
  std::ifstream in{log_path_};
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(std::move(line));
    if (tail.size() > lines)
      tail.pop_front();
  }
  std::string text;
  for (auto& l : tail)
    text += "    " + l + "\n";
  return text;
}

std::optional<int> service_process::exit_code() const noexcept {
  return exit_code_;
}

} // namespace shop_demo
