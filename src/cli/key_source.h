// Where `wiresign sign` and `wiresign keys` get their policy and keys:
// a key directory (--keys DIR) or a configured policy's keystore
// (--config FILE --policy NAME). Missing keys are created.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/options.h"
#include "keystore/keystore.h"
#include "policy/signing_policy.h"
#include "signer/zone_sign.h"

namespace wiresign::cli {

using Log = std::function<void(const std::string&)>;

struct ZoneKeySource {
  std::unique_ptr<keystore::Keystore> keystore;
  policy::SigningPolicy policy;
  signer::ZoneKeys keys;  // points into `keystore`
};

// The key options shared by the commands that need keys.
inline const std::set<std::string> kKeyValueOptions{"keys", "config", "policy", "algorithm"};

// Reads --keys/--config/--policy/--algorithm/--csk; finds the zone's keys of
// the policy's algorithm, creating a KSK and ZSK (or a CSK) when none exist.
ZoneKeySource open_zone_keys(const Options& options, const std::string& origin, const Log& log);

}  // namespace wiresign::cli
