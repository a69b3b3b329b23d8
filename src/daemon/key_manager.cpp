// Carrying out the rollover logic for the daemon: key states kept per zone,
// keys generated on demand, signing keys chosen from the states, the DS
// exchange with the parent (hook, checks, operator confirmations).
#include "daemon/key_manager.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "daemon/ds_hook.h"
#include "daemon/parent_ds.h"
#include "daemon/time_text.h"
#include "dns/name.h"
#include "keystore/dnskey.h"
#include "policy/key_rules.h"
#include "policy/key_state_file.h"

namespace wiresign::daemon {
namespace {

using policy::KeyRecord;
using policy::RecordState;
using policy::UnixTime;

constexpr std::chrono::seconds kHookTimeout{60};
constexpr std::chrono::milliseconds kParentTimeout{3000};

std::string describe_key(const keystore::KeyInfo& key) {
  return std::string(keystore::key_role_name(key.role)) + " " + std::to_string(key.key_tag) + " (" +
         std::string(dns::algorithm_name(key.algorithm)) + ")";
}

// The keys a first plan starts from: what the zone was signed with before
// its states were kept (every key of the policy's algorithm, as the signer
// chose them), taken as in service. Their DS is not assumed at the parent:
// it is asked for, and the parent check or the operator confirms it.
policy::KeyRing adopt_keys(const std::vector<keystore::KeyInfo>& held, const policy::SigningPolicy& policy,
                           std::time_t now) {
  policy::KeyRing ring;
  for (const auto& key : held) {
    if (key.algorithm != policy.algorithm || (key.flags != 256 && key.flags != 257)) continue;
    keystore::KeyRole role = key.flags == 257 ? (policy.csk ? keystore::KeyRole::csk : keystore::KeyRole::ksk)
                                              : keystore::KeyRole::zsk;
    ring.keys.push_back(policy::adopted_key_state(key, role, false, now));
  }
  return ring;
}

bool same_signing(const policy::KeyUse& a, const policy::KeyUse& b) {
  return a.dnskeys == b.dnskeys && a.dnskey_signers == b.dnskey_signers && a.zone_signers == b.zone_signers &&
         a.cds == b.cds && a.cds_delete == b.cds_delete;
}

void refuse_if_insecure(const std::string& zone, const policy::KeyRing& ring) {
  if (ring.going_insecure)
    throw std::invalid_argument(zone + " is configured insecure: true (its keys are being withdrawn, or are gone); "
                                "set insecure: false and reload to sign it again");
}

bool contains(const std::vector<std::string>& list, const std::string& id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

}  // namespace

KeyManager::KeyManager(const StateDir* state, xfr::LogSink log) : state_(state), log_(std::move(log)) {}

void KeyManager::save(const std::string& zone, const policy::KeyRing& ring) const {
  if (state_) write_file_atomically(state_->key_states_path(zone), policy::key_ring_to_text(ring));
}

bool KeyManager::restore(const std::string& zone, const policy::SigningPolicy& policy, std::time_t now) {
  {
    std::lock_guard lock(mutex_);
    if (zones_.count(zone)) return true;
  }
  if (!state_) return false;
  std::string path = state_->key_states_path(zone);
  std::optional<std::string> text = read_file(path);
  if (!text) return false;
  ZoneKeys keys;
  try {
    keys.ring = policy::key_ring_from_text(*text, path);
  } catch (const policy::KeyStateError& e) {
    // Refusing to sign would let the signatures run out; the keys are taken
    // as in service again instead, and the damaged file is kept for a look.
    std::string aside = path + ".damaged-" + std::to_string(now);
    ::rename(path.c_str(), aside.c_str());
    log_(zone + ": error: the key states cannot be read (" + e.what() + "); moved to " + aside +
         "; the keystore's keys are taken as in service, and any rollover in progress starts its waits again");
    return false;
  }
  keys.policy = policy.name;
  keys.use = policy::key_use(keys.ring, policy);
  keys.next_event = policy::plan_next_key_event(keys.ring, policy, now);
  plan_parent_check(keys, now);
  std::lock_guard lock(mutex_);
  zones_.emplace(zone, std::move(keys));
  return true;
}

std::vector<keystore::KeyInfo> KeyManager::held_keys(const std::string& zone, const policy::KeyRing& ring,
                                                     keystore::Keystore& store) const {
  std::vector<keystore::KeyInfo> held = store.list_keys(zone);
  std::set<std::string> owners;
  for (const auto& key : ring.keys)
    if (!key.keystore_zone.empty() && key.keystore_zone != zone) owners.insert(key.keystore_zone);
  for (const auto& owner : owners)
    for (auto& key : store.list_keys(owner))
      if (ring.find(key.locator)) held.push_back(std::move(key));
  return held;
}

std::vector<keystore::KeyInfo> KeyManager::keys_available(const std::string& zone, keystore::Keystore& store) const {
  policy::KeyRing ring;
  {
    std::lock_guard lock(mutex_);
    if (auto it = zones_.find(zone); it != zones_.end()) ring = it->second.ring;
  }
  return held_keys(zone, ring, store);
}

std::optional<KeyManager::SharedKey> KeyManager::shared_candidate(const std::string& zone,
                                                                   const policy::SigningPolicy& policy,
                                                                   const policy::KeyRequest& request,
                                                                   const policy::KeyRing& ring,
                                                                   std::time_t now) const {
  std::lock_guard lock(mutex_);
  std::optional<SharedKey> best;
  UnixTime best_created = 0;
  for (const auto& [other, keys] : zones_) {
    if (other == zone || keys.policy != policy.name) continue;
    for (const auto& key : keys.ring.keys) {
      if (key.role != request.role || key.algorithm != request.algorithm || key.standby != request.standby ||
          key.goal != RecordState::omnipresent || key.compromised || key.roll_requested || ring.find(key.id))
        continue;
      // Not one that zone is replacing, or is about to.
      bool replaced = std::any_of(keys.ring.keys.begin(), keys.ring.keys.end(),
                                  [&](const policy::KeyState& k) { return k.predecessor == key.id; });
      auto due = policy::successor_due(key, policy);
      if (replaced || (due && now >= *due)) continue;
      if (best && key.created <= best_created) continue;
      best = SharedKey{key.keystore_zone.empty() ? other : key.keystore_zone, key.id, other};
      best_created = key.created;
    }
  }
  return best;
}

KeyPlan KeyManager::plan(const std::string& zone, const policy::SigningPolicy& policy, keystore::Keystore& store,
                         std::time_t now) {
  KeyPlan plan;
  plan.policy = policy;
  std::vector<keystore::KeyInfo> held;
  if (restore(zone, policy, now)) {
    {
      std::lock_guard lock(mutex_);
      plan.before = zones_.at(zone).ring;
    }
    held = held_keys(zone, plan.before, store);
  } else {
    held = store.list_keys(zone);
    plan.before = adopt_keys(held, policy, now);
    if (!plan.before.keys.empty())
      log_(zone + ": keeping track of the states of its " + std::to_string(plan.before.keys.size()) +
           " keys from now on (taken as in service; the KSK's DS is checked at the parent)");
  }
  if (plan.before.going_insecure != policy.insecure) {
    plan.before.going_insecure = policy.insecure;
    log_(zone + (!policy.insecure ? ": signing again (insecure: false): new keys, their DS asked for"
                 : plan.before.keys.empty()
                     ? ": insecure: true and no keys: served unsigned"
                     : ": going insecure (insecure: true): the DS is withdrawn first (CDS/CDNSKEY delete form, "
                       "ds-hook, parent checked), the keys and signatures once it is gone from every cache"));
  }
  // New keys start hidden, so generating them changes nothing published;
  // they are saved at once, so that a generated key is never lost track of.
  // With share-keys, one zone at a time looks for a key of another zone of
  // the policy before making one, so that two zones needing a key at once
  // do not each make their own.
  std::unique_lock<std::mutex> sharing(share_mutex_, std::defer_lock);
  for (int round = 0;; ++round) {
    plan.step = policy::advance_rollover(plan.before, policy, now);
    if (plan.step.keys_needed.empty()) break;
    if (round == 3) throw std::runtime_error("the key states do not settle: keys are still needed after 3 rounds");
    if (policy.share_keys && !sharing.owns_lock()) sharing.lock();
    for (const auto& request : plan.step.keys_needed) {
      std::string why = request.standby ? "standby key"
                        : request.predecessor.empty()
                            ? "first key"
                            : "successor of " + plan.before.find(request.predecessor)->label();
      if (policy.share_keys)
        if (auto shared = shared_candidate(zone, policy, request, plan.before, now)) {
          std::vector<keystore::KeyInfo> owned = store.list_keys(shared->keystore_zone);
          auto found = std::find_if(owned.begin(), owned.end(),
                                    [&](const keystore::KeyInfo& k) { return k.locator == shared->id; });
          if (found != owned.end()) {
            held.push_back(*found);
            policy::KeyState state = policy::new_key_state(request, *found, now);
            if (shared->keystore_zone != zone) state.keystore_zone = shared->keystore_zone;
            plan.before.keys.push_back(std::move(state));
            log_(zone + ": taking " + describe_key(*found) + " from " + shared->used_by + " (share-keys; " + why +
                 ")");
            continue;
          }
        }
      keystore::KeyInfo key = store.generate_key({zone, request.role, request.algorithm, request.rsa_bits});
      held.push_back(key);
      plan.before.keys.push_back(policy::new_key_state(request, key, now));
      log_(zone + ": generated " + describe_key(key) + " in " + store.describe() + " (" + why + ")");
    }
    save(zone, plan.before);
    std::lock_guard lock(mutex_);
    zones_[zone].ring = plan.before;
    zones_[zone].policy = policy.name;
  }

  if (plan.step.ring.going_insecure && policy::zone_is_unsecured(plan.step.ring)) {
    // RFC 6781 §4.3 (going insecure): no DS of the zone is left at the parent
    // or in any cache, so nothing validates it any more; every key goes with
    // the DNSSEC records.
    for (const auto& key : plan.step.ring.keys) {
      plan.step.events.push_back({now, key.id, key.label(), "withdrawn: the zone is served unsigned"});
      plan.step.removable.push_back(key.id);
    }
    plan.step.use = policy::KeyUse{};
    plan.step.next_event.reset();
    plan.keys.serve_unsigned = true;
    return plan;
  }

  auto info_of = [&](const std::string& id) -> const keystore::KeyInfo& {
    for (const auto& key : held)
      if (key.locator == id) return key;
    const policy::KeyState* state = plan.step.ring.find(id);
    throw keystore::KeystoreError("the key states name " + (state ? state->label() : id) + " (" + id +
                                  "), which keystore " + store.describe() +
                                  " no longer holds; make it available again (the version in service stays)");
  };
  const policy::KeyUse& use = plan.step.use;
  plan.keys.keystore = &store;
  for (const auto& id : use.dnskeys) plan.keys.dnskeys.push_back(info_of(id));
  for (const auto& id : use.dnskey_signers) plan.keys.dnskey_signers.push_back(info_of(id));
  for (const auto& id : use.zone_signers) plan.keys.zone_signers.push_back(info_of(id));
  for (const auto& id : use.retiring_zone_signers) plan.keys.retiring_zone_signers.push_back(info_of(id));
  if (policy.cds)
    for (const auto& id : use.cds) plan.keys.cds.push_back(info_of(id));
  plan.keys.cds_delete = use.cds_delete;
  for (const auto* signers : {&use.dnskey_signers, &use.zone_signers})
    for (const auto& id : *signers)
      if (!contains(use.dnskeys, id)) plan.unpublished_signers.push_back(keystore::dnskey_rdata(info_of(id)));
  if (plan.keys.dnskeys.empty()) throw std::runtime_error("the key states publish no DNSKEY");
  return plan;
}

void KeyManager::commit(const std::string& zone, const KeyPlan& plan, std::time_t published_at,
                        bool whole_signing) {
  policy::KeyRing ring = plan.step.ring;
  // A move counts from when the version that carries it went out, not from
  // when its signing began.
  for (auto& key : ring.keys) {
    const policy::KeyState* before = plan.before.find(key.id);
    for (KeyRecord record : policy::kKeyRecords) {
      if (!key.has(record)) continue;
      policy::RecordStatus& status = key.record(record);
      bool moved = !before || before->record(record).state != status.state;
      if (moved && status.since < published_at) status.since = published_at;
    }
  }
  if (whole_signing) policy::note_whole_signing(ring, published_at);
  for (const auto& event : plan.step.events) log_(zone + ": " + event.label + ": " + event.what);
  for (const auto& id : plan.step.removable) {
    const policy::KeyState* key = ring.find(id);
    log_(zone + ": " + (key ? key->label() : id) + " is retired: no record of it is published or cached any more" +
         " (its private key stays in the keystore: " + id + ")");
    policy::forget_key(ring, id);
  }
  try {
    save(zone, ring);
  } catch (const std::exception& e) {
    log_(zone + ": warning: key states not saved (" + e.what() +
         "); after a restart the rollover waits again from the states saved before");
  }
  std::lock_guard lock(mutex_);
  ZoneKeys& keys = zones_[zone];
  // A rollover asked meanwhile for a key this zone shares with another
  // (request_rollover, without this zone's signing lock) is kept.
  for (auto& key : ring.keys)
    if (const policy::KeyState* now_held = keys.ring.find(key.id)) {
      key.compromised = key.compromised || now_held->compromised;
      key.roll_requested = key.roll_requested || now_held->roll_requested;
    }
  bool parent_news = keys.use.awaiting_ds_seen != plan.step.use.awaiting_ds_seen ||
                     keys.use.awaiting_ds_gone != plan.step.use.awaiting_ds_gone;
  keys.ring = std::move(ring);
  keys.policy = plan.policy.name;
  keys.use = plan.step.use;
  keys.next_event = policy::plan_next_key_event(keys.ring, plan.policy, published_at);
  if (parent_news) keys.parent_check_at = 0;  // look (and run the hook) at once
  plan_parent_check(keys, published_at);
}

std::optional<std::time_t> KeyManager::next_event(const std::string& zone) const {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  if (it == zones_.end() || !it->second.next_event) return std::nullopt;
  return static_cast<std::time_t>(*it->second.next_event);
}

bool KeyManager::uses_unchanged(const std::string& zone, const KeyPlan& plan) const {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  return it != zones_.end() && same_signing(it->second.use, plan.step.use);
}

void KeyManager::plan_parent_check(ZoneKeys& keys, std::time_t now) const {
  if (keys.use.awaiting_ds_seen.empty() && keys.use.awaiting_ds_gone.empty()) {
    keys.parent_check_at = 0;
    return;
  }
  if (keys.parent_check_at == 0) keys.parent_check_at = now;
}

std::optional<std::time_t> KeyManager::next_parent_check(const std::string& zone) const {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  if (it == zones_.end() || it->second.parent_check_at == 0) return std::nullopt;
  return it->second.parent_check_at;
}

void KeyManager::postpone_parent_check(const std::string& zone, std::time_t until) {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  if (it != zones_.end() && it->second.parent_check_at) it->second.parent_check_at = until;
}

bool KeyManager::check_parent(const conf::ZoneConfig& zone, const policy::SigningPolicy& policy,
                              keystore::Keystore& store, std::time_t now) {
  policy::KeyUse use;
  std::map<std::string, std::string> hooks_done;
  {
    std::lock_guard lock(mutex_);
    auto it = zones_.find(zone.name);
    if (it == zones_.end()) return false;
    use = it->second.use;
    hooks_done = it->second.hooks_done;
    it->second.parent_check_at = now + policy.ds_check_interval_s;
  }
  if (use.awaiting_ds_seen.empty() && use.awaiting_ds_gone.empty()) return false;
  std::vector<keystore::KeyInfo> held = keys_available(zone.name, store);
  auto info_of = [&](const std::string& id) -> const keystore::KeyInfo* {
    for (const auto& key : held)
      if (key.locator == id) return &key;
    return nullptr;
  };

  // The hook, once per key and direction (again after a failure).
  if (!policy.ds_hook.empty()) {
    for (const auto& [list, action] : {std::pair{&use.awaiting_ds_seen, "submit"}, {&use.awaiting_ds_gone, "withdraw"}}) {
      for (const auto& id : *list) {
        const keystore::KeyInfo* key = info_of(id);
        if (!key || hooks_done[id] == action) continue;
        DsHookRequest request;
        request.zone = zone.name;
        request.action = action;
        request.key_tag = key->key_tag;
        request.algorithm = static_cast<unsigned>(key->algorithm);
        request.ds = keystore::ds_text(*key, dns::DigestType::sha256, policy.parent_ds_ttl_s);
        request.dnskey = keystore::dnskey_text(*key, policy.dnskey_ttl_s);
        DsHookResult result = run_ds_hook(policy.ds_hook, request, kHookTimeout);
        std::string what = zone.name + ": ds-hook " + action + " for " + describe_key(*key);
        if (result.ok) {
          hooks_done[id] = action;
          log_(what + ": done" + (result.output.empty() ? "" : ": " + result.output));
        } else {
          log_(what + " failed: " + result.error + (result.output.empty() ? "" : ": " + result.output) +
               "; tried again in " + std::to_string(policy.ds_check_interval_s) + " s");
        }
      }
    }
  }

  // The parent's servers: every one must serve the DS (or none of them).
  std::vector<ParentDsAnswer> answers;
  std::string unreachable;
  try {
    answers = query_parent_ds(zone.name, find_parent_servers(zone.name, zone.parent_servers), kParentTimeout);
  } catch (const std::exception& e) {
    unreachable = e.what();
  }
  bool recorded = false;
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone.name);
  if (it == zones_.end()) return false;
  ZoneKeys& keys = it->second;
  keys.hooks_done = hooks_done;
  const std::string owner = dns::Name::from_text(zone.name).wire();
  for (const auto& [list, seen] : {std::pair{&use.awaiting_ds_seen, true}, {&use.awaiting_ds_gone, false}}) {
    for (const auto& id : *list) {
      const keystore::KeyInfo* key = info_of(id);
      policy::KeyState* state = keys.ring.find(id);
      if (!key || !state) continue;
      std::string outcome;
      bool fact = false;
      if (!unreachable.empty()) {
        outcome = "parent servers unknown: " + unreachable;
      } else {
        std::vector<uint8_t> dnskey = keystore::dnskey_rdata(*key);
        DsPresence presence = ds_presence(answers, owner, dnskey);
        outcome = describe_ds_presence(answers, owner, dnskey);
        fact = presence == (seen ? DsPresence::everywhere : DsPresence::nowhere);
      }
      std::string& last = keys.parent_seen[id];
      if (fact) {
        (seen ? policy::record_ds_seen : policy::record_ds_gone)(keys.ring, id, now);
        recorded = true;
        log_(zone.name + ": " + state->label() + ": DS " + (seen ? "seen at" : "gone from") + " the parent: " +
             outcome);
      } else if (outcome != last) {
        log_(zone.name + ": " + state->label() + ": waiting for the DS to " + (seen ? "appear" : "go") +
             " at the parent: " + outcome + "; checked every " + std::to_string(policy.ds_check_interval_s) +
             " s (or confirm with: wiresign key " + (seen ? "ds-seen " : "ds-gone ") + zone.name + " " +
             std::to_string(state->key_tag) + ")");
      }
      last = outcome;
    }
  }
  if (recorded) {
    try {
      save(zone.name, keys.ring);
    } catch (const std::exception& e) {
      log_(zone.name + ": warning: key states not saved (" + e.what() + ")");
    }
    keys.next_event = policy::plan_next_key_event(keys.ring, policy, now);
  }
  return recorded;
}

std::string KeyManager::request_rollover(const std::string& zone, std::optional<keystore::KeyRole> role,
                                         uint16_t key_tag, bool compromised, std::vector<std::string>* sharing) {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  if (it == zones_.end()) throw std::invalid_argument(zone + " has no key states yet (it was never signed)");
  refuse_if_insecure(zone, it->second.ring);
  policy::KeyRing ring = it->second.ring;
  std::string done;
  std::vector<std::string> ids;
  for (auto& key : ring.keys) {
    bool chosen = key_tag ? key.key_tag == key_tag : role && key.role == *role;
    if (!chosen || key.goal != RecordState::omnipresent || key.standby) continue;
    (compromised ? policy::mark_compromised : policy::request_roll)(ring, key.id);
    done += (done.empty() ? "" : ", ") + key.label();
    ids.push_back(key.id);
  }
  if (done.empty())
    throw std::invalid_argument(zone + ": no key in service matches " +
                                (key_tag ? "key tag " + std::to_string(key_tag)
                                         : "role " + std::string(keystore::key_role_name(*role))));
  save(zone, ring);
  it->second.ring = std::move(ring);
  std::string what = compromised ? "emergency rollover (compromised) of " : "rollover of ";
  log_(zone + ": " + what + done + " asked by the operator");
  // A shared key (share-keys) is the same key in every zone that holds it:
  // rolled (or, compromised, withdrawn) in all of them.
  std::string also;
  for (auto& [other, keys] : zones_) {
    if (other == zone || keys.ring.going_insecure) continue;
    policy::KeyRing other_ring = keys.ring;
    bool changed = false;
    for (const auto& id : ids)
      if (const policy::KeyState* key = other_ring.find(id);
          key && key->goal == RecordState::omnipresent && !key->standby)
        changed = (compromised ? policy::mark_compromised : policy::request_roll)(other_ring, id) || changed;
    if (!changed) continue;
    save(other, other_ring);
    keys.ring = std::move(other_ring);
    log_(other + ": " + what + done + " asked by the operator for " + zone + ", which shares the key");
    also += (also.empty() ? "" : ", ") + other;
    if (sharing) sharing->push_back(other);
  }
  return what + done + " started" + (also.empty() ? "" : " (also in " + also + ", which share it)");
}

std::string KeyManager::confirm_ds(const std::string& zone, uint16_t key_tag, bool seen, std::time_t now) {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  if (it == zones_.end()) throw std::invalid_argument(zone + " has no key states yet (it was never signed)");
  ZoneKeys& keys = it->second;
  const auto& awaited = seen ? keys.use.awaiting_ds_seen : keys.use.awaiting_ds_gone;
  for (const auto& id : awaited) {
    policy::KeyRing ring = keys.ring;
    policy::KeyState* key = ring.find(id);
    if (!key || key->key_tag != key_tag) continue;
    (seen ? policy::record_ds_seen : policy::record_ds_gone)(ring, id, now);
    save(zone, ring);
    std::string label = key->label();
    keys.ring = std::move(ring);
    log_(zone + ": " + label + ": DS " + (seen ? "seen at" : "gone from") + " the parent, says the operator");
    return "recorded: the DS of " + label + (seen ? " is at the parent" : " is gone from the parent");
  }
  std::string listed;
  for (const auto& id : awaited)
    if (const policy::KeyState* key = keys.ring.find(id)) listed += " " + std::to_string(key->key_tag);
  throw std::invalid_argument(zone + ": key " + std::to_string(key_tag) + " is not waiting for its DS to " +
                              (seen ? "appear" : "go") + " at the parent (" +
                              (listed.empty() ? "no key is" : "waiting:" + listed) + ")");
}

std::string KeyManager::generate_standby(const std::string& zone, keystore::KeyRole role,
                                         const policy::SigningPolicy& policy, keystore::Keystore& store,
                                         std::time_t now) {
  if (policy.csk != (role == keystore::KeyRole::csk))
    throw std::invalid_argument(zone + ": policy \"" + policy.name + "\" uses " +
                                (policy.csk ? "a CSK" : "a KSK and a ZSK") + ", not a " +
                                std::string(keystore::key_role_name(role)));
  {
    std::lock_guard lock(mutex_);
    auto it = zones_.find(zone);
    if (it == zones_.end()) throw std::invalid_argument(zone + " has no key states yet (it was never signed)");
    refuse_if_insecure(zone, it->second.ring);
  }
  keystore::KeyInfo key = store.generate_key({zone, role, policy.algorithm, policy.rsa_bits});
  policy::KeyRequest request{role, policy.algorithm, policy.rsa_bits, true, ""};
  std::lock_guard lock(mutex_);
  ZoneKeys& keys = zones_.at(zone);
  policy::KeyRing ring = keys.ring;
  ring.keys.push_back(policy::new_key_state(request, key, now));
  save(zone, ring);
  keys.ring = std::move(ring);
  log_(zone + ": generated " + describe_key(key) + " in " + store.describe() + " (standby key, asked by the operator)");
  return "generated " + describe_key(key) + " as a standby key: published next, it takes over at the next " +
         std::string(keystore::key_role_name(role)) + " rollover";
}

ZoneKeyReport KeyManager::report(const std::string& zone) const {
  std::lock_guard lock(mutex_);
  ZoneKeyReport out;
  auto it = zones_.find(zone);
  if (it == zones_.end()) return out;
  const ZoneKeys& keys = it->second;
  for (const auto& state : keys.ring.keys) {
    KeyReport key;
    key.state = state;
    key.awaiting_ds_seen = contains(keys.use.awaiting_ds_seen, state.id);
    key.awaiting_ds_gone = contains(keys.use.awaiting_ds_gone, state.id);
    if (key.awaiting_ds_seen || key.awaiting_ds_gone) key.waiting_since = state.ds.since;
    if (auto seen = keys.parent_seen.find(state.id); seen != keys.parent_seen.end()) key.parent_check = seen->second;
    out.keys.push_back(std::move(key));
  }
  out.going_insecure = keys.ring.going_insecure;
  if (keys.next_event) out.next_event = static_cast<std::time_t>(*keys.next_event);
  if (keys.parent_check_at) out.next_parent_check = keys.parent_check_at;
  return out;
}

void KeyManager::forget(const std::string& zone) {
  std::lock_guard lock(mutex_);
  zones_.erase(zone);
}

}  // namespace wiresign::daemon
