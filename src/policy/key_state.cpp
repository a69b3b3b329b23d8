// Key states: names of the states and records, and the few changes made from
// outside the rollover logic (a new key, a DS seen or gone, a compromise).
#include "policy/key_state.h"

#include <algorithm>

namespace wiresign::policy {

std::string_view record_state_name(RecordState state) {
  switch (state) {
    case RecordState::hidden: return "hidden";
    case RecordState::rumoured: return "rumoured";
    case RecordState::omnipresent: return "omnipresent";
    case RecordState::unretentive: return "unretentive";
  }
  return "unknown";
}

std::optional<RecordState> record_state_from_name(std::string_view name) {
  for (auto state : {RecordState::hidden, RecordState::rumoured, RecordState::omnipresent,
                     RecordState::unretentive})
    if (record_state_name(state) == name) return state;
  return std::nullopt;
}

std::string_view key_record_name(KeyRecord record) {
  switch (record) {
    case KeyRecord::dnskey: return "dnskey";
    case KeyRecord::krrsig: return "krrsig";
    case KeyRecord::zrrsig: return "zrrsig";
    case KeyRecord::ds: return "ds";
  }
  return "unknown";
}

bool key_has_record(keystore::KeyRole role, KeyRecord record) {
  switch (record) {
    case KeyRecord::dnskey: return true;
    case KeyRecord::krrsig:
    case KeyRecord::ds: return role != keystore::KeyRole::zsk;
    case KeyRecord::zrrsig: return role != keystore::KeyRole::ksk;
  }
  return false;
}

RecordStatus& KeyState::record(KeyRecord which) {
  switch (which) {
    case KeyRecord::dnskey: return dnskey;
    case KeyRecord::krrsig: return krrsig;
    case KeyRecord::zrrsig: return zrrsig;
    case KeyRecord::ds: break;
  }
  return ds;
}

const RecordStatus& KeyState::record(KeyRecord which) const {
  return const_cast<KeyState*>(this)->record(which);
}

std::string KeyState::label() const {
  std::string role_name(keystore::key_role_name(role));
  std::transform(role_name.begin(), role_name.end(), role_name.begin(), [](char c) { return c - 'a' + 'A'; });
  return role_name + " " + std::to_string(key_tag) + " (" + std::string(dns::algorithm_name(algorithm)) + ")";
}

KeyState* KeyRing::find(std::string_view id) {
  for (auto& key : keys)
    if (key.id == id) return &key;
  return nullptr;
}

const KeyState* KeyRing::find(std::string_view id) const { return const_cast<KeyRing*>(this)->find(id); }

KeyState new_key_state(const KeyRequest& request, const keystore::KeyInfo& key, UnixTime now) {
  KeyState state;
  state.id = key.locator;
  state.key_tag = key.key_tag;
  state.algorithm = key.algorithm;
  state.role = request.role;
  state.standby = request.standby;
  state.predecessor = request.predecessor;
  state.created = now;
  for (KeyRecord record : kKeyRecords)
    if (state.has(record)) state.record(record).since = now;
  return state;
}

// Keeps the first sighting since the DS was last asked for (or away): the
// waits count from it, so a check repeated every hour must not restart them.
void keep_first_sighting(std::optional<UnixTime>& fact, UnixTime asked, UnixTime when) {
  if (!fact || *fact < asked) fact = when;
}

bool record_ds_seen(KeyRing& ring, std::string_view id, UnixTime when) {
  KeyState* key = ring.find(id);
  if (!key) return false;
  keep_first_sighting(key->ds_seen, key->ds.since, when);
  return true;
}

bool record_ds_gone(KeyRing& ring, std::string_view id, UnixTime when) {
  KeyState* key = ring.find(id);
  if (!key) return false;
  keep_first_sighting(key->ds_gone, key->ds.since, when);
  return true;
}

KeyState adopted_key_state(const keystore::KeyInfo& key, keystore::KeyRole role, bool ds_at_parent, UnixTime now) {
  KeyState state;
  state.id = key.locator;
  state.key_tag = key.key_tag;
  state.algorithm = key.algorithm;
  state.role = role;
  state.created = now;
  state.in_service = now;
  for (KeyRecord record : kKeyRecords)
    if (state.has(record)) state.record(record) = {RecordState::omnipresent, now, RecordState::rumoured};
  if (state.has(KeyRecord::ds) && !ds_at_parent) state.ds = {RecordState::hidden, now, RecordState::hidden};
  if (ds_at_parent) state.ds_seen = now;
  return state;
}

bool mark_compromised(KeyRing& ring, std::string_view id) {
  KeyState* key = ring.find(id);
  if (!key) return false;
  key->compromised = true;
  return true;
}

bool request_roll(KeyRing& ring, std::string_view id) {
  KeyState* key = ring.find(id);
  if (!key) return false;
  key->roll_requested = true;
  return true;
}

bool forget_key(KeyRing& ring, std::string_view id) {
  auto it = std::find_if(ring.keys.begin(), ring.keys.end(), [&](const KeyState& key) { return key.id == id; });
  if (it == ring.keys.end()) return false;
  ring.keys.erase(it);
  return true;
}

}  // namespace wiresign::policy
