// The daemon's side of key rollovers (policy/rollover.h decides, this
// carries it out): per zone, the key states kept in the state dir, advanced
// under the policy whenever the zone is signed; the keys each signing uses
// and publishes; new keys generated when the policy needs them; and the
// parent side of a KSK roll: the DS hook told what to submit or withdraw,
// the parent's servers asked until they serve (or no longer serve) the DS,
// and the operator's word (ds-seen, ds-gone, rollover) taken.
//
// Record states move only with a publication: `plan` says what to sign with
// at `now`, and `commit`, after the version is published, makes the moves
// count from the moment it went out. A crash in between leaves the old
// states, which only makes the next waits longer, never shorter.
//
// Not thread-safe per zone: the caller holds the zone's signing lock around
// plan/commit and the parent checks. Different zones may run in parallel.
#pragma once
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "daemon/state_dir.h"
#include "keystore/keystore.h"
#include "policy/rollover.h"
#include "policy/signing_policy.h"
#include "signer/zone_sign.h"
#include "xfr/server.h"

namespace wiresign::daemon {

// What one signing of a zone is to use, and the states to keep once it is out.
struct KeyPlan {
  signer::ZoneKeys keys;
  // DNSKEY RDATAs of signers not in the DNSKEY RRset (algorithm rollover),
  // for the check before publishing.
  std::vector<std::vector<uint8_t>> unpublished_signers;
  policy::RolloverStep step;
  policy::KeyRing before;  // the states the step started from
  policy::SigningPolicy policy;
};

// One key as `zone show` and /metrics present it.
struct KeyReport {
  policy::KeyState state;
  bool awaiting_ds_seen = false, awaiting_ds_gone = false;
  std::time_t waiting_since = 0;  // when the DS was asked for (or away)
  std::string parent_check;       // the last parent check's outcome for this key
};

struct ZoneKeyReport {
  std::vector<KeyReport> keys;
  std::optional<std::time_t> next_event;  // the next key state change due by time alone
  std::optional<std::time_t> next_parent_check;
  bool going_insecure = false;  // insecure: true (keys being withdrawn, or gone)
};

class KeyManager {
 public:
  // `state` may be null (states then live only in memory).
  KeyManager(const StateDir* state, xfr::LogSink log);

  // The keys to sign `zone` with at `now`: the saved states (or, the first
  // time, the keystore's keys of the policy's algorithm taken as in
  // service), advanced under `policy`; keys the policy needs are generated
  // first. Throws keystore::KeystoreError when a key the states name is
  // gone from the keystore, std::runtime_error when the saved states are
  // unreadable.
  KeyPlan plan(const std::string& zone, const policy::SigningPolicy& policy, keystore::Keystore& store,
               std::time_t now);
  // The plan's version is in service since `published_at`: keeps its states
  // (saved to the state dir) and logs what changed. `whole_signing`: the
  // version signed every RRset anew (policy::note_whole_signing).
  void commit(const std::string& zone, const KeyPlan& plan, std::time_t published_at, bool whole_signing = false);

  // Reads the zone's saved states (after a restart, before any signing), so
  // that the next key event is known; false when none are saved.
  bool restore(const std::string& zone, const policy::SigningPolicy& policy, std::time_t now);
  // Whether the plan signs and publishes exactly as the version in service
  // does (its moves are in the states only: no new version is needed).
  bool uses_unchanged(const std::string& zone, const KeyPlan& plan) const;

  // When the states in effect next change by time alone; nullopt: not known
  // yet (never planned) or only an outside fact can move them.
  std::optional<std::time_t> next_event(const std::string& zone) const;

  // The parent side, due at next_parent_check: runs the DS hook for DS newly
  // to submit or withdraw, and asks the parent's servers about the DS still
  // awaited. Returns whether a DS fact was recorded (a signing should follow
  // so that the roll moves on). Slow (network, hook): call without other locks.
  bool check_parent(const conf::ZoneConfig& zone, const policy::SigningPolicy& policy, keystore::Keystore& store,
                    std::time_t now);
  std::optional<std::time_t> next_parent_check(const std::string& zone) const;
  // The check could not run (keystore down): tried again at `until`.
  void postpone_parent_check(const std::string& zone, std::time_t until);

  // Operator actions by key tag (0 with `role`: every key of that role in
  // service). Return what was done, or throw std::invalid_argument saying
  // why not (no such key, nothing awaited).
  // `compromised`: an emergency roll, the key retired as fast as is safe.
  // Zones sharing a chosen key (share-keys) roll it too; they are added to
  // `sharing`, to be re-signed.
  std::string request_rollover(const std::string& zone, std::optional<keystore::KeyRole> role, uint16_t key_tag,
                               bool compromised = false, std::vector<std::string>* sharing = nullptr);
  std::string confirm_ds(const std::string& zone, uint16_t key_tag, bool seen, std::time_t now);
  // A new key of `role` made now and kept as a standby key: published (a
  // KSK's DS asked for) but signing nothing until a rollover of its role
  // promotes it, which then needs no publication wait.
  std::string generate_standby(const std::string& zone, keystore::KeyRole role, const policy::SigningPolicy& policy,
                               keystore::Keystore& store, std::time_t now);

  ZoneKeyReport report(const std::string& zone) const;
  // The keystore's keys of the zone, with the keys it shares with other
  // zones (share-keys), which the keystore files under the zone that made them.
  std::vector<keystore::KeyInfo> keys_available(const std::string& zone, keystore::Keystore& store) const;
  // Drops a zone removed from the configuration (its file stays).
  void forget(const std::string& zone);

 private:
  struct ZoneKeys {
    std::string policy;  // its name: zones of a share-keys policy take each other's keys
    policy::KeyRing ring;
    policy::KeyUse use;  // what the published version uses
    std::optional<std::time_t> next_event;
    std::time_t parent_check_at = 0;  // 0: nothing awaited
    std::map<std::string, std::string> hooks_done;  // key id -> action the hook succeeded for
    std::map<std::string, std::string> parent_seen;  // key id -> last check outcome
  };
  ZoneKeys& load(const std::string& zone, const policy::SigningPolicy& policy, keystore::Keystore& store,
                 std::time_t now);
  void save(const std::string& zone, const policy::KeyRing& ring) const;
  void plan_parent_check(ZoneKeys& keys, std::time_t now) const;
  std::vector<keystore::KeyInfo> held_keys(const std::string& zone, const policy::KeyRing& ring,
                                           keystore::Keystore& store) const;
  // A key another zone of the policy uses that `zone` can take for `request`
  // instead of generating one: of the role and algorithm, to be used, not
  // being replaced there; the newest such.
  struct SharedKey {
    std::string keystore_zone;  // the zone the keystore files it under
    std::string id;
    std::string used_by;  // the zone it was found in
  };
  std::optional<SharedKey> shared_candidate(const std::string& zone, const policy::SigningPolicy& policy,
                                            const policy::KeyRequest& request, const policy::KeyRing& ring,
                                            std::time_t now) const;

  const StateDir* state_;
  xfr::LogSink log_;
  mutable std::mutex mutex_;  // guards zones_ (the map), not one zone's entry
  std::mutex share_mutex_;    // one share-keys zone at a time looks for and makes keys
  std::map<std::string, ZoneKeys> zones_;
};

}  // namespace wiresign::daemon
