// A dry run of a zone's key lifecycle: from the current key states, what
// will happen when over the coming months if the parent acts on DS changes
// after an assumed delay. Feeds `wiresign timeline ZONE`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "policy/key_state.h"
#include "policy/rollover.h"
#include "policy/signing_policy.h"

namespace wiresign::policy {

struct TimelineAssumptions {
  // From asking the parent for a DS change (publishing CDS, running the hook,
  // telling the operator) to seeing it done at the parent; unset: the
  // policy's parent-registration-delay.
  std::optional<uint32_t> parent_delay_s;
};

// Planned events from `now` until `until`, in time order. Keys that do not
// exist yet are named "planned-<role>-<n>" and labelled "ZSK (planned #n, ...)".
std::vector<KeyEvent> key_timeline(const KeyRing& ring, const SigningPolicy& policy, UnixTime now, UnixTime until,
                                   const TimelineAssumptions& assumptions = {});

// One line per event: "2026-11-23T12:00:00Z  ZSK 12345 (ecdsap256sha256)  DNSKEY hidden -> rumoured".
std::string timeline_text(const std::vector<KeyEvent>& events);

// "2027-02-16T08:06:40Z": how the timeline writes a time.
std::string utc_text(UnixTime when);

}  // namespace wiresign::policy
