// Where the time of one signing went, for the log: "read 1.200 s, sign 3.400 s, ...".
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace wiresign::daemon {

class PhaseClock {
 public:
  // Ends the phase running since the last lap (or the start) and names it.
  void lap(const std::string& phase) {
    auto now = std::chrono::steady_clock::now();
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, " %.3f s", std::chrono::duration<double>(now - last_).count());
    laps_ += (laps_.empty() ? "" : ", ") + phase + seconds;
    last_ = now;
  }
  double total() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  const std::string& laps() const { return laps_; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
  std::string laps_;
};

}  // namespace wiresign::daemon
