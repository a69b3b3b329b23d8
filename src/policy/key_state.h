// The lifecycle state of a zone's keys, after RFC 7583 and "Flexible and
// Robust Key Rollover" (Van Rijswijk-Deij, Mekking et al.), as BIND's kasp and
// Knot implement it: per key, each record that depends on it (DNSKEY, the
// RRSIGs over the DNSKEY RRset and over the zone, the DS at the parent) goes
// hidden -> rumoured -> omnipresent -> unretentive -> hidden, towards a goal.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/algorithm.h"
#include "keystore/keystore.h"

namespace wiresign::policy {

// Seconds since 1970-01-01 UTC; 64 bits, so that timelines run past 2106.
using UnixTime = int64_t;

// What every resolver cache may hold of one record (RFC 7583 §2, the paper's
// four states): hidden (in no cache), rumoured (published; some caches may
// still lack it), omnipresent (published and in every cache that has the
// RRset), unretentive (withdrawn; some caches may still hold it).
enum class RecordState : uint8_t { hidden, rumoured, omnipresent, unretentive };
std::string_view record_state_name(RecordState state);
std::optional<RecordState> record_state_from_name(std::string_view name);

// The records that depend on a key. krrsig: its RRSIG over the DNSKEY RRset;
// zrrsig: its RRSIGs over the rest of the zone; ds: its DS at the parent.
enum class KeyRecord : uint8_t { dnskey, krrsig, zrrsig, ds };
inline constexpr KeyRecord kKeyRecords[] = {KeyRecord::dnskey, KeyRecord::krrsig, KeyRecord::zrrsig,
                                            KeyRecord::ds};
std::string_view key_record_name(KeyRecord record);

// KSKs have no ZRRSIG and ZSKs neither KRRSIG nor DS; a CSK has all four.
bool key_has_record(keystore::KeyRole role, KeyRecord record);

struct RecordStatus {
  RecordState state = RecordState::hidden;
  UnixTime since = 0;                       // last change of state
  RecordState from = RecordState::hidden;  // the state before it
};

struct KeyState {
  // The keystore's locator ("pkcs11:...", a file path): unique, unlike key tags.
  std::string id;
  uint16_t key_tag = 0;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  keystore::KeyRole role = keystore::KeyRole::zsk;
  // omnipresent: the key is to be used; hidden: it is to be retired.
  RecordState goal = RecordState::omnipresent;
  // A standby key is published (DNSKEY, and for a KSK the DS) but signs
  // nothing, so that an emergency rollover skips the publication wait.
  bool standby = false;
  bool compromised = false;  // retire as fast as the rules allow
  bool roll_requested = false;  // the operator asked for a successor now (a planned roll)
  std::string predecessor;   // id of the key this one replaces ("" if none)
  // A key shared with other zones (share-keys) is filed in the keystore
  // under the zone that generated it: that zone's name; "": this zone.
  std::string keystore_zone;
  UnixTime created = 0;
  UnixTime in_service = 0;  // when it first signed what it is for (lifetimes count from here); 0: not yet
  RecordStatus dnskey, krrsig, zrrsig, ds;
  // ZRRSIG coming or going RRset by RRset: when a whole-zone signing put
  // the zone signers' signatures on every RRset at once since it entered
  // its state (note_whole_signing), which ends the sign delay early. Kept
  // in memory only: without it a restart waits the whole sign delay, never less.
  std::optional<UnixTime> zrrsig_whole_signed;
  // Facts from outside (the parent's name servers, or the operator): when the
  // DS was last seen at the parent, and when it was last seen gone.
  std::optional<UnixTime> ds_seen;
  std::optional<UnixTime> ds_gone;

  RecordStatus& record(KeyRecord which);
  const RecordStatus& record(KeyRecord which) const;
  bool has(KeyRecord which) const { return key_has_record(role, which); }
  // "KSK 12345 (ecdsap256sha256)" for logs and the timeline.
  std::string label() const;
};

// All keys of one zone, with the zone-wide flags.
struct KeyRing {
  std::vector<KeyState> keys;
  // RFC 8078 §4: withdraw the DS (CDS/CDNSKEY delete form), then the keys.
  bool going_insecure = false;

  KeyState* find(std::string_view id);
  const KeyState* find(std::string_view id) const;
};

// A key the policy needs that the keystore does not have yet.
struct KeyRequest {
  keystore::KeyRole role = keystore::KeyRole::zsk;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  unsigned rsa_bits = 2048;
  bool standby = false;
  std::string predecessor;  // the key it replaces, "" for none
};

// The state of a key just generated for `request`: all records hidden, goal
// omnipresent. Add it to the ring; the next advance_rollover introduces it.
KeyState new_key_state(const KeyRequest& request, const keystore::KeyInfo& key, UnixTime now);

// A key that was in use before its state was kept (a zone signed before
// the key lifecycle, or migrated from another signer): DNSKEY and signatures
// taken as omnipresent, the DS too when the operator says it is at the parent
// (otherwise it is asked for as in initial signing).
KeyState adopted_key_state(const keystore::KeyInfo& key, keystore::KeyRole role, bool ds_at_parent, UnixTime now);

// Facts from the parent side, fed in by the daemon (DS query of the parent's
// servers) or the operator ("wiresign key ds-seen"). Only the first sighting
// after the DS was asked for (or away) counts; repeating it changes nothing.
// False if `id` is unknown.
bool record_ds_seen(KeyRing& ring, std::string_view id, UnixTime when);
bool record_ds_gone(KeyRing& ring, std::string_view id, UnixTime when);
// An emergency: the key is replaced at once and retired as fast as is safe.
bool mark_compromised(KeyRing& ring, std::string_view id);
// A planned roll on request: the key gets a successor now, as if its
// lifetime had ended, and retires by the usual timings.
bool request_roll(KeyRing& ring, std::string_view id);
// Drops a key whose records are all hidden (see RolloverStep::removable).
bool forget_key(KeyRing& ring, std::string_view id);

}  // namespace wiresign::policy
