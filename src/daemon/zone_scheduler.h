// The daemon's one work queue for every zone: refresh checks and transfers
// from the primaries, and re-signs before signatures run out (DESIGN.md
// promises 1 and 2), run by a bounded pool of workers instead of a thread
// per zone. Work is ordered by deadline, and each zone has at most one
// entry per kind of work, so the queue is bounded by the number of zones.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace wiresign::daemon {

enum class ZoneJob { resign, refresh };

// How the scheduler chooses (pure logic, apart from the threads that run it):
//  - a due re-sign goes before any other work, earliest deadline first (the
//    deadline is the earliest RRSIG expiration minus the policy's refresh,
//    so this is earliest expiration first within a policy);
//  - then refresh checks (NOTIFY, retransfer, SOA refresh and retry timers)
//    in the order they became due: NOTIFYs in arrival order;
//  - one job per zone at a time; a NOTIFY for a zone already queued or
//    running is coalesced into one more check after the running one;
//  - with two workers or more, worker 0 runs only re-signs, so a due re-sign
//    waits at most for the re-signs ahead of it, never behind transfers.
class ZoneScheduler {
 public:
  using Clock = std::chrono::system_clock;
  // Runs one job of a zone on a worker thread; must not throw.
  using Runner = std::function<void(const std::string& zone, ZoneJob job)>;

  ZoneScheduler(unsigned workers, Runner runner);
  ~ZoneScheduler();  // stops the workers once their running jobs end
  // The same, while the scheduler is still there for the jobs that end
  // (they may queue their zone's next check, which then never runs).
  void stop();
  ZoneScheduler(const ZoneScheduler&) = delete;
  ZoneScheduler& operator=(const ZoneScheduler&) = delete;

  // The zone's signatures are due for refresh at `at` (0: nothing due).
  void set_resign(const std::string& zone, std::time_t at);
  // The zone's next refresh check: at `at`, or now (a NOTIFY, in arrival
  // order). An earlier time already queued stays.
  void set_refresh(const std::string& zone, Clock::time_point at);
  void refresh_now(const std::string& zone) { set_refresh(zone, Clock::now()); }
  // Drops the zone's queued work and waits until its running job (if any)
  // ends; it gets no more work until something is set for it again.
  void remove(const std::string& zone);

  struct Counts {
    size_t zones = 0, resigns_queued = 0, refreshes_queued = 0, running = 0;
    uint64_t jobs_run = 0;
  };
  Counts counts() const;

 private:
  using Key = std::tuple<Clock::time_point, uint64_t, std::string>;  // due, arrival order, zone
  struct Entry {
    std::optional<Key> resign, refresh;
    bool running = false;
    Clock::time_point running_resign;  // the due time of the re-sign running, if one is
  };
  void work(unsigned index);
  // The next job a worker may run now, or the time to look again.
  bool pick(unsigned index, std::string& zone, ZoneJob& job, Clock::time_point& wake_at);

  Runner runner_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::map<std::string, Entry> zones_;
  std::set<Key> resigns_, refreshes_;
  uint64_t sequence_ = 0;
  uint64_t jobs_run_ = 0;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace wiresign::daemon
