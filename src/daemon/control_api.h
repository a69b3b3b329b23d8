// What the control API answers (routes, JSON, Prometheus metrics), apart
// from how it is carried (control_server.h):
//   GET  /status                      the daemon and a line per zone
//   GET  /zones, /zones/ZONE          a zone's signing and refresh state
//   GET  /zones/ZONE/keys             the published DNSKEYs, with DS for the KSKs
//   POST /zones/ZONE/ACTION           resign, retransfer, notify, hold, release, discard
//   POST /zones/ZONE/rollover?role=R  a planned roll of the zone's key(s) of role R (or ?key=TAG;
//                                     &compromised=1: an emergency roll)
//   POST /zones/ZONE/ds-seen?key=TAG  the operator confirms the DS is at the parent (ds-gone: removed)
//   POST /zones/ZONE/generate?role=R a standby key of role R, published for a quick rollover
//   POST /reload                      as SIGHUP: re-read the config (zones added,
//                                     changed, removed live), file zones, primaries
//   GET  /metrics                     Prometheus text format
#pragma once
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "daemon/control_server.h"
#include "daemon/notify_sender.h"
#include "xfr/transfer_counters.h"
#include "daemon/zone_follower.h"
#include "daemon/zone_set.h"
#include "daemon/zone_loader.h"

namespace wiresign::daemon {

class ControlApi {
 public:
  // `counters` and `notifier` (may be null) feed the transfer and NOTIFY metrics.
  ControlApi(ZoneSet& zones, ZoneLoader& loader, xfr::LogSink log, const xfr::TransferCounters* counters = nullptr,
             const NotifySender* notifier = nullptr);

  ControlResponse handle(const ControlRequest& request);
  std::string metrics(std::time_t now) const;

 private:
  std::string zone_json(const conf::ZoneConfig& zone, std::time_t now) const;

  ZoneSet& zones_;
  ZoneLoader& loader_;
  xfr::LogSink log_;
  const xfr::TransferCounters* counters_;
  const NotifySender* notifier_;
  std::time_t started_;
};

}  // namespace wiresign::daemon
