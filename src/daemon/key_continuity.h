// Keeping the chain of trust when a keystore loses a zone's keys: a token
// that was re-initialised, swapped, or a key directory restored from the
// wrong backup lists no keys, and creating fresh ones would publish a KSK
// that no DS at the parent matches (a bogus zone for every validator).
#pragma once
#include <string>
#include <vector>

#include "keystore/keystore.h"
#include "xfr/signed_zone.h"

namespace wiresign::daemon {

// Throws keystore::KeystoreError, naming the missing key tags and the way
// out, when `served` publishes KSKs (SEP DNSKEYs) and `available` (the
// keystore's keys for the zone) holds none of them. Also when it holds no
// key at all for a zone that is signed.
void check_served_keys_available(const xfr::SignedZone& served, const std::vector<keystore::KeyInfo>& available,
                                 const std::string& keystore_name);

}  // namespace wiresign::daemon
