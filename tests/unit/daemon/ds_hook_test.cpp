// The DS hook as the operator's script sees it (environment, stdin, no
// inherited descriptors) and as the daemon sees it (exit status, output,
// a hung hook killed in time with its whole process group, nothing left behind).
#include "daemon/ds_hook.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "unit/keystore/keystore_test_support.h"

namespace wiresign::daemon {
namespace {

using namespace std::chrono_literals;
using keystore::testing::read_text;
using keystore::testing::TempDir;
using Clock = std::chrono::steady_clock;

DsHookRequest submit_request() {
  DsHookRequest request;
  request.zone = "example.test.";
  request.action = "submit";
  request.key_tag = 39421;
  request.algorithm = 13;
  request.ds =
      "example.test. IN DS 39421 13 2 C59DBA57C2B2153134B8969278912D02B01B2D2C31E43427A92ADF3BA25C137D\n"
      "example.test. IN DS 39421 13 4 F7549C7302C12792C717C6E79EF2EA56972CD69C210603386E7C4DD404B01315"
      "C0923F095FCE392DCC6674B184E728FE";
  request.dnskey = "example.test. IN DNSKEY 257 3 13 gYNnIxrUu2SJkCfyoszGXav9nrQRE0wIqIalTwunfc5u";
  return request;
}

// Whether a process of group `pgid` still runs, zombies aside: killed
// grandchildren belong to init, which reaps them in its own time.
bool group_runs(pid_t pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
    std::string state;
    pid_t ppid = 0, group = 0;
    fields >> state >> ppid >> group;
    if (group == pgid && state != "Z") return true;
  }
  return false;
}

// group_runs, given the kernel a moment (bounded) to deliver SIGKILL.
bool group_still_runs(pid_t pgid) {
  for (int i = 0; i < 100 && group_runs(pgid); ++i) std::this_thread::sleep_for(10ms);
  return group_runs(pgid);
}

// Whether this test process has a child of any kind, zombies included.
bool have_children() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

// The first line of `path`, waiting (bounded) for the hook to write it.
std::string wait_for_line(const std::string& path) {
  for (int i = 0; i < 100; ++i) {
    std::string text = read_text(path);
    if (text.find('\n') != std::string::npos) return text.substr(0, text.find('\n'));
    std::this_thread::sleep_for(20ms);
  }
  return "";
}

TEST(DsHook, PassesTheRequestInTheEnvironmentAndKeepsOurs) {
  ::setenv("WIRESIGN_TEST_INHERITED", "kept", 1);
  ::setenv("WIRESIGN_ZONE", "stale.example.", 1);  // ours must replace it, not sit beside it
  DsHookResult result = run_ds_hook(
      R"(printf '%s|%s|%s|%s|%s\n' "$WIRESIGN_ZONE" "$WIRESIGN_ACTION" "$WIRESIGN_KEY_TAG" "$WIRESIGN_ALGORITHM" )"
      R"("$WIRESIGN_TEST_INHERITED"; printf '%s\n' "$WIRESIGN_DS"; printf '%s\n' "$WIRESIGN_DNSKEY"; )"
      R"(env | grep -c '^WIRESIGN_ZONE=')",
      submit_request(), 10s);
  ::unsetenv("WIRESIGN_ZONE");
  ::unsetenv("WIRESIGN_TEST_INHERITED");
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.output,
            "example.test.|submit|39421|13|kept\n" + submit_request().ds + "\n" + submit_request().dnskey + "\n1\n");
}

TEST(DsHook, GivesTheHookNoInputAndNoneOfOurDescriptors) {
  int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: as a careless library might
  ASSERT_GE(leaked, 3);
  DsHookResult result = run_ds_hook("readlink /proc/$$/fd/0; test -e /proc/$$/fd/" + std::to_string(leaked) +
                                        " && echo leaked || echo closed; "
                                        "cut -d' ' -f5 /proc/$$/stat; echo $$",
                                    submit_request(), 10s);
  ::close(leaked);
  ASSERT_TRUE(result.ok) << result.error << "\n" << result.output;
  std::istringstream lines(result.output);
  std::string stdin_target, descriptor, pgid, pid;
  std::getline(lines, stdin_target);
  std::getline(lines, descriptor);
  std::getline(lines, pgid);
  std::getline(lines, pid);
  EXPECT_EQ(stdin_target, "/dev/null");
  EXPECT_EQ(descriptor, "closed");
  EXPECT_EQ(pgid, pid) << "the hook leads a process group of its own";
  EXPECT_NE(pgid, std::to_string(::getpgrp()));
}

TEST(DsHook, ReportsANonZeroExitWithTheOutput) {
  DsHookResult result = run_ds_hook("echo registrar says no; echo 'bad DS' >&2; exit 3", submit_request(), 10s);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_EQ(result.error, "exit status 3");
  EXPECT_EQ(result.output, "registrar says no\nbad DS\n");
  EXPECT_FALSE(have_children());
}

TEST(DsHook, ReportsACommandTheShellCannotFind) {
  DsHookResult result = run_ds_hook("/nonexistent/submit-ds", submit_request(), 10s);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.exit_status, 127);
  EXPECT_EQ(result.error, "exit status 127");
  EXPECT_NE(result.output.find("/nonexistent/submit-ds"), std::string::npos) << result.output;
}

TEST(DsHook, ReportsAHookKilledByASignal) {
  DsHookResult result = run_ds_hook("kill -SEGV $$", submit_request(), 10s);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.exit_status, -1);
  EXPECT_EQ(result.error, "killed by signal SEGV");
}

TEST(DsHook, KeepsTheFirst4KiBOfALongOutputWithoutBlockingTheHook) {
  // 1 MiB: far more than a pipe holds, so the hook finishes only if we keep reading.
  DsHookResult result = run_ds_hook("head -c 1048576 /dev/zero | tr '\\0' x; echo done >&2", submit_request(), 10s);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.output, std::string(4096, 'x'));
}

TEST(DsHook, KillsAHungHookAndItsGroupAfterTheTimeout) {
  TempDir dir;
  std::string pid_file = dir.path() + "/pid";
  auto started = Clock::now();
  DsHookResult result =
      run_ds_hook("echo $$ > " + pid_file + "; echo waiting; sleep 100 & sleep 100", submit_request(), 1s);
  auto elapsed = Clock::now() - started;
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.exit_status, -1);
  EXPECT_EQ(result.error, "killed after 1 s");
  EXPECT_EQ(result.output, "waiting\n");
  EXPECT_GE(elapsed, 1s);
  EXPECT_LT(elapsed, 1s + 3s);
  pid_t pgid = std::stoi(wait_for_line(pid_file));
  EXPECT_FALSE(group_still_runs(pgid)) << "both sleeps are gone";
  EXPECT_FALSE(have_children());
}

TEST(DsHook, KillsAHookThatIgnoresSigtermTwoSecondsLater) {
  TempDir dir;
  std::string pid_file = dir.path() + "/pid";
  auto started = Clock::now();
  // An ignored signal stays ignored across exec: the sleeps ignore it too.
  DsHookResult result =
      run_ds_hook("trap '' TERM; echo $$ > " + pid_file + "; while :; do sleep 1; done", submit_request(), 1s);
  auto elapsed = Clock::now() - started;
  EXPECT_EQ(result.error, "killed after 1 s");
  EXPECT_GE(elapsed, 1s + 2s);
  EXPECT_LT(elapsed, 1s + 3s);
  EXPECT_FALSE(group_still_runs(std::stoi(wait_for_line(pid_file))));
  EXPECT_FALSE(have_children());
}

TEST(DsHook, ReturnsWhenTheShellExitsAndEndsWhatItLeftRunning) {
  TempDir dir;
  std::string pid_file = dir.path() + "/pid";
  auto started = Clock::now();
  // The background sleep holds our pipe open: waiting for end of output would take 100 s.
  DsHookResult result = run_ds_hook("echo $$ > " + pid_file + "; sleep 100 & echo submitted", submit_request(), 10s);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.output, "submitted\n");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_FALSE(group_still_runs(std::stoi(wait_for_line(pid_file))));
  EXPECT_FALSE(have_children());
}

TEST(DsHook, CanRunFromSeveralThreadsAtOnce) {
  std::vector<DsHookResult> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] {
      DsHookRequest request = submit_request();
      request.key_tag = static_cast<uint16_t>(i);
      results[i] = run_ds_hook("sleep 0.2; echo $WIRESIGN_KEY_TAG", request, 10s);
    });
  for (auto& thread : threads) thread.join();
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].ok) << results[i].error;
    EXPECT_EQ(results[i].output, std::to_string(i) + "\n");
  }
  EXPECT_FALSE(have_children());
}

}  // namespace
}  // namespace wiresign::daemon
