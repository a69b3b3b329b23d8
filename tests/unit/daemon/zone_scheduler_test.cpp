// The zone scheduler's order and bounds: due re-signs first, NOTIFYs in
// arrival order and coalesced per zone, one job per zone at a time, and a
// removed zone's running job waited for.
#include "daemon/zone_scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wiresign::daemon {
namespace {

using namespace std::chrono_literals;

// Records the jobs run; a job of zone "gate" blocks until open() is called.
class Recorder {
 public:
  void run(const std::string& zone, ZoneJob job) {
    std::unique_lock lock(mutex_);
    if (zone == "gate") {
      gate_entered_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
      return;
    }
    order_.push_back((job == ZoneJob::resign ? "resign " : "refresh ") + zone);
    changed_.notify_all();
  }
  void wait_gate_entered() {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&] { return gate_entered_; }));
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  std::vector<std::string> wait_for_jobs(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [&] { return order_.size() >= count; });
    return order_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool gate_entered_ = false, open_ = false;
  std::vector<std::string> order_;
};

TEST(ZoneScheduler, DueReSignRunsBeforeRefreshesQueuedEarlier) {
  Recorder recorder;
  ZoneScheduler scheduler(1, [&](const std::string& zone, ZoneJob job) { recorder.run(zone, job); });
  scheduler.refresh_now("gate");
  recorder.wait_gate_entered();
  scheduler.refresh_now("a.test");
  scheduler.refresh_now("b.test");
  scheduler.set_resign("c.test", std::time(nullptr) - 10);
  recorder.open();
  EXPECT_EQ(recorder.wait_for_jobs(3),
            (std::vector<std::string>{"resign c.test", "refresh a.test", "refresh b.test"}));
}

TEST(ZoneScheduler, ReSignsRunEarliestDeadlineFirst) {
  Recorder recorder;
  ZoneScheduler scheduler(1, [&](const std::string& zone, ZoneJob job) { recorder.run(zone, job); });
  scheduler.refresh_now("gate");
  recorder.wait_gate_entered();
  std::time_t now = std::time(nullptr);
  scheduler.set_resign("late.test", now - 1);
  scheduler.set_resign("early.test", now - 100);
  scheduler.set_resign("future.test", now + 3600);
  recorder.open();
  recorder.wait_for_jobs(2);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.wait_for_jobs(2), (std::vector<std::string>{"resign early.test", "resign late.test"}));
  EXPECT_EQ(scheduler.counts().resigns_queued, 1u);  // the future one waits for its time
}

TEST(ZoneScheduler, ManyNotifiesForOneZoneAreOneCheck) {
  Recorder recorder;
  ZoneScheduler scheduler(1, [&](const std::string& zone, ZoneJob job) { recorder.run(zone, job); });
  scheduler.refresh_now("gate");
  recorder.wait_gate_entered();
  for (int i = 0; i < 1000; ++i) {
    scheduler.refresh_now("a.test");
    scheduler.refresh_now("b.test");
  }
  EXPECT_EQ(scheduler.counts().refreshes_queued, 2u);  // bounded by the zones, not the NOTIFYs
  recorder.open();
  EXPECT_EQ(recorder.wait_for_jobs(2), (std::vector<std::string>{"refresh a.test", "refresh b.test"}));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.wait_for_jobs(2).size(), 2u);
}

TEST(ZoneScheduler, NeverRunsTwoJobsOfOneZoneAtOnce) {
  std::atomic<int> running = 0, most = 0, runs = 0;
  ZoneScheduler scheduler(4, [&](const std::string&, ZoneJob) {
    most = std::max(most.load(), ++running);
    std::this_thread::sleep_for(5ms);
    --running;
    ++runs;
  });
  for (int i = 0; i < 50; ++i) {
    scheduler.refresh_now("a.test");
    scheduler.set_resign("a.test", std::time(nullptr) - i);
    std::this_thread::sleep_for(1ms);
  }
  for (int i = 0; i < 200 && scheduler.counts().refreshes_queued + scheduler.counts().resigns_queued; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(most.load(), 1);
  EXPECT_GE(runs.load(), 2);
}

TEST(ZoneScheduler, RemoveWaitsForTheRunningJobAndDropsQueuedWork) {
  Recorder recorder;
  ZoneScheduler scheduler(2, [&](const std::string& zone, ZoneJob job) { recorder.run(zone, job); });
  scheduler.refresh_now("gate");
  recorder.wait_gate_entered();
  scheduler.set_resign("gate", std::time(nullptr) + 3600);
  std::atomic<bool> removed = false;
  std::thread remover([&] {
    scheduler.remove("gate");
    removed = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(removed.load());
  recorder.open();
  remover.join();
  EXPECT_TRUE(removed.load());
  EXPECT_EQ(scheduler.counts().resigns_queued, 0u);
  EXPECT_EQ(scheduler.counts().zones, 0u);
}

}  // namespace
}  // namespace wiresign::daemon
