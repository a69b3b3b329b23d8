// Times as the daemon writes them in logs, status and the API: RFC 3339 UTC,
// "2026-11-23T12:00:00Z".
#pragma once
#include <ctime>
#include <string>

namespace wiresign::daemon {

inline std::string utc_text(std::time_t t) {
  char text[32];
  std::tm parts{};
  gmtime_r(&t, &parts);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace wiresign::daemon
