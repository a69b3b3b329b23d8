// Following a hidden primary for one zone (RFC 1996, RFC 1034 §4.3.5):
// check the primary's SOA at the refresh interval or when NOTIFY says so,
// transfer when its serial is newer (RFC 1982), and on failure retry with
// back-off, forever. The last good signed version is never expired: being
// past the SOA expire time is logged loudly, and service goes on.
#pragma once
#include <chrono>
#include <ctime>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "conf/config.h"
#include "daemon/state_dir.h"
#include "daemon/zone_loader.h"
#include "xfr/inbound.h"
#include "xfr/transfer_counters.h"
#include "xfr/tsig.h"

namespace wiresign::daemon {

// What the refresh loop last did, for status and metrics.
struct RefreshStatus {
  std::optional<uint32_t> unsigned_serial;
  std::time_t last_check = 0;    // 0: not yet
  std::time_t last_success = 0;  // the last time a primary answered
  std::time_t next_check = 0;
  std::string last_outcome;
  unsigned failures = 0;         // in a row
  uint32_t refresh_s = 0, retry_s = 0, expire_s = 0;
};

class ZoneFollower {
 public:
  // With a state dir, the last good unsigned version saved there is signed and
  // served at once, before the primary is asked.
  // `counters` (may be null) counts the transfers in.
  ZoneFollower(const conf::ZoneConfig& zone, const conf::Config& config, ZoneLoader& loader, xfr::LogSink log,
               const StateDir* state = nullptr, xfr::TransferCounters* counters = nullptr);
  ~ZoneFollower();
  ZoneFollower(const ZoneFollower&) = delete;
  ZoneFollower& operator=(const ZoneFollower&) = delete;

  // A NOTIFY arrived for the zone: check the primary now.
  void notify();
  // The operator asks for a full transfer now, whatever the serials say.
  void retransfer();
  RefreshStatus status() const;
  const conf::ZoneConfig& zone() const { return zone_; }

 private:
  void run();
  // One refresh check; returns the seconds to wait before the next one.
  uint32_t refresh_once();
  // The primary's new version: by IXFR from ours when we hold one (falling
  // back to AXFR), else by AXFR. `how` says which, for the logs.
  std::vector<xfr::Record> fetch(const xfr::PrimaryRequest& request, uint32_t serial, std::string& how);

  conf::ZoneConfig zone_;
  ZoneLoader& loader_;
  const StateDir* state_;
  xfr::TransferCounters* counters_;
  xfr::LogSink log_;
  std::optional<xfr::TsigKey> tsig_;
  std::vector<conf::SocketAddress> primaries_;

  std::optional<uint32_t> unsigned_serial_;   // what we last transferred
  std::vector<xfr::Record> current_;          // and its records, SOA first
  std::optional<uint32_t> backwards_serial_logged_;
  uint32_t refresh_s_ = 3600, retry_s_ = 600, expire_s_ = 1209600;  // from the primary's SOA
  unsigned failures_ = 0;
  std::chrono::steady_clock::time_point last_success_;

  std::string outcome_;  // what refresh_once did, for status

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
  bool force_transfer_ = false;
  RefreshStatus status_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wiresign::daemon
