// A new unsigned input as a change to the version in service, so that only
// what changed is signed again (signer::sign_change): a file or an AXFR is
// compared owner by owner with the unsigned data of the signed version.
#pragma once
#include <cstddef>
#include <optional>

#include "signer/incremental_sign.h"
#include "signer/zone.h"
#include "xfr/signed_zone.h"

namespace wiresign::daemon {

// `input` must be finalized. nullopt when it has no SOA at the apex or more
// than `max_changed_names` names differ (whole-zone signing is then the
// faster way).
std::optional<signer::UnsignedChange> input_change(const signer::Zone& input, const xfr::SignedZone& served,
                                                   size_t max_changed_names);

}  // namespace wiresign::daemon
