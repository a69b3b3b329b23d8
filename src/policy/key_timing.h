// How long each key state change takes to reach every resolver cache (RFC 7583
// §3.2 intervals: Ipub, Iret, the DS registration and retire intervals), and
// how long whole rollovers take, for the state machine and for policy lint.
#pragma once
#include <cstdint>
#include <optional>

#include "policy/key_state.h"
#include "policy/signing_policy.h"

namespace wiresign::policy {

// The time after which `record` of `key` may move from its current state to
// `next`. Moves into an uncertain state (rumoured, unretentive) may happen at
// once; moves out of one wait for caches to catch up. nullopt: waiting for an
// outside fact (the DS seen at, or gone from, the parent).
// `ring` is the zone's keys (`key` among them).
std::optional<UnixTime> transition_time(const KeyState& key, KeyRecord record, RecordState next,
                                        const SigningPolicy& policy, const KeyRing& ring);

// Whether `key`'s zone signatures come or go RRset by RRset as they come
// due (the sign delay Dsgn counts), rather than all in one version: a ZSK
// (or CSK) coming in while another key of its algorithm signs (or signed)
// the zone, and one going while another key of its algorithm signs. A
// zone's first key, an algorithm roll and a compromised key change every
// RRset's signatures at once.
// `introduce`: the signatures come (rumoured -> omnipresent), else they go.
bool gradual_zone_signatures(const KeyState& key, const KeyRing& ring, bool introduce);

// Ipub for a DNSKEY: TTLkey + Dprp + publish safety.
uint32_t dnskey_publish_interval_s(const SigningPolicy& policy);
// Time for the zone's signatures of a new or retired key to be everywhere or
// nowhere: TTLsig + Dprp + retire safety (+ Dsgn, the time the signer takes to
// replace every signature: validity - refresh, when `gradual`).
uint32_t signature_interval_s(const SigningPolicy& policy, bool gradual);
// DS at the parent: TTLds + DprpP + retire safety, counted from when it was seen.
uint32_t ds_interval_s(const SigningPolicy& policy);

// Lead time: a successor is started this long before its predecessor's
// lifetime ends, so that it is in use by then.
uint32_t successor_lead_time_s(const SigningPolicy& policy, keystore::KeyRole role);

// How long a rollover of a key of `role` takes from the successor's creation
// to the predecessor's removal, with the parent taking `parent_delay_s` to act
// on each DS change.
uint64_t rollover_duration_s(const SigningPolicy& policy, keystore::KeyRole role, uint32_t parent_delay_s);

}  // namespace wiresign::policy
