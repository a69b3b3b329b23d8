// RFC 7583 §3.2 timing intervals as the key state machine uses them.
#include "policy/key_timing.h"

#include <algorithm>
#include <cstdint>

namespace wiresign::policy {

uint32_t dnskey_publish_interval_s(const SigningPolicy& policy) {
  return policy.dnskey_ttl_s + policy.propagation_delay_s + policy.publish_safety_s;
}

uint32_t signature_interval_s(const SigningPolicy& policy, bool gradual) {
  uint32_t sign_delay = policy.validity_s > policy.refresh_s ? policy.validity_s - policy.refresh_s : 0;
  return policy.zone_max_ttl_s + policy.propagation_delay_s + policy.retire_safety_s + (gradual ? sign_delay : 0);
}

uint32_t ds_interval_s(const SigningPolicy& policy) {
  return policy.parent_ds_ttl_s + policy.parent_propagation_delay_s + policy.retire_safety_s;
}

bool gradual_zone_signatures(const KeyState& key, const KeyRing& ring, bool introduce) {
  auto signs_zone = [](const KeyState& k) {
    return k.has(KeyRecord::zrrsig) &&
           (k.zrrsig.state == RecordState::rumoured || k.zrrsig.state == RecordState::omnipresent);
  };
  // A compromised key's signatures all go in one version (its successor
  // signs every RRset at once); how they came in does not change.
  if (key.compromised && !introduce) return false;
  auto same_algorithm = [&](const KeyState& other) {
    return other.id != key.id && other.algorithm == key.algorithm && other.has(KeyRecord::zrrsig);
  };
  if (introduce)
    // Coming in: RRsets keep another key's signatures of this algorithm
    // until they come due.
    return std::any_of(ring.keys.begin(), ring.keys.end(), [&](const KeyState& other) {
      return same_algorithm(other) && other.zrrsig.state != RecordState::hidden;
    });
  // Going: another key of this algorithm that signs takes over RRset by RRset.
  return std::any_of(ring.keys.begin(), ring.keys.end(),
                     [&](const KeyState& other) { return same_algorithm(other) && signs_zone(other); });
}

std::optional<UnixTime> transition_time(const KeyState& key, KeyRecord record, RecordState next,
                                        const SigningPolicy& policy, const KeyRing& ring) {
  const RecordStatus& status = key.record(record);
  if (next == RecordState::rumoured || next == RecordState::unretentive) return status.since;
  bool introduce = next == RecordState::omnipresent;
  switch (record) {
    case KeyRecord::dnskey:
    case KeyRecord::krrsig:
      // The DNSKEY RRset is re-signed whenever it changes, so its signatures
      // age with it: TTLkey + Dprp (Ipub, RFC 7583 §3.3.1).
      return status.since + policy.dnskey_ttl_s + policy.propagation_delay_s +
             (introduce ? policy.publish_safety_s : policy.retire_safety_s);
    case KeyRecord::zrrsig:
      // Iret = Dsgn + Dprp + TTLsig (RFC 7583 §3.3.1). A new ZSK takes over
      // RRset by RRset as signatures come due (re-sign slices), so the last
      // signature of the key it replaces is renewed at most validity -
      // refresh (Dsgn) after the switch; otherwise Dsgn = 0, as every RRset
      // gets the new signatures in one version.
      if (!gradual_zone_signatures(key, ring, introduce)) return status.since + signature_interval_s(policy, false);
      return std::min<UnixTime>(status.since + signature_interval_s(policy, true),
                                key.zrrsig_whole_signed
                                    ? *key.zrrsig_whole_signed + signature_interval_s(policy, false)
                                    : INT64_MAX);
    case KeyRecord::ds: {
      // The parent acts when it acts: only a DS seen there (or seen gone)
      // after we asked starts the clock (RFC 7583 §3.3.2, Dreg).
      const std::optional<UnixTime>& fact = introduce ? key.ds_seen : key.ds_gone;
      if (!fact || *fact < status.since) return std::nullopt;
      return *fact + ds_interval_s(policy);
    }
  }
  return std::nullopt;
}

uint32_t successor_lead_time_s(const SigningPolicy& policy, keystore::KeyRole role) {
  // A ZSK signs as soon as its DNSKEY is everywhere; a KSK (or CSK) is in use
  // once it signs the DNSKEY RRset, which it does from publication on.
  (void)role;
  return dnskey_publish_interval_s(policy);
}

uint64_t rollover_duration_s(const SigningPolicy& policy, keystore::KeyRole role, uint32_t parent_delay_s) {
  uint64_t publish = dnskey_publish_interval_s(policy);
  uint64_t signatures = signature_interval_s(policy, true);
  uint64_t ds_change = uint64_t(parent_delay_s) + ds_interval_s(policy);
  uint64_t dnskey_removal = uint64_t(policy.dnskey_ttl_s) + policy.propagation_delay_s + policy.retire_safety_s;
  switch (role) {
    case keystore::KeyRole::zsk:
      // Pre-publication: publish, swap signatures, withdraw the DNSKEY.
      return publish + signatures + dnskey_removal;
    case keystore::KeyRole::ksk:
      // Double-KSK: publish, new DS in, old DS out, withdraw the DNSKEY.
      return publish + 2 * ds_change + dnskey_removal;
    case keystore::KeyRole::csk:
      // Both: the DS wait and the signature swap overlap; the longer counts.
      return publish + std::max(signatures, 2 * ds_change) + dnskey_removal;
  }
  return 0;
}

}  // namespace wiresign::policy
