// Signing a change (incremental_sign.h): the changed names are gathered into
// a small zone with the apex, prepared and signed like a whole zone by the
// same NameSigner, and the NSEC3 ring is mended around them.
#include "signer/incremental_sign.h"

#include <algorithm>
#include <map>
#include <set>

#include "dns/base_encoding.h"
#include "dns/rr_type.h"
#include "dns/zone_reader.h"
#include "signer/name_signer.h"

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
  bool cut_before = false;  // NS or DNAME
};

bool has(const std::vector<UnsignedRecord>& records, uint16_t type) {
  return std::any_of(records.begin(), records.end(), [&](const UnsignedRecord& r) { return r.type == type; });
}

bool cuts(const std::vector<UnsignedRecord>& records) { return has(records, rr::NS) || has(records, rr::DNAME); }

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

// Why the apex DNSSEC records `part` (prepared) gets from the keys and the
// policy, or the keys that sign, differ from the version in service's
// (`apex_held`); nullopt when they do not.
std::optional<std::string> apex_change(const std::vector<dns::RecordView>& apex_held, const Zone& part,
                                       const ZoneKeys& keys) {
  for (uint16_t type : {rr::DNSKEY, rr::CDS, rr::CDNSKEY, rr::NSEC3PARAM}) {
    std::vector<dns::RecordView> made;
    for (const auto& r : part.records_at(0))
      if (r.type == type) made.push_back(part.view(r));
    if (apex_set(made, type) != apex_set(apex_held, type))
      return "the apex " + dns::type_name(type) + " RRset changes (keys, NSEC3 parameters or SOA TTLs)";
  }

  // The keys that sign must be those that signed the version in service
  // (a rollover moves every signature, RFC 7583 §3.3).
  for (bool dnskey_role : {true, false}) {
    std::set<std::pair<uint8_t, uint16_t>> signing, signed_before;
    for (const auto& key : dnskey_role ? keys.dnskey_signers : keys.zone_signers)
      signing.emplace(static_cast<uint8_t>(key.algorithm), key.key_tag);
    const uint16_t covered = dnskey_role ? rr::DNSKEY : rr::SOA;
    for (const auto& r : apex_held)
      if (r.type == rr::RRSIG && r.rdata.size() >= 18 && dns::get_u16(r.rdata.data()) == covered)
        signed_before.emplace(r.rdata[2], dns::get_u16(r.rdata.data() + 16));
    if (signing != signed_before) return "the keys that sign change";
  }

  return std::nullopt;
}

// The small zone a change is signed in: the apex of the version in service
// (the signer's own records there come from the keys again) with `soa`.
Zone apex_part(const dns::Name& origin, const std::string& apex, const std::vector<dns::RecordView>& apex_held,
               const UnsignedRecord& soa) {
  Zone part(origin);
  for (const auto& r : apex_held)
    if (!dns::is_dnssec_generated_type(r.type) && r.type != rr::SOA) part.add(apex, r.type, r.ttl, r.rdata);
  part.add(apex, rr::SOA, soa.ttl, soa.rdata);
  return part;
}

}  // namespace

bool same_keys_and_parameters(const SignedVersionView& previous, const dns::Name& origin, const UnsignedRecord& soa,
                              const ZoneKeys& keys, const SignOptions& options, std::string& why) {
  const std::string apex = lower(origin.wire());
  std::vector<dns::RecordView> apex_held;
  previous.records_at(apex, apex_held);
  Zone part = apex_part(origin, apex, apex_held, soa);
  prepare_zone(part, keys, options, "the apex", {});
  std::optional<std::string> change = apex_change(apex_held, part, keys);
  if (change) why = *change;
  return !change;
}

std::optional<SignedChange> sign_change(const SignedVersionView& previous, const dns::Name& origin,
                                        const UnsignedChange& change, const ZoneKeys& keys,
                                        const SignOptions& options, const std::string& source,
                                        const WarningSink& warn, std::string& why_not) {
  auto decline = [&](std::string why) -> std::optional<SignedChange> {
    why_not = std::move(why);
    return std::nullopt;
  };
  const auto& policy = options.policy;
  if (!policy.nsec3)
    return decline("the zone is signed with NSEC; changes are signed incrementally only with NSEC3");
  if (keys.serve_unsigned) return decline("the zone is published unsigned");
  const std::string apex = lower(origin.wire());

  // Each changed owner's records before and after.
  std::map<std::string, OwnerState, CanonicalLess> owners;
  std::vector<dns::RecordView> held;
  auto state_of = [&](const std::string& owner) -> OwnerState* {
    auto [it, fresh] = owners.try_emplace(owner);
    if (fresh) {
      held.clear();
      previous.records_at(owner, held);
      for (const auto& r : held) {
        if (dns::is_dnssec_generated_type(r.type)) continue;
        it->second.before.push_back({std::string(r.owner), r.type, r.ttl, {r.rdata.begin(), r.rdata.end()}});
      }
      it->second.after = it->second.before;
      it->second.cut_before = cuts(it->second.before);
    }
    return &it->second;
  };
  for (const auto* list : {&change.removed, &change.added}) {
    for (const auto& r : *list) {
      if (!dns::is_at_or_below(r.owner, apex))
        throw dns::ZoneFileError(source, 0, "record " + record_text(r) + " is outside the zone " + origin.to_text());
      if (dns::same_name(r.owner, apex)) return decline("the apex changed beyond its SOA (" + record_text(r) + ")");
      OwnerState& state = *state_of(lower(r.owner));
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

  // The small zone to sign: the apex (the signer's own records there come
  // from the keys again) and every changed name that still has records.
  held.clear();
  previous.records_at(apex, held);
  std::vector<dns::RecordView> apex_held = held;
  Zone part = apex_part(origin, apex, apex_held, change.soa);
  for (const auto& [owner, state] : owners)
    for (const auto& r : state.after) part.add(owner, r.type, r.ttl, r.rdata);
  uint32_t serial = prepare_zone(part, keys, options, source, warn);

  if (std::optional<std::string> why = apex_change(apex_held, part, keys)) return decline(*why);

  // What each changed name is now; anything that would change the names
  // around it is left to whole-zone signing.
  detail::ZoneLayout layout;
  layout.kinds.assign(part.name_count(), NameKind::authoritative);
  for (const auto& r : part.records_at(0))
    if (r.type == rr::NSEC3PARAM) layout.denial_ttl = r.ttl;
  Nsec3Hasher hasher(options.nsec3_salt, policy.nsec3_iterations);
  auto hashed_owner = [&](const Nsec3Hash& hash) {
    std::string owner(1, static_cast<char>(32));  // base32hex of a 20-octet SHA-1 hash
    dns::append_base32hex(owner, hash);
    return owner + apex;
  };
  auto in_ring = [&](const Nsec3Hash& hash) {
    held.clear();
    previous.records_at(hashed_owner(hash), held);
    return !held.empty();
  };
  // A cut (RFC 4035 §2.2) or a DNAME (RFC 6672 §2.3) above a name decides
  // what the name is; before or after the change.
  auto cut_at = [&](std::string_view name) {
    auto it = owners.find(std::string(name));
    if (it != owners.end()) return it->second.cut_before || cuts(it->second.after);
    held.clear();
    previous.records_at(name, held);
    return std::any_of(held.begin(), held.end(),
                       [](const dns::RecordView& r) { return r.type == rr::NS || r.type == rr::DNAME; });
  };
  auto has_records_at = [&](std::string_view name) {
    auto it = owners.find(std::string(name));
    if (it != owners.end()) return !it->second.after.empty();
    held.clear();
    previous.records_at(name, held);
    return !held.empty();
  };
  // A name, or an empty non-terminal of the version in service.
  auto exists_at = [&](std::string_view name) {
    return has_records_at(name) || (!owners.count(std::string(name)) && in_ring(hasher.hash(name)));
  };

  std::set<Nsec3Hash> added, removed;
  std::map<Nsec3Hash, size_t> rewritten;  // hash -> name index in `part`
  SignedChange result;
  for (const auto& [owner, state] : owners) {
    for (auto p = dns::parent_of(owner); p.size() > apex.size(); p = dns::parent_of(p))
      if (cut_at(p)) return decline(dns::to_text(owner) + " is below the delegation or DNAME at " + dns::to_text(p));
    const bool delegation_after = has(state.after, rr::NS);
    const bool gone = state.after.empty();
    const bool names_below = (gone || cuts(state.after) != state.cut_before) && previous.has_names_below(owner);
    if (names_below && (state.cut_before || !gone))
      return decline("names below " + dns::to_text(owner) + " change their status");
    // RFC 5155 §7.1: a name whose data goes while names below it stay is an
    // empty non-terminal, with an NSEC3 record whose bitmap is empty.
    const bool becomes_empty_non_terminal = gone && names_below;
    if (gone && !becomes_empty_non_terminal) {
      auto parent = dns::parent_of(owner);
      if (parent.size() > apex.size() && !has_records_at(parent))
        return decline("removing " + dns::to_text(owner) + " may remove the empty non-terminal above it");
    }
    if (!gone && state.before.empty()) {
      for (auto p = dns::parent_of(owner); p.size() > apex.size(); p = dns::parent_of(p))
        if (!exists_at(p)) return decline("adding " + dns::to_text(owner) + " adds the empty non-terminal " + dns::to_text(p));
    }
    NameKind kind = NameKind::authoritative;
    size_t index = SIZE_MAX;
    if (!gone) {
      index = part.find_name(owner);
      if (delegation_after) {
        kind = has(state.after, rr::DS) ? NameKind::secure_delegation : NameKind::insecure_delegation;
        layout.kinds[index] = kind;
      }
    }
    Nsec3Hash hash = hasher.hash(owner);
    const bool was = in_ring(hash);
    const bool will = becomes_empty_non_terminal || (!gone && !(kind == NameKind::insecure_delegation && policy.opt_out));
    if (!was && will) added.insert(hash);
    if (was && !will) removed.insert(hash);
    if (will) rewritten[hash] = index;
    if (gone && !state.before.empty()) ++result.names_removed;
    if (!gone && state.before.empty()) ++result.names_added;
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
      held.clear();
      previous.records_at(owner, held);
      auto nsec3 = std::find_if(held.begin(), held.end(), [](const dns::RecordView& r) { return r.type == rr::NSEC3; });
      if (nsec3 == held.end()) throw std::runtime_error(dns::to_text(owner) + ": NSEC3 record missing in the version in service");
      rdata = relinked_nsec3(nsec3->rdata, ring.next(hash));
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
