// Signing a change (incremental_sign.h): the changed names (and the names
// below a cut that comes or goes) are gathered into a small zone with the
// apex, prepared and signed like a whole zone by the same NameSigner; the
// NSEC chain is relinked around them, or the NSEC3 ring mended around them
// and the empty non-terminals that appear or vanish above them.
#include "signer/incremental_sign.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "dns/base_encoding.h"
#include "dns/rr_type.h"
#include "dns/zone_reader.h"
#include "signer/name_signer.h"
#include "signer/nsec_chain.h"

namespace wiresign::signer {
namespace {

namespace rr = dns::rr_type;
using detail::NameKind;

std::string lower(std::string_view wire) {
  std::string out(wire);
  dns::lowercase_name(out.data(), out.size());
  return out;
}

struct CanonicalLess {
  bool operator()(const std::string& a, const std::string& b) const { return dns::canonical_compare(a, b) < 0; }
};

bool same_rdata(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

std::string record_text(const UnsignedRecord& r) { return dns::to_text(r.owner) + " " + dns::type_name(r.type); }

// One changed owner: its unsigned records before and after.
struct OwnerState {
  std::vector<UnsignedRecord> before, after;
};

// The same records, in any order.
bool same_records(std::vector<UnsignedRecord> a, std::vector<UnsignedRecord> b) {
  auto key = [](const UnsignedRecord& r) { return std::tie(r.type, r.rdata, r.ttl); };
  auto less = [&](const UnsignedRecord& x, const UnsignedRecord& y) { return key(x) < key(y); };
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](const auto& x, const auto& y) { return key(x) == key(y); });
}

bool has(const std::vector<UnsignedRecord>& records, uint16_t type) {
  return std::any_of(records.begin(), records.end(), [&](const UnsignedRecord& r) { return r.type == type; });
}


// The records of `type` at the apex, (TTL, RDATA) sorted, to compare what
// the keys and policy make now with what is in service.
std::vector<std::pair<uint32_t, std::vector<uint8_t>>> apex_set(const std::vector<dns::RecordView>& records,
                                                                 uint16_t type) {
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> out;
  for (const auto& r : records)
    if (r.type == type) out.emplace_back(r.ttl, std::vector<uint8_t>(r.rdata.begin(), r.rdata.end()));
  std::sort(out.begin(), out.end());
  return out;
}

// The NSEC3 ring after the change: the one in service without `removed`, plus `added`.
class NewRing {
 public:
  NewRing(const SignedVersionView& previous, const std::set<Nsec3Hash>& added, const std::set<Nsec3Hash>& removed)
      : previous_(previous), added_(added), removed_(removed) {}

  Nsec3Hash next(const Nsec3Hash& hash) const {
    if (auto found = first_after(hash)) return *found;
    return *first_after(std::nullopt);  // wraps round; the apex's NSEC3 is always there
  }
  Nsec3Hash before(const Nsec3Hash& hash) const {
    if (auto found = last_before(hash)) return *found;
    return *last_before(std::nullopt);
  }

 private:
  std::optional<Nsec3Hash> first_after(const std::optional<Nsec3Hash>& hash) const {
    std::optional<Nsec3Hash> kept = previous_.nsec3_after(hash);
    while (kept && removed_.count(*kept)) kept = previous_.nsec3_after(*kept);
    auto it = hash ? added_.upper_bound(*hash) : added_.begin();
    if (it != added_.end() && (!kept || *it < *kept)) return *it;
    return kept;
  }
  std::optional<Nsec3Hash> last_before(const std::optional<Nsec3Hash>& hash) const {
    std::optional<Nsec3Hash> kept = previous_.nsec3_before(hash);
    while (kept && removed_.count(*kept)) kept = previous_.nsec3_before(*kept);
    auto it = hash ? added_.lower_bound(*hash) : added_.end();
    if (it != added_.begin() && (!kept || *std::prev(it) > *kept)) return *std::prev(it);
    return kept;
  }

  const SignedVersionView& previous_;
  const std::set<Nsec3Hash>& added_;
  const std::set<Nsec3Hash>& removed_;
};

// The next-hashed-owner field of NSEC3 RDATA (RFC 5155 §3.2), replaced.
std::vector<uint8_t> relinked_nsec3(std::span<const uint8_t> rdata, const Nsec3Hash& next) {
  std::vector<uint8_t> out(rdata.begin(), rdata.end());
  size_t pos = 5 + (out.size() > 4 ? out[4] : 0);  // algorithm, flags, iterations, salt length, salt
  if (pos >= out.size() || out[pos] != next.size() || pos + 1 + next.size() > out.size())
    throw std::runtime_error("malformed NSEC3 RDATA in the version in service");
  std::copy(next.begin(), next.end(), out.begin() + static_cast<long>(pos) + 1);
  return out;
}

// How the apex DNSSEC records `part` (prepared) gets from the keys and the
// policy, or the keys that sign, differ from the version in service's
// (`apex_held`). A key event that changes only the DNSKEY, CDS and CDNSKEY
// RRsets or the keys that sign the DNSKEY RRset (a KSK roll's every step, a
// ZSK published or withdrawn) is an apex change like any other, and so is
// a ZSK switch whose predecessor retires gradually (its signatures kept
// until due: ZoneKeys::retiring_zone_signers). New NSEC3 parameters, other
// algorithms signing the zone's data (an algorithm roll), or a zone signer
// dropped at once (a compromised key) need every RRset signed again: the
// whole zone.
struct ApexDifference {
  std::string what;
  bool whole_zone = false;
};
std::optional<ApexDifference> apex_change(const std::vector<dns::RecordView>& apex_held, const Zone& part,
                                          const ZoneKeys& keys) {
  auto made_set = [&](uint16_t type) {
    std::vector<dns::RecordView> made;
    for (const auto& r : part.records_at(0))
      if (r.type == type) made.push_back(part.view(r));
    return apex_set(made, type);
  };
  if (made_set(rr::NSEC3PARAM) != apex_set(apex_held, rr::NSEC3PARAM))
    return ApexDifference{"the NSEC3 parameters change", true};
  using KeyId = std::pair<uint8_t, uint16_t>;  // algorithm, key tag
  auto ids = [](const std::vector<keystore::KeyInfo>& list) {
    std::set<KeyId> out;
    for (const auto& key : list) out.emplace(static_cast<uint8_t>(key.algorithm), key.key_tag);
    return out;
  };
  auto signed_before = [&](uint16_t covered) {
    std::set<KeyId> out;
    for (const auto& r : apex_held)
      if (r.type == rr::RRSIG && r.rdata.size() >= 18 && dns::get_u16(r.rdata.data()) == covered)
        out.emplace(r.rdata[2], dns::get_u16(r.rdata.data() + 16));
    return out;
  };
  auto algorithms = [](const std::set<KeyId>& set) {
    std::set<uint8_t> out;
    for (const auto& key : set) out.insert(key.first);
    return out;
  };
  const std::set<KeyId> zone_signers = ids(keys.zone_signers), zone_before = signed_before(rr::SOA);
  const std::set<KeyId> retiring = ids(keys.retiring_zone_signers);
  bool zone_signers_change = zone_signers != zone_before;
  if (zone_signers_change) {
    if (algorithms(zone_signers) != algorithms(zone_before))
      return ApexDifference{"the algorithms that sign the zone's data change", true};
    for (const auto& key : zone_before)
      if (!zone_signers.count(key) && !retiring.count(key))
        return ApexDifference{"a key stops signing the zone's data at once (its signatures are replaced now)", true};
  }
  for (uint16_t type : {rr::DNSKEY, rr::CDS, rr::CDNSKEY})
    if (made_set(type) != apex_set(apex_held, type))
      return ApexDifference{"the apex " + dns::type_name(type) + " RRset changes (keys or SOA TTLs)"};
  if (ids(keys.dnskey_signers) != signed_before(rr::DNSKEY))
    return ApexDifference{"the keys that sign the DNSKEY RRset change"};
  if (zone_signers_change) return ApexDifference{"another key signs the zone's data, RRset by RRset as signatures come due"};
  return std::nullopt;
}

// A name's records in the version in service less the signer's own and
// the SOA (which a change brings anew), appended to `out`.
void append_unsigned(const std::vector<dns::RecordView>& records, std::vector<UnsignedRecord>& out) {
  for (const auto& r : records)
    if (!dns::is_dnssec_generated_type(r.type) && r.type != rr::SOA)
      out.push_back({std::string(r.owner), r.type, r.ttl, {r.rdata.begin(), r.rdata.end()}});
}

// The small zone a change is signed in: the apex's unsigned records (the
// signer's own records there come from the keys again) with `soa`.
Zone apex_part(const dns::Name& origin, const std::string& apex, const std::vector<UnsignedRecord>& apex_records,
               const UnsignedRecord& soa) {
  Zone part(origin);
  for (const auto& r : apex_records) part.add(apex, r.type, r.ttl, r.rdata);
  part.add(apex, rr::SOA, soa.ttl, soa.rdata);
  return part;
}

}  // namespace

bool same_keys_and_parameters(const SignedVersionView& previous, const dns::Name& origin, const UnsignedRecord& soa,
                              const ZoneKeys& keys, const SignOptions& options, std::string& why) {
  const std::string apex = lower(origin.wire());
  std::vector<dns::RecordView> apex_held;
  previous.records_at(apex, apex_held);
  std::vector<UnsignedRecord> apex_records;
  append_unsigned(apex_held, apex_records);
  Zone part = apex_part(origin, apex, apex_records, soa);
  prepare_zone(part, keys, options, "the apex", {});
  std::optional<ApexDifference> change = apex_change(apex_held, part, keys);
  if (change) why = change->what;
  return !change;
}

std::optional<SignedChange> sign_change(const SignedVersionView& previous, const dns::Name& origin,
                                        const UnsignedChange& change, const ZoneKeys& keys,
                                        const SignOptions& options, const std::string& source,
                                        const WarningSink& warn, std::string& why_not, size_t max_names,
                                        size_t max_net_removed) {
  auto decline = [&](std::string why) -> std::optional<SignedChange> {
    why_not = std::move(why);
    return std::nullopt;
  };
  const auto& policy = options.policy;
  const bool nsec3 = policy.nsec3;
  if (keys.serve_unsigned) return decline("the zone is published unsigned");
  const std::string apex = lower(origin.wire());

  std::vector<dns::RecordView> held;
  auto read = [&](std::string_view owner) -> const std::vector<dns::RecordView>& {
    held.clear();
    previous.records_at(owner, held);
    return held;
  };

  // Each changed owner's records before and after; the apex apart (it is
  // always signed again, for its SOA).
  const std::vector<dns::RecordView> apex_held = read(apex);
  OwnerState apex_state;
  append_unsigned(apex_held, apex_state.before);
  apex_state.after = apex_state.before;
  std::map<std::string, OwnerState, CanonicalLess> owners;
  auto state_of = [&](const std::string& owner) -> OwnerState& {
    if (owner == apex) return apex_state;
    auto [it, fresh] = owners.try_emplace(owner);
    if (fresh) {
      append_unsigned(read(owner), it->second.before);
      it->second.after = it->second.before;
    }
    return it->second;
  };
  for (const auto* list : {&change.removed, &change.added}) {
    for (const auto& r : *list) {
      if (!dns::is_at_or_below(r.owner, apex))
        throw dns::ZoneFileError(source, 0, "record " + record_text(r) + " is outside the zone " + origin.to_text());
      if (r.type == rr::SOA && dns::same_name(r.owner, apex)) continue;  // change.soa says what it becomes
      OwnerState& state = state_of(lower(r.owner));
      auto same = [&](const UnsignedRecord& x) { return x.type == r.type && same_rdata(x.rdata, r.rdata); };
      auto found = std::find_if(state.after.begin(), state.after.end(), same);
      if (list == &change.removed) {
        if (found == state.after.end())
          return decline("it removes " + record_text(r) + ", which is not in the version in service");
        state.after.erase(found);
      } else {
        if (found != state.after.end()) state.after.erase(found);  // the same record with another TTL
        state.after.push_back({lower(r.owner), r.type, r.ttl, r.rdata});
      }
    }
  }

  for (const auto& name : change.resign) state_of(lower(name));

  // A cut (RFC 4035 §2.2) or DNAME (RFC 6672 §2.3) that comes or goes
  // changes what every name below it is: those names are signed again too.
  {
    std::vector<std::string> turned;
    for (const auto& [owner, state] : owners)
      if (has(state.before, rr::NS) != has(state.after, rr::NS) ||
          has(state.before, rr::DNAME) != has(state.after, rr::DNAME))
        turned.push_back(owner);
    for (const auto& top : turned) {
      for (auto below = previous.name_after(top); below && dns::is_at_or_below(*below, top);
           below = previous.name_after(*below)) {
        state_of(*below);
        if (owners.size() > max_names)
          return decline("more than " + std::to_string(max_names) + " names change with the cut at " +
                         dns::to_text(top));
      }
    }
  }

  // What the zone is after the change, at any name: the changed owners'
  // new records, else those of the version in service.
  auto changed = [&](std::string_view name) -> const OwnerState* {
    if (dns::same_name(name, apex)) return &apex_state;
    auto it = owners.find(std::string(name));
    return it == owners.end() ? nullptr : &it->second;
  };
  auto has_after = [&](std::string_view name, uint16_t type) {
    if (const OwnerState* state = changed(name)) return has(state->after, type);
    const auto& records = read(name);
    return std::any_of(records.begin(), records.end(), [&](const dns::RecordView& r) { return r.type == type; });
  };
  auto has_records_after = [&](std::string_view name) {
    if (const OwnerState* state = changed(name)) return !state->after.empty();
    return !read(name).empty();
  };
  // Below a cut after the change (glue and data the delegation hides).
  auto occluded_after = [&](std::string_view name) {
    for (auto p = dns::parent_of(name); p.size() > apex.size(); p = dns::parent_of(p))
      if (has_after(p, rr::NS)) return true;
    return false;
  };
  // Whether a name other than an NSEC3 owner lies below `name` after the change.
  auto names_below_after = [&](const std::string& name) {
    for (auto it = owners.upper_bound(name); it != owners.end() && dns::is_at_or_below(it->first, name); ++it)
      if (!it->second.after.empty()) return true;
    for (auto below = previous.name_after(name); below && dns::is_at_or_below(*below, name);
         below = previous.name_after(*below)) {
      auto it = owners.find(*below);
      if (it == owners.end() || !it->second.after.empty()) return true;
    }
    return false;
  };
  for (const auto& [owner, state] : owners) {
    if (state.after.empty()) continue;
    for (auto p = dns::parent_of(owner); p.size() >= apex.size(); p = dns::parent_of(p)) {
      if (has_after(p, rr::DNAME))
        throw dns::ZoneFileError(source, 0,
                                 "record " + record_text(state.after.front()) + " is below the DNAME at " +
                                     dns::to_text(p) + " (RFC 6672 §2.3 forbids data there)");
      if (p.size() == apex.size()) break;
    }
  }

  // NSEC (RFC 4034 §4.1.1): the chain holds every name with authoritative
  // data or a cut. Each name that joins or leaves it changes the NSEC of
  // the name before it, which is signed again (its other signatures kept).
  auto in_chain_before = [&](std::string_view name) {
    const auto& records = read(name);
    return std::any_of(records.begin(), records.end(), [](const dns::RecordView& r) { return r.type == rr::NSEC; });
  };
  auto in_chain_after = [&](std::string_view name) {
    if (dns::same_name(name, apex)) return true;
    if (const OwnerState* state = changed(name)) return !state->after.empty() && !occluded_after(name);
    return in_chain_before(name);
  };
  // The next (or previous) name in the chain after the change, wrapping round to the apex.
  auto chain_step = [&](std::string_view from, bool forward) -> std::string {
    std::string at(from);
    for (;;) {
      std::optional<std::string> kept = forward ? previous.name_after(at) : previous.name_before(at);
      std::optional<std::string> fresh;
      if (forward) {
        if (auto it = owners.upper_bound(at); it != owners.end()) fresh = it->first;
      } else if (auto it = owners.lower_bound(at); it != owners.begin()) {
        fresh = std::prev(it)->first;
      }
      std::optional<std::string> next = kept;
      if (!kept || (fresh && (dns::canonical_compare(*fresh, *kept) < 0) == forward)) next = fresh;
      if (!next) return apex;
      if (in_chain_after(*next)) return *next;
      at = *next;
    }
  };
  if (!nsec3) {
    if (!in_chain_before(apex)) return decline("the version in service has no NSEC chain");
    std::vector<std::string> relink;
    for (const auto& [owner, state] : owners)
      if (in_chain_before(owner) != in_chain_after(owner)) relink.push_back(chain_step(owner, false));
    for (const auto& owner : relink) state_of(owner);
  }

  // The small zone to sign: the apex (the signer's own records there come
  // from the keys again) and every changed name that still has records.
  Zone part = apex_part(origin, apex, apex_state.after, change.soa);
  for (const auto& [owner, state] : owners)
    for (const auto& r : state.after) part.add(owner, r.type, r.ttl, r.rdata);
  uint32_t serial = prepare_zone(part, keys, options, source, warn);

  const std::optional<ApexDifference> apex_difference = apex_change(apex_held, part, keys);
  if (apex_difference && apex_difference->whole_zone) return decline(apex_difference->what);

  detail::ZoneLayout layout;
  for (const auto& r : part.records_at(0))
    if (r.type == rr::SOA) layout.denial_ttl = denial_ttl(r.ttl, part.rdata(r));
  if (!nsec3) {
    const auto nsec = std::find_if(apex_held.begin(), apex_held.end(),
                                   [](const dns::RecordView& r) { return r.type == rr::NSEC; });
    if (nsec->ttl != layout.denial_ttl)
      return decline("the NSEC TTL changes with the SOA (RFC 9077): every NSEC record changes");
  }
  layout.kinds.assign(part.name_count(), NameKind::authoritative);
  for (size_t i = 1; i < part.name_count(); ++i) {
    auto records = part.records_at(i);
    if (occluded_after(part.name(i))) layout.kinds[i] = NameKind::occluded;
    else if (has_type(records, rr::NS))
      layout.kinds[i] = has_type(records, rr::DS) ? NameKind::secure_delegation : NameKind::insecure_delegation;
  }
  if (!nsec3) {
    layout.nsec_next.resize(part.name_count());
    for (size_t i = 0; i < part.name_count(); ++i)
      if (layout.kinds[i] != NameKind::occluded) layout.nsec_next[i] = chain_step(part.name(i), true);
  }

  SignedChange result;
  for (const auto& [owner, state] : owners) {
    if (state.after.empty() && !state.before.empty()) ++result.names_removed;
    if (!state.after.empty() && state.before.empty()) ++result.names_added;
  }
  if (result.names_removed > result.names_added && result.names_removed - result.names_added > max_net_removed)
    return decline("it removes " + std::to_string(result.names_removed - result.names_added) +
                   " names net, more than the limit of " + std::to_string(max_net_removed));

  // NSEC3 (RFC 5155 §7.1): the ring holds the hash of every name with
  // authoritative data or a cut (opt-out: but insecure ones) and of every
  // empty non-terminal. The changed names and their ancestors are looked at.
  Nsec3Hasher hasher(options.nsec3_salt, policy.nsec3_iterations);
  auto hashed_owner = [&](const Nsec3Hash& hash) {
    std::string owner(1, static_cast<char>(32));  // base32hex of a 20-octet SHA-1 hash
    dns::append_base32hex(owner, hash);
    return owner + apex;
  };
  auto in_ring = [&](const Nsec3Hash& hash) { return !read(hashed_owner(hash)).empty(); };
  auto in_ring_after = [&](const std::string& name) {
    if (occluded_after(name)) return false;
    if (!has_records_after(name)) return names_below_after(name);  // an empty non-terminal, or nothing
    const bool insecure_cut = has_after(name, rr::NS) && !has_after(name, rr::DS);
    return !(insecure_cut && policy.opt_out);
  };
  std::set<Nsec3Hash> added, removed;
  std::map<Nsec3Hash, size_t> rewritten;  // hash -> name index in `part` (SIZE_MAX: an empty non-terminal)
  if (nsec3) {
    std::set<std::string, CanonicalLess> ancestors;
    for (const auto& [owner, state] : owners)
      for (auto p = dns::parent_of(owner); p.size() > apex.size(); p = dns::parent_of(p))
        if (!owners.count(std::string(p))) ancestors.emplace(p);
    auto look_at = [&](const std::string& name, bool owner) {
      Nsec3Hash hash = hasher.hash(name);
      const bool was = in_ring(hash), will = in_ring_after(name);
      if (!was && will) added.insert(hash);
      if (was && !will) removed.insert(hash);
      if (will && (owner || !was)) rewritten[hash] = has_records_after(name) ? part.find_name(name) : SIZE_MAX;
    };
    for (const auto& [owner, state] : owners) look_at(owner, true);
    for (const auto& name : ancestors) look_at(name, false);
    // The apex's own NSEC3 lists its types, the signer's own among them
    // (a CDS that comes or goes with a key event).
    if (!same_records(apex_state.after, apex_state.before) || apex_difference) rewritten[hasher.hash(apex)] = 0;
  }

  std::vector<detail::KeyUse> key_uses = detail::collect_keys(part, keys);
  if (key_uses.empty()) throw std::runtime_error(origin.to_text() + ": no keys to sign with");
  detail::NameSigner signer(part, layout, key_uses, keys, options);
  SignStats& stats = result.stats;
  stats.serial = serial;
  auto take = [&](std::string owner, bool hashed, detail::BatchOutput& out) {
    result.blocks.push_back({std::move(owner), hashed, out.take()});
  };
  // Names (the apex first) in canonical order, the removed ones among them.
  {
    auto name = owners.begin();
    for (size_t i = 0; i <= part.name_count(); ++i) {
      std::string_view next = i < part.name_count() ? part.name(i) : std::string_view();
      for (; name != owners.end() && (next.empty() || dns::canonical_compare(name->first, next) < 0); ++name)
        if (name->second.after.empty()) result.blocks.push_back({name->first, false, {}});
      if (i == part.name_count()) break;
      detail::BatchOutput out(OutputForm::wire, 1024);
      signer.sign_name(i, out, stats);
      take(std::string(part.name(i)), false, out);
      if (name != owners.end() && name->first == next) ++name;
    }
  }

  // The NSEC3 records that change: the changed names' own, and the ring
  // neighbours before every name that joins or leaves it.
  NewRing ring(previous, added, removed);
  std::set<Nsec3Hash> touched(removed.begin(), removed.end());
  for (const auto& [hash, index] : rewritten) touched.insert(hash);
  for (const auto* set : {&added, &removed})
    for (const auto& hash : *set) touched.insert(ring.before(hash));
  for (const auto& hash : change.resign_hashed)
    if (!removed.count(hash)) touched.insert(hash);
  std::vector<uint16_t> types;
  std::vector<uint8_t> rdata;
  for (const auto& hash : touched) {
    std::string owner = hashed_owner(hash);
    if (removed.count(hash)) {
      result.blocks.push_back({owner, true, {}});
      continue;
    }
    auto own = rewritten.find(hash);
    if (own != rewritten.end()) {
      types.clear();
      if (own->second != SIZE_MAX)
        detail::bitmap_types(part.records_at(own->second), layout.kinds[own->second], false, types);
      make_nsec3_rdata(rdata, policy.opt_out, policy.nsec3_iterations, options.nsec3_salt, ring.next(hash), types);
    } else {
      const auto& records = read(owner);
      auto record = std::find_if(records.begin(), records.end(), [](const dns::RecordView& r) { return r.type == rr::NSEC3; });
      if (record == records.end()) throw std::runtime_error(dns::to_text(owner) + ": NSEC3 record missing in the version in service");
      rdata = relinked_nsec3(record->rdata, ring.next(hash));
    }
    detail::BatchOutput out(OutputForm::wire, 512);
    signer.sign_nsec3_record(owner, rdata, out, stats);
    take(owner, true, out);
  }
  stats.names = part.name_count();
  stats.records_in = part.record_count();
  return result;
}

}  // namespace wiresign::signer
