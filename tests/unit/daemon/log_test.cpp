// The daemon's log levels: how lines are classed, what each level lets
// through, and the journald form (priority prefix, no time stamp).
#include "daemon/log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace wiresign::daemon {
namespace {

TEST(Log, ClassesLinesByHowTheDaemonWordsThem) {
  EXPECT_EQ(log_level_of("example.test.: signed serial 5 from zone (3 RRsets)"), LogLevel::info);
  EXPECT_EQ(log_level_of("example.test.: AXFR to 127.0.0.1: serial 5, full zone"), LogLevel::info);
  EXPECT_EQ(log_level_of("example.test.: warning: publishing new signatures under the unchanged serial"),
            LogLevel::warning);
  EXPECT_EQ(log_level_of("example.test.: not published: keystore down; the version already served stays"),
            LogLevel::error);
  EXPECT_EQ(log_level_of("example.test.: ds-hook submit for ksk 1 (ecdsap256sha256) failed: exit status 3"),
            LogLevel::error);
  EXPECT_EQ(log_level_of("fatal: cannot bind"), LogLevel::error);
  EXPECT_EQ(log_level_from_name("warning"), LogLevel::warning);
  EXPECT_EQ(log_level_from_name("error"), LogLevel::error);
  EXPECT_EQ(log_level_from_name("info"), LogLevel::info);
}

TEST(Log, LeavesOutLinesBelowTheLevel) {
  Log log(false);
  log.set_level(LogLevel::warning);
  testing::internal::CaptureStderr();
  log.line("example.test.: signed serial 5");
  log.line("example.test.: warning: something odd");
  log.line("example.test.: not published: broken");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find("signed serial 5"), std::string::npos) << out;
  EXPECT_NE(out.find("warning: something odd"), std::string::npos) << out;
  EXPECT_NE(out.find("not published: broken"), std::string::npos) << out;
  // Time stamp first: "2026-11-23T18:54:13Z example.test.: ..."
  EXPECT_EQ(out.substr(4, 1), "-") << out;
  EXPECT_EQ(out.substr(19, 2), "Z ") << out;
}

TEST(Log, UnderJournaldWritesPriorityPrefixesWithoutTimeStamps) {
  testing::internal::CaptureStderr();
  struct stat st{};
  ASSERT_EQ(::fstat(2, &st), 0);
  std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
  bool journal = Log::stderr_is_journal();
  ::setenv("JOURNAL_STREAM", "1:2", 1);
  bool elsewhere = Log::stderr_is_journal();
  ::unsetenv("JOURNAL_STREAM");
  Log log(journal);
  log.line("example.test.: warning: something odd");
  log.line("example.test.: signed serial 5");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(journal);
  EXPECT_FALSE(elsewhere) << "stderr redirected away from the journal: time stamps again";
  EXPECT_EQ(out, "<4>example.test.: warning: something odd\n<6>example.test.: signed serial 5\n");
}

}  // namespace
}  // namespace wiresign::daemon
