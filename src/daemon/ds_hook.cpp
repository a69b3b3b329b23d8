// Running the DS hook with posix_spawn, which is safe beside other threads
// (glibc's child runs no code of ours before exec), and with every wait
// bounded: the hook talks to a registrar and may hang.
#include "daemon/ds_hook.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace wiresign::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxOutput = 4096;
constexpr auto kTermGrace = std::chrono::seconds(2);
// After the shell exits, how long something it left behind may hold our pipe open.
constexpr auto kOutputGrace = std::chrono::milliseconds(200);
constexpr auto kPollSlice = std::chrono::milliseconds(20);

class SpawnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void check(int code, const char* call) {
  if (code != 0) throw SpawnError(std::string(call) + ": " + ::strerror(code));
}

// Our environment with the request's variables set, replacing any we inherited.
std::vector<std::string> hook_environment(const DsHookRequest& request) {
  const std::pair<std::string, std::string> ours[] = {
      {"WIRESIGN_ZONE", request.zone},
      {"WIRESIGN_ACTION", request.action},
      {"WIRESIGN_KEY_TAG", std::to_string(request.key_tag)},
      {"WIRESIGN_ALGORITHM", std::to_string(request.algorithm)},
      {"WIRESIGN_DS", request.ds},
      {"WIRESIGN_DNSKEY", request.dnskey},
  };
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    bool replaced = std::any_of(std::begin(ours), std::end(ours),
                                [&](const auto& variable) { return text.starts_with(variable.first + "="); });
    if (!replaced) environment.emplace_back(text);
  }
  for (const auto& [name, value] : ours) environment.push_back(name + "=" + value);
  return environment;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& text : strings) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn's attributes and file actions, destroyed on every path.
class SpawnSetup {
 public:
  explicit SpawnSetup(int output_fd) {
    check(posix_spawnattr_init(&attributes_), "posix_spawnattr_init");
    int code = posix_spawn_file_actions_init(&actions_);
    if (code != 0) posix_spawnattr_destroy(&attributes_);
    check(code, "posix_spawn_file_actions_init");
    try {
      configure(output_fd);
    } catch (...) {
      destroy();
      throw;
    }
  }
  ~SpawnSetup() { destroy(); }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  const posix_spawnattr_t* attributes() const { return &attributes_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  void configure(int output_fd) {
    // The daemon's signal handling is not the hook's: default dispositions
    // (SIGPIPE too), nothing blocked; a group of its own to kill as a whole.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    check(posix_spawnattr_setsigdefault(&attributes_, &all), "posix_spawnattr_setsigdefault");
    check(posix_spawnattr_setsigmask(&attributes_, &none), "posix_spawnattr_setsigmask");
    check(posix_spawnattr_setpgroup(&attributes_, 0), "posix_spawnattr_setpgroup");
    check(
        posix_spawnattr_setflags(&attributes_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK),
        "posix_spawnattr_setflags");
    check(posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0), "posix_spawn_file_actions_addopen");
    check(posix_spawn_file_actions_adddup2(&actions_, output_fd, 1), "posix_spawn_file_actions_adddup2");
    check(posix_spawn_file_actions_adddup2(&actions_, output_fd, 2), "posix_spawn_file_actions_adddup2");
    // Sockets, state files, keystore sessions: none of the daemon's
    // descriptors reach the hook, whether or not they are close-on-exec.
    check(posix_spawn_file_actions_addclosefrom_np(&actions_, 3), "posix_spawn_file_actions_addclosefrom_np");
  }
  void destroy() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attributes_);
  }

  posix_spawnattr_t attributes_;
  posix_spawn_file_actions_t actions_;
};

// The read end of the hook's stdout and stderr. Keeps the first kMaxOutput
// octets and reads on past them, so that a chatty hook never blocks on a full pipe.
class OutputReader {
 public:
  explicit OutputReader(int fd) : fd_(fd) {}
  ~OutputReader() { ::close(fd_); }
  OutputReader(const OutputReader&) = delete;
  OutputReader& operator=(const OutputReader&) = delete;

  bool at_end() const { return at_end_; }
  const std::string& text() const { return text_; }

  // Waits at most `wait` for output, then reads all there is.
  void read_for(std::chrono::milliseconds wait) {
    if (at_end_) {
      std::this_thread::sleep_for(wait);
      return;
    }
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(wait.count())) <= 0) return;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n > 0) {
        text_.append(buffer, std::min(static_cast<size_t>(n), kMaxOutput - text_.size()));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) at_end_ = true;
      return;
    }
  }

 private:
  int fd_;
  bool at_end_ = false;
  std::string text_;
};

// Starts the hook; returns its pid (also its process group) and the read end of its output.
std::pair<pid_t, int> spawn_hook(const std::string& command, const DsHookRequest& request) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SpawnError(std::string("pipe2: ") + ::strerror(errno));
  pid_t pid = -1;
  int code = 0;
  try {
    SpawnSetup setup(fds[1]);
    std::string shell = "/bin/sh", dash_c = "-c", command_copy = command;
    std::vector<char*> argv{shell.data(), dash_c.data(), command_copy.data(), nullptr};
    std::vector<std::string> environment = hook_environment(request);
    std::vector<char*> envp = c_strings(environment);
    code = posix_spawn(&pid, "/bin/sh", setup.actions(), setup.attributes(), argv.data(), envp.data());
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  if (code != 0) {
    ::close(fds[0]);
    throw SpawnError(std::string("/bin/sh: ") + ::strerror(code));
  }
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return {pid, fds[0]};
}

// Whether the hook's shell has exited, leaving it unreaped: as a zombie it
// still holds its process group ID, so killing the group cannot hit another.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno != EINTR;  // ECHILD: SIGCHLD ignored, the kernel reaped it for us
  return info.si_pid == pid;
}

std::chrono::milliseconds until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(kPollSlice));
}

// Reads output until the shell exits (true) or `deadline` passes (false).
bool wait_for_exit(pid_t pid, OutputReader& output, Clock::time_point deadline) {
  for (;;) {
    if (has_exited(pid)) return true;
    if (Clock::now() >= deadline) return false;
    output.read_for(until(deadline));
  }
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

void describe_exit(int status, DsHookResult& result) {
  if (status >= 0 && WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
    result.ok = result.exit_status == 0;
    if (!result.ok) result.error = "exit status " + std::to_string(result.exit_status);
  } else if (status >= 0 && WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    result.error = "killed by signal " + (name ? std::string(name) : std::to_string(WTERMSIG(status)));
  } else {
    result.error = "exit status unknown (reaped elsewhere)";
  }
}

}  // namespace

DsHookResult run_ds_hook(const std::string& command, const DsHookRequest& request, std::chrono::seconds timeout) {
  DsHookResult result;
  std::pair<pid_t, int> started;
  try {
    started = spawn_hook(command, request);
  } catch (const SpawnError& e) {
    result.error = std::string("cannot start: ") + e.what();
    return result;
  }
  const pid_t pid = started.first;
  OutputReader output(started.second);
  const bool timed_out = !wait_for_exit(pid, output, Clock::now() + timeout);
  if (timed_out) {
    ::kill(-pid, SIGTERM);
    wait_for_exit(pid, output, Clock::now() + kTermGrace);
  } else {
    const auto grace_end = Clock::now() + kOutputGrace;
    while (!output.at_end() && Clock::now() < grace_end) output.read_for(until(grace_end));
  }
  // Whatever is left of the group goes, before the reap frees the group ID.
  ::kill(-pid, SIGKILL);
  const int status = reap(pid);
  output.read_for(std::chrono::milliseconds(0));
  result.output = output.text();
  if (timed_out)
    result.error = "killed after " + std::to_string(timeout.count()) + " s";
  else
    describe_exit(status, result);
  return result;
}

}  // namespace wiresign::daemon
