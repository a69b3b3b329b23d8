// A simulated zone for the rollover tests: a daemon that does what
// advance_rollover says (generates keys, publishes, deletes), a parent that
// acts on DS requests after a delay, a DS check that notices after another,
// and a model resolver that checks every cached combination after each step.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "model_resolver.h"
#include "policy/rollover.h"

namespace wiresign::policy::test {

inline SigningPolicy test_policy() {
  SigningPolicy policy;
  policy.dnskey_ttl_s = 3600;
  policy.validity_s = 14 * 86400;
  policy.refresh_s = 5 * 86400;
  policy.zone_max_ttl_s = 86400;
  policy.propagation_delay_s = 1800;
  policy.parent_ds_ttl_s = 86400;
  policy.parent_propagation_delay_s = 3600;
  // No safety margins: the model resolver then checks the bare timings.
  policy.publish_safety_s = 0;
  policy.retire_safety_s = 0;
  return policy;
}

// "zsk2: goal hidden dnskey=omnipresent zrrsig=unretentive" per key, for messages.
inline std::string describe(const KeyRing& ring) {
  std::string out;
  for (const auto& key : ring.keys) {
    out += "\n  " + key.id + ": goal " + std::string(record_state_name(key.goal));
    for (KeyRecord record : kKeyRecords)
      if (key.has(record))
        out += " " + std::string(key_record_name(record)) + "=" +
               std::string(record_state_name(key.record(record).state));
  }
  return out;
}

class World {
 public:
  static constexpr UnixTime kStart = 1'700'000'000;

  explicit World(const SigningPolicy& signing_policy)
      : policy(signing_policy),
        resolver_({signing_policy.dnskey_ttl_s, signing_policy.zone_max_ttl_s,
                   // Sign delay validity - refresh: a new ZSK takes over RRset
                   // by RRset as signatures come due (re-sign slices).
                   signing_policy.propagation_delay_s,
                   signing_policy.validity_s > signing_policy.refresh_s
                       ? signing_policy.validity_s - signing_policy.refresh_s
                       : 0,
                   signing_policy.parent_ds_ttl_s, signing_policy.parent_propagation_delay_s}) {}

  SigningPolicy policy;
  KeyRing ring;
  UnixTime now = kStart;
  uint32_t parent_delay_s = 2 * 3600;  // registrar/parent acting on a DS change
  uint32_t check_delay_s = 3600;       // our DS check noticing it
  bool parent_acts = true;             // false: the parent ignores DS requests
  std::vector<KeyEvent> events;
  std::vector<std::string> created;  // ids of generated keys, in order
  std::vector<std::string> deleted;
  size_t steps = 0;
  size_t failures = 0;
  size_t max_zone_signers = 0;  // most keys signing the zone at once

  // Starts from keys that were in use before their state was kept.
  void adopt(const KeyRing& adopted) {
    ring = adopted;
    for (const auto& key : ring.keys) resolver_.know_key(key.id, key.algorithm);
  }

  // One daemon wake-up at `now`.
  void step() {
    ++steps;
    RolloverStep result = advance_rollover(ring, policy, now);
    // New keys go in hidden and change nothing published; advance again so
    // that they are introduced at once (the daemon does the same).
    for (int round = 0; round < 3 && !result.keys_needed.empty(); ++round) {
      ring = result.ring;
      append(result.events);
      for (const auto& request : result.keys_needed) add_key(request);
      result = advance_rollover(ring, policy, now);
    }
    ring = result.ring;
    append(result.events);
    for (const auto& id : result.removable) {
      deleted.push_back(id);
      forget_key(ring, id);
    }
    bool whole = publish(result.use);
    next_event_ = whole ? plan_next_key_event(ring, policy, now) : result.next_event;
    check();
  }

  // Steps from event to event until `until` (or until nothing is left to do).
  void run_until(UnixTime until) {
    for (size_t guard = 0; guard < 100000; ++guard) {
      step();
      std::optional<UnixTime> next = next_event_;
      for (const auto& action : parent_actions_)
        if (!next || action.when < *next) next = action.when;
      if (!next || *next > until) {
        now = until;
        step();
        return;
      }
      now = std::max(*next, now);
      run_parent_actions();
    }
    ADD_FAILURE() << "no end in sight at " << now;
  }

  void run_for_days(double days) { run_until(now + static_cast<UnixTime>(days * 86400)); }

  // A whole-zone signing now (the operator's re-sign, new NSEC3 parameters):
  // every RRset gets the zone signers' signatures at once.
  void sign_whole_zone() {
    resolver_.zone_signers().resign_all(now);
    note_whole_signing(ring, now);
    step();
  }

  const ModelResolver& resolver() const { return resolver_; }

  size_t count_events(const std::string& what) const {
    return std::count_if(events.begin(), events.end(),
                         [&](const KeyEvent& e) { return e.what.find(what) != std::string::npos; });
  }
  size_t keys_with(keystore::KeyRole role, dns::Algorithm alg) const {
    return std::count_if(ring.keys.begin(), ring.keys.end(),
                         [&](const KeyState& k) { return k.role == role && k.algorithm == alg; });
  }
  // Every key of the ring fully in service, nothing under way.
  bool settled() const {
    for (const auto& key : ring.keys) {
      if (key.goal != RecordState::omnipresent) return false;
      for (KeyRecord record : kKeyRecords) {
        if (!key.has(record)) continue;
        bool signing = record == KeyRecord::krrsig || record == KeyRecord::zrrsig;
        RecordState want = key.standby && signing ? RecordState::hidden : RecordState::omnipresent;
        if (key.record(record).state != want) return false;
      }
    }
    return true;
  }
  const KeySet& ds_at_parent() const { return parent_ds_; }

 private:
  struct ParentAction {
    UnixTime when;
    std::string key;
    enum { add, remove, notice_added, notice_removed } kind;
  };

  void append(const std::vector<KeyEvent>& more) { events.insert(events.end(), more.begin(), more.end()); }

  void add_key(const KeyRequest& request) {
    keystore::KeyInfo info;
    int n = next_key_++;
    info.locator = std::string(keystore::key_role_name(request.role)) + std::to_string(n);
    info.key_tag = static_cast<uint16_t>(10000 + n);
    info.algorithm = request.algorithm;
    created.push_back(info.locator);
    resolver_.know_key(info.locator, info.algorithm);
    ring.keys.push_back(new_key_state(request, info, now));
  }

  // Returns whether the daemon would sign the whole zone for it (the zone
  // signers change other than by a gradual takeover).
  bool publish(const KeyUse& use) {
    auto set = [](const std::vector<std::string>& ids) { return KeySet(ids.begin(), ids.end()); };
    max_zone_signers = std::max(max_zone_signers, use.zone_signers.size());
    // Robustness beyond validity: the DS set asked for always keeps one that
    // the parent has, so a parent that adds but never removes (or acts only
    // on half a request) cannot leave the zone without a working DS.
    // (A compromised key's DS is withdrawn even then: insecure beats forged.)
    auto compromised = [&](const std::string& id) {
      const KeyState* key = ring.find(id);
      return key && key->compromised;
    };
    if (!ring.going_insecure && !parent_ds_.empty() && !use.ds.empty() &&
        !std::all_of(parent_ds_.begin(), parent_ds_.end(), compromised) &&
        std::none_of(use.ds.begin(), use.ds.end(), [&](const std::string& id) { return parent_ds_.count(id); }))
      ADD_FAILURE() << "at +" << (now - kStart) << "s the DS set asked for drops every DS the parent has";
    resolver_.dnskey_rrset().publish(now, set(use.dnskeys), set(use.dnskey_signers));
    // As the daemon signs: a signer set that keeps its algorithms, and
    // drops only keys retiring gradually, is replaced RRset by RRset.
    KeySet zone_now = set(use.zone_signers);
    bool gradual = false;
    if (const Version* before = resolver_.zone_signers().current(); before && !before->keys.empty()) {
      auto algorithms = [&](const KeySet& ids) {
        std::set<dns::Algorithm> out;
        for (const auto& id : ids)
          if (const KeyState* key = ring.find(id)) out.insert(key->algorithm);
        return out;
      };
      gradual = algorithms(before->keys) == algorithms(zone_now);
      for (const auto& id : before->keys)
        if (!zone_now.count(id) && std::find(use.retiring_zone_signers.begin(), use.retiring_zone_signers.end(), id) ==
                                       use.retiring_zone_signers.end())
          gradual = false;
    }
    const Version* before = resolver_.zone_signers().current();
    const bool whole = before && !before->keys.empty() && before->keys != zone_now && !gradual;
    resolver_.zone_signers().publish(now, zone_now, {}, gradual);
    if (whole) note_whole_signing(ring, now);
    wanted_ds_ = set(use.ds);
    if (use.cds_delete) wanted_ds_.clear();
    // Our DS check asks the parent servers about every DS under way and
    // notices check_delay_s later what it finds.
    for (const auto& id : use.awaiting_ds_seen)
      if (parent_ds_.count(id) && !pending(id, ParentAction::notice_added))
        parent_actions_.push_back({now + check_delay_s, id, ParentAction::notice_added});
    for (const auto& id : use.awaiting_ds_gone)
      if (!parent_ds_.count(id) && !pending(id, ParentAction::notice_removed))
        parent_actions_.push_back({now + check_delay_s, id, ParentAction::notice_removed});
    if (!parent_acts) return whole;
    // The parent is asked for what is wanted; it acts parent_delay_s later.
    for (const auto& id : wanted_ds_)
      if (!parent_ds_.count(id) && !pending(id, ParentAction::add))
        parent_actions_.push_back({now + parent_delay_s, id, ParentAction::add});
    for (const auto& id : parent_ds_)
      if (!wanted_ds_.count(id) && !pending(id, ParentAction::remove))
        parent_actions_.push_back({now + parent_delay_s, id, ParentAction::remove});
    return whole;
  }

  bool pending(const std::string& id, decltype(ParentAction::kind) kind) const {
    return std::any_of(parent_actions_.begin(), parent_actions_.end(),
                       [&](const ParentAction& a) { return a.key == id && a.kind == kind; });
  }

  void run_parent_actions() {
    std::vector<ParentAction> due, later;
    for (const auto& action : parent_actions_) (action.when <= now ? due : later).push_back(action);
    parent_actions_ = later;
    for (const auto& action : due) {
      switch (action.kind) {
        case ParentAction::add:
          if (!wanted_ds_.count(action.key)) break;  // no longer wanted by the time the parent acts
          parent_ds_.insert(action.key);
          parent_actions_.push_back({now + check_delay_s, action.key, ParentAction::notice_added});
          break;
        case ParentAction::remove:
          if (wanted_ds_.count(action.key)) break;
          parent_ds_.erase(action.key);
          parent_actions_.push_back({now + check_delay_s, action.key, ParentAction::notice_removed});
          break;
        case ParentAction::notice_added:
          if (parent_ds_.count(action.key)) record_ds_seen(ring, action.key, now);
          break;
        case ParentAction::notice_removed:
          if (!parent_ds_.count(action.key)) record_ds_gone(ring, action.key, now);
          break;
      }
    }
    resolver_.parent_ds().publish(now, parent_ds_);
  }

  void check() {
    resolver_.parent_ds().publish(now, parent_ds_);
    auto problems = resolver_.problems(now);
    if (problems.empty()) return;
    if (++failures <= 3) {
      std::string recent;
      for (size_t i = events.size() > 60 ? events.size() - 60 : 0; i < events.size(); ++i)
        recent += "\n  " + std::to_string(events[i].when - kStart) + " " + events[i].label + " [" + events[i].key +
                  "]: " + events[i].what;
      ADD_FAILURE() << "at +" << (now - kStart) << "s: " << problems.front() << "\npolicy: dnskey-ttl "
                    << policy.dnskey_ttl_s << ", zone-max-ttl " << policy.zone_max_ttl_s << ", propagation "
                    << policy.propagation_delay_s << ", validity " << policy.validity_s << ", refresh "
                    << policy.refresh_s << ", publish/retire safety " << policy.publish_safety_s << "/"
                    << policy.retire_safety_s << "\nrecent events:" << recent;
    }
  }

  ModelResolver resolver_;
  std::optional<UnixTime> next_event_;
  std::vector<ParentAction> parent_actions_;
  KeySet parent_ds_;
  KeySet wanted_ds_;
  int next_key_ = 1;
};

}  // namespace wiresign::policy::test
