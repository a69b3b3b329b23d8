// wiresignd's log: one line per event on stderr, zone first, with a time
// stamp, or under systemd (JOURNAL_STREAM set) with a syslog priority prefix
// ("<4>") that journald turns into the entry's priority and no time stamp
// (journald keeps its own). Lines below the configured level are left out.
#pragma once
#include <atomic>
#include <string>
#include <string_view>

namespace wiresign::daemon {

enum class LogLevel { error = 3, warning = 4, info = 6 };  // syslog priorities

// What a line is, from how wiresignd words it: errors say "error", "fatal",
// "failed", "not published", "unusable" or "refused"; warnings "warning";
// everything else is information.
LogLevel log_level_of(std::string_view line);
// "error", "warning", "info"; anything else reads as info.
LogLevel log_level_from_name(std::string_view name);

class Log {
 public:
  // `journal`: write journald priority prefixes instead of time stamps.
  explicit Log(bool journal);
  void set_level(LogLevel level) { level_.store(level); }
  // Thread-safe: one write per line, so that lines never mix.
  void line(const std::string& text) const;
  // Whether stderr is a journald stream (systemd sets JOURNAL_STREAM).
  static bool stderr_is_journal();

 private:
  bool journal_;
  std::atomic<LogLevel> level_{LogLevel::info};
};

}  // namespace wiresign::daemon
