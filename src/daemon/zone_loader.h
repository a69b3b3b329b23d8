// Turning a configured zone into a published signed version: read its
// unsigned source, sign it under its policy with its keystore's keys, and
// hand the result to the outbound zone table.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "conf/config.h"
#include "daemon/notify_sender.h"
#include "keystore/keystore.h"
#include "signer/zone.h"
#include "xfr/message.h"
#include "xfr/server.h"

namespace wiresign::daemon {

class ZoneLoader {
 public:
  // `notifier` (may be null) is told about every new serial.
  ZoneLoader(const conf::Config& config, xfr::ZoneTable& zones, xfr::LogSink log, NotifySender* notifier = nullptr);

  // Signs the zone's `file:` source and publishes it. On any error the error
  // is logged with the zone's name and the version already served stays.
  // Returns whether a new version was published.
  bool load_file_zone(const conf::ZoneConfig& zone);

  // Signs a zone saved in the state dir; returns its unsigned serial when published.
  std::optional<uint32_t> load_saved_zone(const conf::ZoneConfig& zone, const std::string& path);

  // Signs records transferred from a primary (SOA first) and publishes them;
  // `source` names where they came from in logs. Same error handling.
  bool load_transferred_zone(const conf::ZoneConfig& zone, const std::vector<xfr::Record>& records,
                             const std::string& source);

 private:
  keystore::Keystore& keystore_for(const conf::PolicyConfig& policy);
  bool sign_and_publish(const conf::ZoneConfig& zone, const std::function<signer::Zone()>& read_unsigned,
                        const std::string& source);

  const conf::Config& config_;
  xfr::ZoneTable& zones_;
  xfr::LogSink log_;
  NotifySender* notifier_;
  std::map<std::string, std::unique_ptr<keystore::Keystore>> keystores_;
  // Zones are signed one at a time (each signing uses every core), and the
  // keystore cache is shared by the followers' threads.
  std::mutex mutex_;
};

}  // namespace wiresign::daemon
