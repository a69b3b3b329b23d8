// The DNSSEC safety rules over key states, evaluated per algorithm (a
// validator checks each algorithm of the DS RRset on its own, RFC 6840 §5.11),
// and the rollover methods' order. Equation numbers are the paper's.
#include "policy/key_rules.h"

#include <optional>

namespace wiresign::policy {
namespace {

using S = RecordState;

// The ring as it would be with one record moved to a new state.
struct View {
  const KeyRing& ring;
  size_t changed;
  KeyRecord record;
  std::optional<RecordState> next;  // nullopt: the ring as it is

  // nullopt for a record the key does not have (a ZSK's DS).
  std::optional<RecordState> state(size_t key, KeyRecord which) const {
    const KeyState& k = ring.keys[key];
    if (!k.has(which)) return std::nullopt;
    if (next && key == changed && which == record) return *next;
    return k.record(which).state;
  }
  // The state the record was in before its current one.
  RecordState left_from(size_t key, KeyRecord which) const {
    const KeyState& k = ring.keys[key];
    if (next && key == changed && which == record) return k.record(which).state;
    return k.record(which).from;
  }
  size_t size() const { return ring.keys.size(); }
  const KeyState& key(size_t index) const { return ring.keys[index]; }
};

// Required states per record; an unset record matches anything. A key that
// lacks a record never matches a required state for it.
struct Pattern {
  std::optional<RecordState> dnskey = std::nullopt, krrsig = std::nullopt, zrrsig = std::nullopt, ds = std::nullopt;
};

bool matches(const View& view, size_t key, const Pattern& pattern) {
  auto check = [&](KeyRecord which, const std::optional<RecordState>& wanted) {
    return !wanted || view.state(key, which) == wanted;
  };
  return check(KeyRecord::dnskey, pattern.dnskey) && check(KeyRecord::krrsig, pattern.krrsig) &&
         check(KeyRecord::zrrsig, pattern.zrrsig) && check(KeyRecord::ds, pattern.ds);
}

bool same_states(const View& view, size_t a, size_t b) {
  for (KeyRecord which : kKeyRecords)
    if (view.state(a, which) != view.state(b, which)) return false;
  return true;
}

// Is `successor` the replacement of `predecessor`, directly or through keys
// that were themselves replaced before they finished (a roll started while
// the previous one was still under way) and stand exactly where it stands?
bool is_successor(const View& view, size_t predecessor, size_t successor, size_t depth) {
  const std::string& parent = view.key(successor).predecessor;
  if (parent.empty()) return false;
  if (parent == view.key(predecessor).id) return true;
  if (depth == 0) return false;
  for (size_t between = 0; between < view.size(); ++between) {
    if (between == successor || view.key(between).id != parent) continue;
    if (same_states(view, between, successor) && is_successor(view, predecessor, between, depth - 1)) return true;
  }
  return false;
}

bool exists(const View& view, dns::Algorithm alg, const Pattern& pattern) {
  for (size_t k = 0; k < view.size(); ++k)
    if (view.key(k).algorithm == alg && matches(view, k, pattern)) return true;
  return false;
}

// Every record `pattern` wants unretentive left from omnipresent: only then
// did every cache hold it when it went, so a cache holds either it or the
// successor's. One withdrawn while still rumoured leaves caches with what
// came before it (a roll cut short by the next), and proves nothing.
bool left_from_omnipresent(const View& view, size_t key, const Pattern& pattern) {
  for (auto [which, wanted] : {std::pair{KeyRecord::dnskey, pattern.dnskey},
                               std::pair{KeyRecord::krrsig, pattern.krrsig},
                               std::pair{KeyRecord::zrrsig, pattern.zrrsig}, std::pair{KeyRecord::ds, pattern.ds}})
    if (wanted == S::unretentive && view.left_from(key, which) != S::omnipresent) return false;
  return true;
}

// A predecessor in one state and its successor in another: the records are
// being swapped, so every cache holds one or the other.
bool exists_swap(const View& view, dns::Algorithm alg, const Pattern& old_key, const Pattern& new_key) {
  for (size_t p = 0; p < view.size(); ++p) {
    if (view.key(p).algorithm != alg || !matches(view, p, old_key) || !left_from_omnipresent(view, p, old_key))
      continue;
    for (size_t s = 0; s < view.size(); ++s)
      if (s != p && view.key(s).algorithm == alg && matches(view, s, new_key) &&
          is_successor(view, p, s, view.size()))
        return true;
  }
  return false;
}

// Rule 1: the parent has a DS for the zone (or the zone is leaving DNSSEC).
bool has_ds(const View& view) {
  if (view.ring.going_insecure) return true;
  for (size_t k = 0; k < view.size(); ++k) {
    auto ds = view.state(k, KeyRecord::ds);
    if (ds == S::rumoured || ds == S::omnipresent) return true;
  }
  return false;
}

// Rule 2: for the algorithm, a DS that caches hold matches a DNSKEY they hold
// with its signature over the DNSKEY RRset.
bool has_dnskey_chain(const View& view, dns::Algorithm alg) {
  // (3b) one key with all three omnipresent.
  if (exists(view, alg, {.dnskey = S::omnipresent, .krrsig = S::omnipresent, .ds = S::omnipresent})) return true;
  // (3c) DS swapped between two published keys.
  if (exists_swap(view, alg, {.dnskey = S::omnipresent, .krrsig = S::omnipresent, .ds = S::unretentive},
                  {.dnskey = S::omnipresent, .krrsig = S::omnipresent, .ds = S::rumoured}))
    return true;
  // (3d) DNSKEY and its signature swapped under two omnipresent DS.
  const Pattern leaving[] = {{.dnskey = S::unretentive, .krrsig = S::unretentive, .ds = S::omnipresent},
                             {.dnskey = S::omnipresent, .krrsig = S::unretentive, .ds = S::omnipresent},
                             {.dnskey = S::unretentive, .krrsig = S::omnipresent, .ds = S::omnipresent}};
  const Pattern coming[] = {{.dnskey = S::rumoured, .krrsig = S::rumoured, .ds = S::omnipresent},
                            {.dnskey = S::omnipresent, .krrsig = S::rumoured, .ds = S::omnipresent},
                            {.dnskey = S::rumoured, .krrsig = S::omnipresent, .ds = S::omnipresent}};
  for (const auto& old_key : leaving)
    for (const auto& new_key : coming)
      if (exists_swap(view, alg, old_key, new_key)) return true;
  // (3e) every DS a cache may hold belongs to a key whose DNSKEY and
  // signature every cache holds (vacuous while no DS is out: initial signing).
  for (size_t k = 0; k < view.size(); ++k) {
    if (view.key(k).algorithm != alg) continue;
    auto ds = view.state(k, KeyRecord::ds);
    if (!ds || *ds == S::hidden) continue;
    if (!matches(view, k, {.dnskey = S::omnipresent, .krrsig = S::omnipresent})) return false;
  }
  return true;
}

// Rule 3: for the algorithm, the zone's signatures that caches hold were made
// by a key of the DNSKEY RRset they hold.
bool has_signature_chain(const View& view, dns::Algorithm alg) {
  // No DS of this algorithm anywhere: validators do not look at its signatures.
  bool any_ds = false;
  for (size_t k = 0; k < view.size(); ++k) {
    auto ds = view.state(k, KeyRecord::ds);
    if (view.key(k).algorithm == alg && ds && *ds != S::hidden) any_ds = true;
  }
  if (!any_ds) return true;
  // (3f) one key with DNSKEY and signatures omnipresent.
  if (exists(view, alg, {.dnskey = S::omnipresent, .zrrsig = S::omnipresent})) return true;
  // (3g) DNSKEYs swapped under omnipresent signatures; (3h) signatures swapped
  // under omnipresent DNSKEYs.
  if (exists_swap(view, alg, {.dnskey = S::unretentive, .zrrsig = S::omnipresent},
                  {.dnskey = S::rumoured, .zrrsig = S::omnipresent}))
    return true;
  if (exists_swap(view, alg, {.dnskey = S::omnipresent, .zrrsig = S::unretentive},
                  {.dnskey = S::omnipresent, .zrrsig = S::rumoured}))
    return true;
  // (3i) every published DNSKEY goes along with omnipresent signatures by a
  // key in the same DNSKEY state.
  for (size_t k = 0; k < view.size(); ++k) {
    if (view.key(k).algorithm != alg) continue;
    auto dnskey = view.state(k, KeyRecord::dnskey);
    if (dnskey == S::hidden) continue;
    if (!exists(view, alg, {.dnskey = dnskey, .zrrsig = S::omnipresent})) return false;
  }
  return true;
}

bool is_present(std::optional<RecordState> state) {
  return state == S::rumoured || state == S::omnipresent;
}

// Another key of the algorithm that makes (or is starting to make) `which`.
bool other_key_makes(const KeyRing& ring, size_t key, KeyRecord which) {
  const KeyState& self = ring.keys[key];
  for (size_t k = 0; k < ring.keys.size(); ++k) {
    const KeyState& other = ring.keys[k];
    if (k != key && other.algorithm == self.algorithm && other.has(which) && is_present(other.record(which).state))
      return true;
  }
  return false;
}

// No DNSKEY of the algorithm is published (`allow_unretentive`) or in any cache.
bool algorithm_unpublished(const KeyRing& ring, dns::Algorithm alg, bool allow_unretentive) {
  for (const auto& key : ring.keys) {
    if (key.algorithm != alg) continue;
    RecordState state = key.dnskey.state;
    if (state == S::hidden || (allow_unretentive && state == S::unretentive)) continue;
    return false;
  }
  return true;
}

// The records a key signs with, by role, unless it is a standby key.
bool signs_with(const KeyState& key, KeyRecord which) {
  return (which == KeyRecord::krrsig || which == KeyRecord::zrrsig) && key.has(which);
}

// A new algorithm's DNSKEYs wait until every key of it that is to sign has
// its signatures omnipresent (RFC 6781 §4.1.4, RFC 4035 §2.2).
bool new_algorithm_signed_everywhere(const KeyRing& ring, dns::Algorithm alg) {
  bool any_zone_signer = false;
  for (const auto& key : ring.keys) {
    if (key.algorithm != alg || key.goal != S::omnipresent || key.standby) continue;
    for (KeyRecord which : {KeyRecord::krrsig, KeyRecord::zrrsig}) {
      if (!signs_with(key, which)) continue;
      if (key.record(which).state != S::omnipresent) return false;
      if (which == KeyRecord::zrrsig) any_zone_signer = true;
    }
  }
  return any_zone_signer;
}

// The algorithm has a DNSKEY that caches already hold: a key of it is an
// ordinary rollover, not the introduction of an algorithm.
bool algorithm_established(const KeyRing& ring, size_t key) {
  const KeyState& self = ring.keys[key];
  for (size_t k = 0; k < ring.keys.size(); ++k)
    if (k != key && ring.keys[k].algorithm == self.algorithm && ring.keys[k].dnskey.state == S::omnipresent)
      return true;
  return false;
}

// No DNSKEY of the algorithm is published yet: its signatures may go first.
bool introducing_algorithm(const KeyRing& ring, dns::Algorithm alg) {
  for (const auto& key : ring.keys)
    if (key.algorithm == alg && is_present(key.dnskey.state)) return false;
  return true;
}

// Leaving out `key`, the algorithm either has no published DNSKEY left, or
// a published key whose signatures are on every RRset.
bool algorithm_keeps_signing(const KeyRing& ring, size_t key) {
  const KeyState& self = ring.keys[key];
  bool published = false;
  for (size_t k = 0; k < ring.keys.size(); ++k) {
    const KeyState& other = ring.keys[k];
    if (k == key || other.algorithm != self.algorithm || !is_present(other.dnskey.state)) continue;
    if (other.has(KeyRecord::zrrsig) && other.zrrsig.state == S::omnipresent) return true;
    published = true;
  }
  return !published;
}

}  // namespace

bool zone_is_unsecured(const KeyRing& ring) {
  for (const auto& key : ring.keys)
    if (key.has(KeyRecord::ds) && key.ds.state != S::hidden) return false;
  return true;
}

bool transition_is_safe(const KeyRing& ring, size_t key, KeyRecord record, RecordState next) {
  View now{ring, key, record, std::nullopt};
  View then{ring, key, record, next};
  dns::Algorithm alg = ring.keys[key].algorithm;
  // Equation (1): each rule either fails already or still holds afterwards.
  return (!has_ds(now) || has_ds(then)) && (!has_dnskey_chain(now, alg) || has_dnskey_chain(then, alg)) &&
         (!has_signature_chain(now, alg) || has_signature_chain(then, alg));
}

bool rollover_method_allows(const KeyRing& ring, size_t key, KeyRecord record, RecordState next) {
  const KeyState& self = ring.keys[key];
  bool unsecured = zone_is_unsecured(ring);
  if (next == S::rumoured) {
    switch (record) {
      case KeyRecord::dnskey:
        // Initial signing may publish everything at once: nobody validates yet.
        return unsecured || algorithm_established(ring, key) ||
               new_algorithm_signed_everywhere(ring, self.algorithm);
      case KeyRecord::zrrsig:
      case KeyRecord::krrsig:
        // Pre-publication: sign once the DNSKEY is in every cache; a new
        // algorithm signs first and publishes its DNSKEY later.
        if (record == KeyRecord::krrsig && self.dnskey.state != S::hidden) return true;
        return unsecured || self.dnskey.state == S::omnipresent || introducing_algorithm(ring, self.algorithm);
      case KeyRecord::ds:
        // Double-KSK: the parent gets a DS only for a DNSKEY every cache has.
        return !ring.going_insecure && self.dnskey.state == S::omnipresent;
    }
  }
  if (next == S::unretentive) {
    switch (record) {
      case KeyRecord::dnskey:
        // RFC 4035 §2.2: while the algorithm stays in the DNSKEY RRset, every
        // RRset keeps a signature by one of its published keys. The safety
        // rules see to this only where a DS of the algorithm is out.
        return !self.has(KeyRecord::zrrsig) || self.zrrsig.state == S::hidden ||
               algorithm_keeps_signing(ring, key);
      case KeyRecord::ds:
        // A DS that is (or may already be) out leaves only once another is
        // in every cache, so the parent always holds one that works; unless
        // the zone goes insecure, or the key is compromised and its DS was
        // never confirmed.
        if (ring.going_insecure || (self.ds.state == S::rumoured && self.compromised)) return true;
        for (size_t k = 0; k < ring.keys.size(); ++k)
          if (k != key && ring.keys[k].has(KeyRecord::ds) && ring.keys[k].ds.state == S::omnipresent) return true;
        return false;
      case KeyRecord::krrsig:
        // RFC 4035 §2.2: the DNSKEY RRset is signed by every algorithm in it.
        return other_key_makes(ring, key, record) || algorithm_unpublished(ring, self.algorithm, true);
      case KeyRecord::zrrsig:
        // RFC 6781 §4.1.4: an algorithm's last signatures go only after its
        // DNSKEYs have left every cache.
        return other_key_makes(ring, key, record) || algorithm_unpublished(ring, self.algorithm, false);
    }
  }
  return true;
}

}  // namespace wiresign::policy
