// Rollover decisions: key goals from the policy, then record state moves in
// the order of "Flexible and Robust Key Rollover" Algorithm 1 (RFC 7583
// timings, key_rules for safety), and what the resulting states publish.
#include "policy/rollover.h"

#include <algorithm>

#include "policy/key_rules.h"
#include "policy/key_timing.h"

namespace wiresign::policy {
namespace {

using keystore::KeyRole;
using S = RecordState;

std::vector<KeyRole> roles_needed(const SigningPolicy& policy) {
  if (policy.csk) return {KeyRole::csk};
  return {KeyRole::ksk, KeyRole::zsk};
}

// The roles that take over the work of a key of `role` under the policy's scheme.
std::vector<KeyRole> replacing_roles(const SigningPolicy& policy, KeyRole role) {
  if (policy.csk) return {KeyRole::csk};
  if (role == KeyRole::csk) return {KeyRole::ksk, KeyRole::zsk};
  return {role};
}

uint32_t lifetime_s(const SigningPolicy& policy, KeyRole role) {
  switch (role) {
    case KeyRole::ksk: return policy.ksk_lifetime_s;
    case KeyRole::zsk: return policy.zsk_lifetime_s;
    case KeyRole::csk: return policy.csk_lifetime_s;
  }
  return 0;
}

unsigned standby_wanted(const SigningPolicy& policy, KeyRole role) {
  return role == KeyRole::zsk ? policy.standby_zsk : policy.standby_ksk;
}

bool role_fits(const SigningPolicy& policy, KeyRole role) {
  auto needed = roles_needed(policy);
  return std::find(needed.begin(), needed.end(), role) != needed.end();
}

// Why a key that is to be used should be replaced; "" when it should not.
std::string retirement_reason(const KeyState& key, const SigningPolicy& policy, UnixTime now) {
  if (key.compromised) return "compromised";
  if (key.roll_requested) return "rollover requested by the operator";
  if (key.algorithm != policy.algorithm)
    return "algorithm rollover to " + std::string(dns::algorithm_name(policy.algorithm));
  if (!role_fits(policy, key.role)) return policy.csk ? "policy uses a CSK" : "policy uses a KSK and a ZSK";
  if (auto due = successor_due(key, policy); due && now >= *due) return "lifetime ends";
  return "";
}

// A key in use for `role` that is staying.
bool serves(const KeyState& key, KeyRole role, const SigningPolicy& policy, UnixTime now) {
  return key.goal == S::omnipresent && !key.standby && key.role == role &&
         retirement_reason(key, policy, now).empty();
}

// The state a record is heading for.
RecordState target_state(const KeyState& key, KeyRecord record) {
  if (key.goal == S::hidden) return S::hidden;
  if (key.standby && (record == KeyRecord::krrsig || record == KeyRecord::zrrsig)) return S::hidden;
  return S::omnipresent;
}

// One step towards the target (the paper's desired-state function).
RecordState next_state(RecordState current, RecordState target) {
  if (target == S::omnipresent) {
    if (current == S::hidden || current == S::unretentive) return S::rumoured;
    return S::omnipresent;
  }
  if (current == S::rumoured || current == S::omnipresent) return S::unretentive;
  return S::hidden;
}

// The moves to try for a record, in order. A retiring key's record that is
// still rumoured normally turns back (unretentive); when the rules forbid
// that (the record is what keeps a half-finished roll valid, e.g. a roll cut
// short by an algorithm change), finishing its introduction is the way out.
std::vector<RecordState> candidate_moves(RecordState current, RecordState target) {
  std::vector<RecordState> moves{next_state(current, target)};
  if (target == S::hidden && current == S::rumoured) moves.push_back(S::omnipresent);
  return moves;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

class Planner {
 public:
  Planner(const KeyRing& ring, const SigningPolicy& policy, UnixTime now) : policy_(policy), now_(now) {
    step_.ring = ring;
  }

  RolloverStep run() {
    set_goals();
    move_records();
    for (const auto& key : step_.ring.keys) {
      bool all_hidden = true;
      for (KeyRecord record : kKeyRecords)
        if (key.has(record) && key.record(record).state != S::hidden) all_hidden = false;
      if (key.goal == S::hidden && all_hidden) step_.removable.push_back(key.id);
    }
    step_.use = key_use(step_.ring, policy_);
    step_.next_event = plan_next_key_event(step_.ring, policy_, now_);
    return std::move(step_);
  }

 private:
  void event(const KeyState& key, std::string what) {
    step_.events.push_back({now_, key.id, key.label(), std::move(what)});
  }

  // A standby key of `role` ready to take over, or nullptr.
  KeyState* standby_for(KeyRole role) {
    for (auto& key : step_.ring.keys)
      if (key.standby && key.goal == S::omnipresent && key.role == role && key.algorithm == policy_.algorithm &&
          !key.compromised)
        return &key;
    return nullptr;
  }

  bool requested(KeyRole role, bool standby) const {
    return std::any_of(step_.keys_needed.begin(), step_.keys_needed.end(),
                       [&](const KeyRequest& r) { return r.role == role && r.standby == standby; });
  }

  void set_goals() {
    KeyRing& ring = step_.ring;
    if (ring.going_insecure) {
      for (auto& key : ring.keys)
        if (key.goal != S::hidden) {
          key.goal = S::hidden;
          event(key, "retiring: zone going insecure");
        }
      return;
    }
    // Standby keys the policy no longer wants are retired without a successor.
    for (auto& key : ring.keys)
      if (key.standby && key.goal == S::omnipresent &&
          (key.compromised || key.algorithm != policy_.algorithm || !role_fits(policy_, key.role))) {
        key.goal = S::hidden;
        event(key, "retiring standby key");
      }
    // Every role the policy needs gets a key in service: a standby key
    // promoted, or a new key; either succeeds a key that is leaving.
    for (KeyRole role : roles_needed(policy_)) {
      bool served = std::any_of(ring.keys.begin(), ring.keys.end(),
                                [&](const KeyState& k) { return serves(k, role, policy_, now_); });
      if (served) continue;
      std::string predecessor, reason = "no key in service";
      for (const auto& key : ring.keys) {
        if (key.goal != S::omnipresent || key.standby) continue;
        auto replacing = replacing_roles(policy_, key.role);
        if (std::find(replacing.begin(), replacing.end(), role) == replacing.end()) continue;
        if (std::string why = retirement_reason(key, policy_, now_); !why.empty()) {
          predecessor = key.id;
          reason = why;
          break;
        }
      }
      if (KeyState* standby = standby_for(role)) {
        standby->standby = false;
        standby->predecessor = predecessor;
        event(*standby, "standby key takes over (" + reason + ")");
      } else if (!requested(role, false)) {
        step_.keys_needed.push_back({role, policy_.algorithm, policy_.rsa_bits, false, predecessor});
      }
    }
    // A leaving key retires once the keys taking over its work are in the ring.
    for (auto& key : ring.keys) {
      if (key.goal != S::omnipresent || key.standby) continue;
      std::string why = retirement_reason(key, policy_, now_);
      if (why.empty()) continue;
      bool replaced = true;
      for (KeyRole role : replacing_roles(policy_, key.role))
        replaced = replaced && std::any_of(ring.keys.begin(), ring.keys.end(), [&](const KeyState& k) {
                     return &k != &key && serves(k, role, policy_, now_);
                   });
      if (replaced) {
        key.goal = S::hidden;
        event(key, "retiring: " + why);
      }
    }
    for (KeyRole role : roles_needed(policy_)) {
      auto have = static_cast<unsigned>(std::count_if(ring.keys.begin(), ring.keys.end(), [&](const KeyState& k) {
        return k.standby && k.goal == S::omnipresent && k.role == role;
      }));
      for (unsigned i = have; i < standby_wanted(policy_, role); ++i)
        step_.keys_needed.push_back({role, policy_.algorithm, policy_.rsa_bits, true, ""});
    }
  }

  void move_records() {
    KeyRing& ring = step_.ring;
    // Each move can unblock another (a DNSKEY now omnipresent lets its
    // signatures in), so repeat until nothing moves; every record moves at
    // most a few times per call, so this ends.
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t k = 0; k < ring.keys.size(); ++k) {
        for (KeyRecord record : kKeyRecords) {
          KeyState& key = ring.keys[k];
          if (!key.has(record)) continue;
          RecordState current = key.record(record).state;
          RecordState target = target_state(key, record);
          if (current == target) continue;
          std::optional<RecordState> chosen;
          for (RecordState move : candidate_moves(current, target)) {
            if (!rollover_method_allows(ring, k, record, move) || !transition_is_safe(ring, k, record, move)) continue;
            chosen = move;
            break;
          }
          if (!chosen) continue;
          RecordState next = *chosen;
          auto when = transition_time(key, record, next, policy_, ring);
          if (!when || *when > now_) continue;
          key.record(record) = {next, now_, current};
          if (record == KeyRecord::zrrsig) key.zrrsig_whole_signed.reset();
          event(key, upper(key_record_name(record)) + " " + std::string(record_state_name(current)) + " -> " +
                         std::string(record_state_name(next)));
          // A key's lifetime runs from its first signature of what it is for
          // (the zone for a ZSK or CSK, the DNSKEY RRset for a KSK), as in BIND.
          KeyRecord main = key.role == KeyRole::ksk ? KeyRecord::krrsig : KeyRecord::zrrsig;
          if (record == main && next == S::rumoured && key.in_service == 0 && key.goal == S::omnipresent) {
            key.in_service = now_;
            event(key, "in service");
          }
          changed = true;
        }
      }
    }
  }

  const SigningPolicy& policy_;
  UnixTime now_;
  RolloverStep step_;
};

void add_if(std::vector<std::string>& out, const KeyState& key, KeyRecord record) {
  if (!key.has(record)) return;
  RecordState state = key.record(record).state;
  if (state == S::rumoured || state == S::omnipresent) out.push_back(key.id);
}

}  // namespace

std::optional<UnixTime> successor_due(const KeyState& key, const SigningPolicy& policy) {
  uint32_t lifetime = lifetime_s(policy, key.role);
  if (lifetime == 0 || key.in_service == 0 || key.standby) return std::nullopt;
  for (KeyRecord record : kKeyRecords)
    if (key.has(record) && key.record(record).state != RecordState::omnipresent) return std::nullopt;
  uint32_t lead = successor_lead_time_s(policy, key.role);
  return key.in_service + std::max<int64_t>(int64_t(lifetime) - lead, 0);
}

KeyUse key_use(const KeyRing& ring, const SigningPolicy& policy) {
  KeyUse use;
  bool ds_out = false;
  for (const auto& key : ring.keys) {
    add_if(use.dnskeys, key, KeyRecord::dnskey);
    add_if(use.dnskey_signers, key, KeyRecord::krrsig);
    add_if(use.zone_signers, key, KeyRecord::zrrsig);
    if (key.has(KeyRecord::zrrsig) && key.zrrsig.state == S::unretentive && !key.compromised &&
        (key.dnskey.state == S::rumoured || key.dnskey.state == S::omnipresent))
      use.retiring_zone_signers.push_back(key.id);
    add_if(use.ds, key, KeyRecord::ds);
    if (!key.has(KeyRecord::ds)) continue;
    const RecordStatus& ds = key.ds;
    if (ds.state != S::hidden) ds_out = true;
    if (ds.state == S::rumoured && (!key.ds_seen || *key.ds_seen < ds.since)) use.awaiting_ds_seen.push_back(key.id);
    if (ds.state == S::unretentive && (!key.ds_gone || *key.ds_gone < ds.since))
      use.awaiting_ds_gone.push_back(key.id);
  }
  if (ring.going_insecure)
    use.cds_delete = ds_out;
  else if (policy.cds)
    use.cds = use.ds;
  return use;
}

void note_whole_signing(KeyRing& ring, UnixTime when) {
  for (auto& key : ring.keys) {
    if (!key.has(KeyRecord::zrrsig)) continue;
    const RecordStatus& zrrsig = key.zrrsig;
    if ((zrrsig.state == S::rumoured || zrrsig.state == S::unretentive) && !key.zrrsig_whole_signed)
      key.zrrsig_whole_signed = std::max(when, zrrsig.since);
  }
}

RolloverStep advance_rollover(const KeyRing& ring, const SigningPolicy& policy, UnixTime now) {
  return Planner(ring, policy, now).run();
}

std::optional<UnixTime> plan_next_key_event(const KeyRing& ring, const SigningPolicy& policy, UnixTime now) {
  std::optional<UnixTime> next;
  auto consider = [&](UnixTime when) {
    when = std::max(when, now);
    if (!next || when < *next) next = when;
  };
  for (size_t k = 0; k < ring.keys.size(); ++k) {
    const KeyState& key = ring.keys[k];
    for (KeyRecord record : kKeyRecords) {
      if (!key.has(record)) continue;
      RecordState current = key.record(record).state;
      RecordState target = target_state(key, record);
      if (current == target) continue;
      for (RecordState to : candidate_moves(current, target)) {
        if (!rollover_method_allows(ring, k, record, to) || !transition_is_safe(ring, k, record, to)) continue;
        if (auto when = transition_time(key, record, to, policy, ring)) consider(*when);
        break;
      }
    }
    // A lifetime already over is not an event: its successor is in
    // keys_needed (or under way) already.
    if (key.goal == S::omnipresent && !ring.going_insecure)
      if (auto due = successor_due(key, policy); due && *due > now) consider(*due);
  }
  return next;
}

}  // namespace wiresign::policy
