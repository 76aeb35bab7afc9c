#include "child_process.hpp"

#include <csignal>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace eddy::test {

child_process::child_process(const std::string& program, const std::vector<std::string>& args) {
  std::string path = (std::filesystem::temp_directory_path() / "eddy-child-XXXXXX").string();
  int fd = mkstemp(path.data());
  if (fd < 0)
    throw std::runtime_error{"mkstemp failed"};
  output_path_ = path;
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error{"fork failed"};
  if (pid_ == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(fd);
}

child_process::~child_process() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::remove(output_path_.c_str());
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

void child_process::signal(int signal) {
  kill(pid_, signal);
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
  std::ifstream in{output_path_};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool run_with_kills(const std::string& program, const std::vector<std::string>& args,
                    int kills, const std::function<bool()>& done, std::chrono::seconds timeout,
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
