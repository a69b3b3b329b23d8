// The wire-record index of a signed zone for the self-check: records split by
// offset, owners ordered by ldns (RFC 4034 §6.1), NSEC3 owners decoded from
// base32hex (RFC 4648 §7) into hash order (RFC 5155 §3).
#include "signer/self_check_index.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "dns/record.h"
#include "dns/rr_type.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include <ldns/ldns.h>

namespace wiresign::signer::self_check {
namespace {

namespace rr = dns::rr_type;

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Reads the uncompressed record at `pos` of `wire`; false when malformed.
bool read_record(std::string_view wire, size_t& pos, WireRecord& record, uint16_t& rclass) {
  size_t owner_end = name_end(wire, pos);
  if (owner_end == kNone || owner_end + kFixedFields > wire.size()) return false;
  const auto* fixed = reinterpret_cast<const uint8_t*>(wire.data()) + owner_end;
  record.offset = pos;
  record.owner_length = static_cast<uint16_t>(owner_end - pos);
  record.type = dns::get_u16(fixed);
  rclass = dns::get_u16(fixed + 2);
  record.rdata_length = dns::get_u16(fixed + 8);
  size_t end = owner_end + kFixedFields + record.rdata_length;
  if (end > wire.size()) return false;
  if (record.type == rr::RRSIG) {
    if (record.rdata_length <= kRrsigFixed) return false;
    record.covered = dns::get_u16(fixed + kFixedFields);
  }
  pos = end;
  return true;
}

void make_runs(const ZoneIndex& index, Side& side) {
  side.runs.clear();
  for (size_t i = 0; i < side.records.size(); ++i) {
    if (i == 0 || !dns::same_name(index.owner(side.records[i]), index.owner(side.records[i - 1])))
      side.runs.push_back({static_cast<uint32_t>(i), 0});
    ++side.runs.back().count;
  }
}

// The signer writes names in canonical order, so checking the order is the
// common case; anything else is sorted (stably, so each RRset keeps its order).
void order_names(ZoneIndex& index) {
  Side& side = index.names;
  make_runs(index, side);
  bool ordered = true;
  for (size_t i = 1; i < side.runs.size() && ordered; ++i)
    ordered = compare_names(index.owner(side, i - 1), index.owner(side, i)) < 0;
  if (ordered) return;
  std::stable_sort(side.records.begin(), side.records.end(), [&](const WireRecord& a, const WireRecord& b) {
    return compare_names(index.owner(a), index.owner(b)) < 0;
  });
  make_runs(index, side);
}

// NSEC3 owners are one base32hex hash label directly below the apex (RFC 5155
// §3); records owned by anything else are reported and left out of the ring.
void order_hashed(ZoneIndex& index, const dns::Name& origin, Problems& problems) {
  Side& side = index.hashed;
  const std::string& apex = origin.wire();
  auto owner_hash = [&](const WireRecord& r, Hash& hash) {
    std::string_view owner = index.owner(r);
    return owner.size() == 1 + kHashLabel + apex.size() && static_cast<uint8_t>(owner[0]) == kHashLabel &&
           dns::same_name(owner.substr(1 + kHashLabel), apex) && decode_hash_label(owner.substr(1, kHashLabel), hash);
  };
  // An owner's records share one hash: decode it once per run.
  auto hash_runs = [&] {
    make_runs(index, side);
    index.hashes.resize(side.runs.size());
    bool valid = true;
    for (size_t k = 0; k < side.runs.size(); ++k) {
      if (owner_hash(side.records[side.runs[k].first], index.hashes[k])) continue;
      problems.add(describe(index.owner(side, k), rr::NSEC3) + ": owner is not a hash label directly below the apex");
      valid = false;
    }
    return valid;
  };
  Hash hash{};
  if (!hash_runs()) {
    std::erase_if(side.records, [&](const WireRecord& r) { return !owner_hash(r, hash); });
    hash_runs();
  }
  if (std::adjacent_find(index.hashes.begin(), index.hashes.end(), std::greater_equal<>()) == index.hashes.end())
    return;
  std::vector<std::pair<Hash, uint32_t>> keyed(side.records.size());
  for (size_t i = 0; i < side.records.size(); ++i) {
    owner_hash(side.records[i], keyed[i].first);
    keyed[i].second = static_cast<uint32_t>(i);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<WireRecord> sorted;
  sorted.reserve(keyed.size());
  for (const auto& entry : keyed) sorted.push_back(side.records[entry.second]);
  side.records = std::move(sorted);
  hash_runs();
}

}  // namespace

ldns_rdf dname_rdf(std::string_view wire) {
  ldns_rdf rdf{};
  ldns_rdf_set_size(&rdf, wire.size());
  ldns_rdf_set_type(&rdf, LDNS_RDF_TYPE_DNAME);
  ldns_rdf_set_data(&rdf, const_cast<char*>(wire.data()));
  return rdf;
}

int compare_names(std::string_view a, std::string_view b) {
  ldns_rdf ra = dname_rdf(a), rb = dname_rdf(b);
  return ldns_dname_compare(&ra, &rb);
}

size_t name_end(std::string_view wire, size_t pos) {
  const size_t start = pos;
  while (pos < wire.size()) {
    auto length = static_cast<uint8_t>(wire[pos]);
    if (length == 0) return pos + 1 - start <= 255 ? pos + 1 : kNone;
    if (length > 63) return kNone;  // a compression pointer has no place here
    pos += 1 + length;
  }
  return kNone;
}

bool decode_hash_label(std::string_view text, Hash& hash) {
  if (text.size() != kHashLabel) return false;
  unsigned bits = 0, accumulator = 0;
  size_t out = 0;
  for (char c : text) {
    unsigned value;
    c = dns::ascii_lower(c);
    if (c >= '0' && c <= '9') value = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'v') value = static_cast<unsigned>(c - 'a' + 10);
    else return false;
    accumulator = (accumulator << 5 | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      hash[out++] = static_cast<uint8_t>(accumulator >> bits);
    }
  }
  return true;
}

std::string time_text(uint32_t seconds) {
  time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

std::string describe(std::string_view owner, uint16_t type) { return dns::to_text(owner) + " " + dns::type_name(type); }

std::string rrsig_text(std::span<const uint8_t> rdata) {
  return "RRSIG (key " + std::to_string(dns::get_u16(rdata.data() + 16)) + ", algorithm " +
         std::to_string(rdata[2]) + ")";
}

bool index_zone(ZoneIndex& index, const dns::Name& origin, Problems& problems) {
  std::string_view wire = index.wire();
  index.names.records.reserve(wire.size() / 64);
  size_t pos = 0;
  while (pos < wire.size()) {
    const size_t start = pos;
    WireRecord record;
    uint16_t rclass = 0;
    if (!read_record(wire, pos, record, rclass)) {
      problems.add(origin.to_text() + ": malformed record at octet " + std::to_string(start) + " of the signed zone");
      return false;
    }
    if (rclass != dns::kClassIN)
      problems.add(describe(index.owner(record), record.type) + ": class " + std::to_string(rclass) + ", not IN");
    bool hashed = record.type == rr::NSEC3 || (record.type == rr::RRSIG && record.covered == rr::NSEC3);
    (hashed ? index.hashed : index.names).records.push_back(record);
  }
  order_names(index);
  order_hashed(index, origin, problems);
  return true;
}

size_t find_name(const ZoneIndex& index, std::string_view owner) {
  const Side& side = index.names;
  size_t low = 0, high = side.runs.size();
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (compare_names(index.owner(side, middle), owner) < 0) low = middle + 1;
    else high = middle;
  }
  return low < side.runs.size() && compare_names(index.owner(side, low), owner) == 0 ? low : kNone;
}

VerifyPlan plan_all(const ZoneIndex& index) {
  VerifyPlan plan;
  plan.all = true;
  for (bool on_hashed_side : {false, true}) {
    const Side& side = on_hashed_side ? index.hashed : index.names;
    for (size_t k = 0; k < side.runs.size(); ++k)
      for (uint32_t i = side.runs[k].first; i < side.runs[k].first + side.runs[k].count; ++i)
        if (side.records[i].type == rr::RRSIG) plan.jobs.push_back({static_cast<uint32_t>(k), i, on_hashed_side});
  }
  return plan;
}

VerifyPlan plan_listed(const ZoneIndex& index, const std::vector<std::string_view>& list, Problems& problems) {
  VerifyPlan plan;
  plan.names.assign(index.names.records.size(), false);
  plan.hashed.assign(index.hashed.records.size(), false);
  for (size_t n = 0; n < list.size(); ++n) {
    std::string_view entry = list[n];
    size_t pos = 0;
    WireRecord listed;
    uint16_t rclass = 0;
    if (!read_record(entry, pos, listed, rclass) || pos != entry.size() || listed.type != rr::RRSIG) {
      problems.add("entry " + std::to_string(n) + " of the RRSIGs to check is not one RRSIG record in wire form");
      continue;
    }
    std::string_view owner = entry.substr(0, listed.owner_length);
    auto rdata = as_bytes(entry.substr(listed.owner_length + kFixedFields));
    const bool on_hashed_side = listed.covered == rr::NSEC3;
    const Side& side = on_hashed_side ? index.hashed : index.names;
    size_t run = kNone;
    Hash hash{};
    if (!on_hashed_side) {
      run = find_name(index, owner);
    } else if (owner.size() > kHashLabel && decode_hash_label(owner.substr(1, kHashLabel), hash)) {
      auto it = std::lower_bound(index.hashes.begin(), index.hashes.end(), hash);
      if (it != index.hashes.end() && *it == hash && dns::same_name(index.owner(side, it - index.hashes.begin()), owner))
        run = static_cast<size_t>(it - index.hashes.begin());
    }
    size_t found = kNone;
    if (run != kNone) {
      for (size_t i = side.runs[run].first; i < side.runs[run].first + side.runs[run].count; ++i)
        if (side.records[i].type == rr::RRSIG && std::ranges::equal(index.rdata(side.records[i]), rdata)) found = i;
    }
    if (found == kNone) {
      problems.add(describe(owner, listed.covered) + ": " + rrsig_text(rdata) +
                   " made by this signing is not in the zone");
      continue;
    }
    plan.jobs.push_back({static_cast<uint32_t>(run), static_cast<uint32_t>(found), on_hashed_side});
    (on_hashed_side ? plan.hashed : plan.names)[found] = true;
  }
  std::sort(plan.jobs.begin(), plan.jobs.end());
  plan.jobs.erase(std::unique(plan.jobs.begin(), plan.jobs.end()), plan.jobs.end());
  return plan;
}

}  // namespace wiresign::signer::self_check
