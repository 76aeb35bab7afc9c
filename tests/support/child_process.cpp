#include "child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace eddy::test {

child_process::child_process(const std::string& program, const std::vector<std::string>& args,
                             child_options options)
  : log_path_(std::move(options.log)) {
  int fd = -1;
  if (log_path_.empty()) {
    std::string path = (std::filesystem::temp_directory_path() / "eddy-child-XXXXXX").string();
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0)
      throw std::runtime_error{"cannot create a log for " + program + ": "
                               + std::strerror(errno)};
    log_path_ = path;
    temporary_log_ = true;
  } else {
    fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error{"cannot open " + log_path_.string() + ": "
                               + std::strerror(errno)};
  }
  // Everything the child needs is prepared before fork(): after it, in a process that has
  // other threads, only async-signal-safe calls are allowed until exec.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (auto& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The child starts with no signal blocked and every disposition at its default, whatever
  // the parent ignores (SIGPIPE, say) or blocks.
  sigset_t unblocked;
  sigemptyset(&unblocked);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    throw std::runtime_error{"cannot start " + program + ": fork: " + std::strerror(errno)};
  }
  if (pid_ == 0) {
    ::sigprocmask(SIG_SETMASK, &unblocked, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
      ::sigaction(sig, &default_action, nullptr);
    if (options.own_process_group)
      ::setpgid(0, 0);
    if (options.terminate_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent)
        ::_exit(1);
    }
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(program.c_str(), argv.data());
    static constexpr char failed[] = "child_process: exec failed\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, failed, sizeof failed - 1);
    ::_exit(127);
  }
  ::close(fd);
}

child_process::~child_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (temporary_log_) {
    std::error_code ignored;
    std::filesystem::remove(log_path_, ignored);
  }
}

void child_process::signal(int signal) {
  if (running())
    ::kill(pid_, signal);
}

bool child_process::running() {
  if (exit_code_)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_)
    return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return exit_code_;
}

long child_process::peak_rss_kib() const {
  std::ifstream status{"/proc/" + std::to_string(pid_) + "/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

std::string child_process::output() const {
  std::ifstream in{log_path_};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string child_process::output_tail(std::size_t lines) const {
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

bool run_with_kills(const std::string& program, const std::vector<std::string>& args, int kills,
                    const std::function<bool()>& done, std::chrono::seconds timeout,
                    const std::function<bool(const std::string&)>& ready) {
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> lifetime_ms{1500, 4000};
  auto wait_ready = [&](const child_process& svc) {
    if (!ready)
      return true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (!ready(svc.output())) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    return true;
  };
  for (int kill = 0; kill < kills; ++kill) {
    child_process svc{program, args};
    if (!wait_ready(svc))
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{lifetime_ms(rng)});
    svc.signal(SIGKILL);
    if (!svc.wait(std::chrono::seconds{10}))
      return false;
  }
  child_process last{program, args};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool finished = false;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    finished = done();
  }
  last.signal(SIGTERM);
  auto code = last.wait(std::chrono::seconds{60});
  return finished && code && *code == 0;
}

} // namespace eddy::test
