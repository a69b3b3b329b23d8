// The check a change signed incrementally passes before it is published
// (DESIGN.md promise 3), by a code path other than the signer's: ldns
// verifies the new RRSIGs (RFC 4035 §5.3) and hashes the changed names
// (RFC 5155 §5); the NSEC3 ring is read back from the new version's own
// records around every change (RFC 5155 §7.1).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"
#include "signer/incremental_sign.h"
#include "signer/self_check.h"

namespace wiresign::signer {

// `zone` is the new version. `names` are the changed owners other than
// NSEC3 owners (those gone included), `hashed_owners` the changed NSEC3
// owners (gone ones included), `rrsigs_to_check` the RRSIG records the
// change added (uncompressed wire records). Checks: each listed RRSIG
// verifies over its RRset against the apex DNSKEYs (and the unpublished
// signers); each changed name's RRsets are signed where RFC 4035 §2.2 says
// and only there, and its NSEC3 (at the hash ldns computes) lists exactly its
// types; a name gone leaves no NSEC3 unless names below it remain; each
// changed NSEC3 and the one before it in the ring point at their successor.
SelfCheckReport self_check_change(const dns::Name& origin, const SignedVersionView& zone,
                                  const std::vector<std::string_view>& names,
                                  const std::vector<std::string_view>& hashed_owners,
                                  const std::vector<std::string_view>& rrsigs_to_check, const SelfCheckOptions& options);

}  // namespace wiresign::signer
