// Turning a configured zone into a published signed version: read its
// unsigned source, sign it under its policy with its keystore's keys, and
// hand the result to the outbound zone table.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "conf/config.h"
#include "keystore/keystore.h"
#include "xfr/server.h"

namespace wiresign::daemon {

class ZoneLoader {
 public:
  ZoneLoader(const conf::Config& config, xfr::ZoneTable& zones, xfr::LogSink log);

  // Signs the zone's `file:` source and publishes it. On any error the error
  // is logged with the zone's name and the version already served stays.
  // Returns whether a new version was published.
  bool load_file_zone(const conf::ZoneConfig& zone);

 private:
  keystore::Keystore& keystore_for(const conf::PolicyConfig& policy);

  const conf::Config& config_;
  xfr::ZoneTable& zones_;
  xfr::LogSink log_;
  std::map<std::string, std::unique_ptr<keystore::Keystore>> keystores_;
};

}  // namespace wiresign::daemon
