// The daemon's log lines: level, prefix, one write each.
#include "daemon/log.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "daemon/time_text.h"

namespace wiresign::daemon {

LogLevel log_level_of(std::string_view line) {
  for (std::string_view word : {"error", "fatal", "failed", "not published", "unusable", "refused"})
    if (line.find(word) != std::string_view::npos) return LogLevel::error;
  if (line.find("warning") != std::string_view::npos) return LogLevel::warning;
  return LogLevel::info;
}

LogLevel log_level_from_name(std::string_view name) {
  if (name == "error") return LogLevel::error;
  if (name == "warning") return LogLevel::warning;
  return LogLevel::info;
}

Log::Log(bool journal) : journal_(journal) {}

void Log::line(const std::string& text) const {
  LogLevel level = log_level_of(text);
  if (static_cast<int>(level) > static_cast<int>(level_.load())) return;
  std::string out = journal_ ? "<" + std::to_string(static_cast<int>(level)) + ">" + text + "\n"
                             : utc_text(std::time(nullptr)) + " " + text + "\n";
  std::cerr << out << std::flush;
}

// JOURNAL_STREAM is "device:inode" of the journal socket stderr was connected
// to; it counts only while stderr is still that socket (not redirected).
bool Log::stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st{};
  if (::fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device && static_cast<unsigned long long>(st.st_ino) == inode;
}

}  // namespace wiresign::daemon
