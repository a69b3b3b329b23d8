// Rollover decisions for one zone: which keys the policy wants (lifetimes,
// algorithm, scheme, standby keys, compromise), which record states may move
// now (key_rules, key_timing), which keys publish and sign what, and when to
// look again. Pure: the daemon passes `now` and carries the result out.
//
// The daemon's loop, per zone:
//   1. step = advance_rollover(ring, policy, now); persist step.ring
//      (write_key_ring_file) before acting on it;
//   2. for each step.keys_needed: generate the key in the keystore, then
//      ring.keys.push_back(new_key_state(request, info, now)), persist, and
//      advance again (new keys start hidden: nothing is published yet);
//   3. publish what key_use(step.ring, policy) says (DNSKEY RRset, its
//      signers, the zone signers, CDS/CDNSKEY) and re-sign;
//   4. for keys in step.use.awaiting_ds_seen / awaiting_ds_gone: query the
//      parent servers every ds-check-interval (or run the ds-hook / wait for
//      the operator) and call record_ds_seen / record_ds_gone;
//   5. keys in step.removable may be deleted from the keystore, then
//      forget_key; wake up again at step.next_event (or on a DS fact).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "policy/key_state.h"
#include "policy/signing_policy.h"

namespace wiresign::policy {

// What to publish and sign with, from the record states.
struct KeyUse {
  std::vector<std::string> dnskeys;         // the DNSKEY RRset (DNSKEY rumoured or omnipresent)
  std::vector<std::string> dnskey_signers;  // sign the DNSKEY RRset (KRRSIG rumoured/omnipresent)
  std::vector<std::string> zone_signers;    // sign every other RRset (ZRRSIG rumoured/omnipresent)
  // ZSKs being replaced (ZRRSIG unretentive, DNSKEY still published, not
  // compromised): their signatures stay until they come due, then a zone
  // signer of the same algorithm renews them (RFC 7583 §3.2.1, with Dsgn).
  std::vector<std::string> retiring_zone_signers;
  std::vector<std::string> ds;              // the DS set the parent should have (DS rumoured/omnipresent)
  std::vector<std::string> cds;             // CDS/CDNSKEY to publish (= ds when the policy says cds)
  bool cds_delete = false;                  // RFC 8078 §4: CDS 0 0 0 00 / CDNSKEY 0 3 0 AA==
  std::vector<std::string> awaiting_ds_seen;  // DS asked for, not yet seen at the parent
  std::vector<std::string> awaiting_ds_gone;  // DS asked away, not yet seen gone
};
KeyUse key_use(const KeyRing& ring, const SigningPolicy& policy);

// When a key in service needs a successor because its lifetime runs out (its
// successor's lead time before the end); nullopt for an unlimited lifetime,
// a standby key, or one not yet fully introduced (a KSK whose DS the parent
// has not published: its successor would only queue up behind it).
std::optional<UnixTime> successor_due(const KeyState& key, const SigningPolicy& policy);

// One change made (or due), for logs and the timeline.
struct KeyEvent {
  UnixTime when = 0;
  std::string key;    // id
  std::string label;  // "ZSK 12345 (ecdsap256sha256)"
  std::string what;   // "DNSKEY rumoured -> omnipresent", "successor needed: lifetime ends"
};

struct RolloverStep {
  KeyRing ring;                         // the states after every change allowed at `now`
  std::vector<KeyEvent> events;         // what changed
  std::vector<KeyRequest> keys_needed;  // generate these, add them with new_key_state
  std::vector<std::string> removable;   // retired keys with every record hidden
  KeyUse use;                           // key_use(ring, policy)
  std::optional<UnixTime> next_event;   // plan_next_key_event(ring, policy, now)
};

// Applies the policy at `now`: sets goals (successors for keys past their
// lifetime, of another algorithm or scheme, or compromised; standby keys),
// then moves every record whose move is safe, allowed by the rollover method
// and due, until nothing moves (the paper's Algorithm 1). A retiring key's
// record that is still rumoured and may not turn back (it holds a cut-short
// roll together) is finished to omnipresent instead, so that no two keys
// wait on each other forever.
RolloverStep advance_rollover(const KeyRing& ring, const SigningPolicy& policy, UnixTime now);

// A version that signs every RRset anew went out at `when` (a whole-zone
// signing, which keeps no signature of a ZSK retiring gradually): a
// takeover under way is complete, so no zone signature waits the sign
// delay from here on (KeyState::zrrsig_whole_signed).
void note_whole_signing(KeyRing& ring, UnixTime when);

// The earliest time after `now` at which advance_rollover would change
// something without outside help; nullopt when only a DS fact (or nothing)
// can move the ring.
std::optional<UnixTime> plan_next_key_event(const KeyRing& ring, const SigningPolicy& policy, UnixTime now);

}  // namespace wiresign::policy
