// Choosing a zone's signing keys from a keystore under a policy, creating a
// KSK and ZSK (or a CSK) on first use.
#pragma once
#include <functional>
#include <string>

#include "keystore/keystore.h"
#include "policy/signing_policy.h"
#include "signer/zone_sign.h"

namespace wiresign::signer {

// Keys of the policy's algorithm held for `origin` (presentation form with
// trailing dot); creates the missing ones and reports each through `log`.
ZoneKeys select_zone_keys(keystore::Keystore& store, const std::string& origin,
                          const policy::SigningPolicy& policy, const std::function<void(const std::string&)>& log);

}  // namespace wiresign::signer
