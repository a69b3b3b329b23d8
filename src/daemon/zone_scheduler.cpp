// A bounded pool of workers taking zone jobs in deadline order.
#include "daemon/zone_scheduler.h"

#include <algorithm>

namespace wiresign::daemon {

ZoneScheduler::ZoneScheduler(unsigned workers, Runner runner) : runner_(std::move(runner)) {
  workers = std::max(1u, workers);
  for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this, i, workers] { work(workers > 1 ? i : 1); });
}

ZoneScheduler::~ZoneScheduler() { stop(); }

void ZoneScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_)
    if (worker.joinable()) worker.join();
}

void ZoneScheduler::set_resign(const std::string& zone, std::time_t at) {
  {
    std::lock_guard lock(mutex_);
    Entry& entry = zones_[zone];
    const Clock::time_point due = Clock::from_time_t(at);
    // Told again what is queued or running already: nothing changes.
    if (at != 0 && ((entry.resign && std::get<0>(*entry.resign) == due) || (entry.running && entry.running_resign == due)))
      return;
    if (entry.resign) resigns_.erase(*entry.resign);
    entry.resign.reset();
    if (at == 0) return;
    entry.resign = Key{Clock::from_time_t(at), ++sequence_, zone};
    resigns_.insert(*entry.resign);
  }
  wake_.notify_all();
}

void ZoneScheduler::set_refresh(const std::string& zone, Clock::time_point at) {
  {
    std::lock_guard lock(mutex_);
    Entry& entry = zones_[zone];
    if (entry.refresh) {
      if (std::get<0>(*entry.refresh) <= at) return;  // coalesced: an earlier check is queued
      refreshes_.erase(*entry.refresh);
    }
    entry.refresh = Key{at, ++sequence_, zone};
    refreshes_.insert(*entry.refresh);
  }
  wake_.notify_all();
}

void ZoneScheduler::remove(const std::string& zone) {
  std::unique_lock lock(mutex_);
  auto it = zones_.find(zone);
  if (it == zones_.end()) return;
  idle_.wait(lock, [&] { return !zones_.at(zone).running; });
  it = zones_.find(zone);
  if (it->second.resign) resigns_.erase(*it->second.resign);
  if (it->second.refresh) refreshes_.erase(*it->second.refresh);
  zones_.erase(it);
}

ZoneScheduler::Counts ZoneScheduler::counts() const {
  std::lock_guard lock(mutex_);
  return {zones_.size(), resigns_.size(), refreshes_.size(), running_, jobs_run_};
}

bool ZoneScheduler::pick(unsigned index, std::string& zone, ZoneJob& job, Clock::time_point& wake_at) {
  const Clock::time_point now = Clock::now();
  wake_at = now + std::chrono::seconds(60);
  // Zones with a running job are passed over; there are at most as many as
  // workers, so each look is short.
  auto first_ready = [&](std::set<Key>& queue, std::optional<Key> Entry::*slot) -> bool {
    for (const Key& key : queue) {
      if (std::get<0>(key) > now) {
        wake_at = std::min(wake_at, std::get<0>(key));
        return false;
      }
      Entry& entry = zones_.at(std::get<2>(key));
      if (entry.running) continue;
      zone = std::get<2>(key);
      entry.running_resign = slot == &Entry::resign ? std::get<0>(key) : Clock::time_point{};
      (entry.*slot).reset();
      queue.erase(key);
      entry.running = true;
      return true;
    }
    return false;
  };
  if (first_ready(resigns_, &Entry::resign)) {
    job = ZoneJob::resign;
    return true;
  }
  if (index == 0) return false;  // the re-sign lane
  if (first_ready(refreshes_, &Entry::refresh)) {
    job = ZoneJob::refresh;
    return true;
  }
  return false;
}

void ZoneScheduler::work(unsigned index) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::string zone;
    ZoneJob job{};
    Clock::time_point wake_at;
    if (!pick(index, zone, job, wake_at)) {
      wake_.wait_until(lock, wake_at);
      continue;
    }
    ++running_;
    lock.unlock();
    runner_(zone, job);
    lock.lock();
    --running_;
    ++jobs_run_;
    zones_.at(zone).running = false;
    zones_.at(zone).running_resign = {};
    idle_.notify_all();
    // The zone may have other work queued meanwhile, which another worker
    // passed over while this job ran.
    wake_.notify_all();
  }
}

}  // namespace wiresign::daemon
