// Following a hidden primary for one zone (RFC 1996, RFC 1034 §4.3.5):
// check the primary's SOA at the refresh interval or when NOTIFY says so,
// transfer when its serial is newer (RFC 1982), and on failure retry with
// back-off, forever. The last good signed version is never expired: being
// past the SOA expire time is logged loudly, and service goes on.
// A follower has no thread of its own: the ZoneScheduler runs its checks.
#pragma once
#include <chrono>
#include <ctime>
#include <mutex>
#include <optional>
#include <span>
#include <string>
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
  // Cheap: nothing is read or asked until the first refresh().
  // `counters` (may be null) counts the transfers in.
  ZoneFollower(const conf::ZoneConfig& zone, const conf::Config& config, ZoneLoader& loader, xfr::LogSink log,
               const StateDir* state = nullptr, xfr::TransferCounters* counters = nullptr);
  ZoneFollower(const ZoneFollower&) = delete;
  ZoneFollower& operator=(const ZoneFollower&) = delete;

  // One refresh check (a scheduler job; never two at once for one follower);
  // returns the seconds to wait before the next one. The first one, with a
  // state dir, signs and serves the last good unsigned version saved there
  // before the primary is asked.
  uint32_t refresh();
  // The operator asks for a full transfer at the next check, whatever the serials say.
  void retransfer();
  RefreshStatus status() const;
  const conf::ZoneConfig& zone() const { return zone_; }

 private:
  void load_saved_version();
  uint32_t refresh_once();
  // REFRESH, RETRY and EXPIRE from the primary's SOA RDATA.
  void take_timers(std::span<const uint8_t> soa);
  // The primary's new version: by IXFR from ours when we hold one (falling
  // back to AXFR), else by AXFR. `how` says which, for the logs. An IXFR's
  // diffs are kept as they came, to be signed alone.
  struct Fetched {
    std::vector<xfr::Record> records;   // a whole zone, SOA first ...
    std::vector<xfr::IxfrDiff> diffs;   // ... or the changes to ours
  };
  Fetched fetch(const xfr::PrimaryRequest& request, uint32_t serial, std::string& how);
  std::vector<xfr::Record> axfr(const xfr::PrimaryRequest& request);

  conf::ZoneConfig zone_;
  ZoneLoader& loader_;
  const StateDir* state_;
  xfr::TransferCounters* counters_;
  xfr::LogSink log_;
  std::optional<xfr::TsigKey> tsig_;
  std::vector<conf::SocketAddress> primaries_;

  // What we last transferred: its data is the version in service's, less
  // what the signer adds (ZoneLoader::served_input), so no copy is kept here.
  std::optional<uint32_t> unsigned_serial_;
  bool started_ = false;
  std::optional<uint32_t> backwards_serial_logged_;
  uint32_t refresh_s_ = 3600, retry_s_ = 600, expire_s_ = 1209600;  // from the primary's SOA
  unsigned failures_ = 0;
  std::chrono::steady_clock::time_point last_success_;

  std::string outcome_;  // what refresh_once did, for status

  mutable std::mutex mutex_;  // guards the two below: read by the control API
  bool force_transfer_ = false;
  RefreshStatus status_;
};

}  // namespace wiresign::daemon
