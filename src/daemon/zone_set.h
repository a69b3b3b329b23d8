// The configured zones in a running daemon, and reloading them live: a
// reload re-reads the configuration file and starts, stops or restarts only
// the zones that were added, removed or changed; the others keep being
// served and followed without a pause. Every configuration version read is
// kept for the process's lifetime, so references into it stay valid.
// Every zone's refresh checks and re-signs go through one ZoneScheduler.
#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "conf/config.h"
#include "daemon/file_watcher.h"
#include "daemon/state_dir.h"
#include "daemon/zone_follower.h"
#include "daemon/zone_loader.h"
#include "daemon/zone_scheduler.h"
#include "xfr/message.h"
#include "xfr/transfer_counters.h"

namespace wiresign::daemon {

class ZoneSet {
 public:
  ZoneSet(std::unique_ptr<conf::Config> config, ZoneLoader& loader, const StateDir* state,
          xfr::TransferCounters* counters, xfr::LogSink log);
  ~ZoneSet();
  ZoneSet(const ZoneSet&) = delete;
  ZoneSet& operator=(const ZoneSet&) = delete;

  // Signs the file zones, starts following the others and schedules every
  // zone's re-signs.
  void start();

  // SIGHUP / `wiresign reload`: re-reads the config file and applies zone
  // changes, then re-reads every file zone and checks every primary. Returns
  // what changed; throws conf::ConfigError (and changes nothing) when the
  // new file is bad.
  std::string reload();

  // The configuration in effect.
  const conf::Config& config() const;

  // Decides on a NOTIFY (RFC 1996 §3.10): the RCODE to answer with.
  uint8_t on_notify(const xfr::Message& notify, std::span<const uint8_t> wire, const std::string& source);

  // A followed zone's refresh state; nullopt for file zones and unknown zones.
  std::optional<RefreshStatus> refresh_status(const std::string& zone) const;
  // Asks a followed zone for a full transfer; false when it is not followed.
  bool retransfer(const std::string& zone);
  // Passes the loader's re-sign times on to the scheduler, and queues the
  // zones whose held input the operator released (a file in the state dir).
  // Runs about once a second on a thread of its own, so that neither a
  // reload nor a large zone file being signed delays a due re-sign.
  void poll();
  ZoneScheduler::Counts scheduler_counts() const { return scheduler_->counts(); }

 private:
  void start_zone(const conf::ZoneConfig& zone);
  // Queues the zone's work: its re-sign when one is due, and for a followed
  // zone a refresh check now.
  void schedule_zone(const conf::ZoneConfig& zone);
  void run_job(const std::string& zone, ZoneJob job);
  // The zone in the configuration in effect, or null.
  const conf::ZoneConfig* find_zone(const std::string& zone) const;

  std::vector<std::unique_ptr<conf::Config>> versions_;  // every one read; the last is in effect
  ZoneLoader& loader_;
  const StateDir* state_;
  xfr::TransferCounters* counters_;
  xfr::LogSink log_;
  mutable std::mutex mutex_;
  std::map<std::string, const conf::ZoneConfig*> zones_;  // the configuration in effect, by name
  // Shared: a job in progress keeps its follower alive while a reload drops it.
  std::map<std::string, std::shared_ptr<ZoneFollower>> followers_;
  std::unique_ptr<FileWatcher> watcher_;
  std::unique_ptr<ZoneScheduler> scheduler_;
  std::condition_variable stop_polling_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace wiresign::daemon
