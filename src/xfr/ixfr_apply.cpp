// Applying IXFR diffs (RFC 1995 §4) to the records we hold.
#include <optional>
#include <unordered_map>
#include <utility>

#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "xfr/inbound.h"

namespace wiresign::xfr {
namespace {

uint32_t soa_serial(const Record& soa, const std::string& where) {
  size_t pos = dns::soa_serial_offset(soa.rdata);
  if (pos + 4 > soa.rdata.size()) throw MessageError(where + ": SOA RDATA too short to hold a serial");
  return dns::get_u32(soa.rdata.data() + pos);
}

// Records as IXFR matches them: owner in any case, type, class, RDATA octets;
// not the TTL.
bool same_record(const Record& a, const Record& b) {
  return a.type == b.type && a.rclass == b.rclass && a.rdata == b.rdata && dns::same_name(a.owner, b.owner);
}

// FNV-1a over what same_record compares.
uint64_t record_hash(const Record& r) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](uint8_t octet) { hash = (hash ^ octet) * 1099511628211ull; };
  for (char c : r.owner) mix(static_cast<uint8_t>(dns::ascii_lower(c)));
  for (uint16_t v : {r.type, r.rclass}) {
    mix(static_cast<uint8_t>(v >> 8));
    mix(static_cast<uint8_t>(v));
  }
  for (uint8_t octet : r.rdata) mix(octet);
  return hash;
}

std::string record_text(const Record& r) {
  std::string text = dns::to_text(r.owner) + " " + dns::type_name(r.type) + " ";
  dns::append_rdata_text(text, r.type, r.rdata);
  return text;
}

// What the diffs do to one record they name.
struct Touched {
  const Record* latest = nullptr;  // its last addition, whose TTL it keeps
  bool present = false;            // in the zone at the current step
  bool emitted = false;
};

// The distinct records the diffs name: few, so a hash index over them (rather
// than over a zone of millions) is what lets one pass over the zone find them.
class TouchedRecords {
 public:
  // The slot of `record`, a new one when it is not named yet.
  size_t slot(const Record& record) {
    uint64_t hash = record_hash(record);
    if (auto found = find(record, hash)) return *found;
    index_.emplace(hash, std::make_pair(&record, touched_.size()));
    touched_.emplace_back();
    return touched_.size() - 1;
  }
  std::optional<size_t> find(const Record& record) const { return find(record, record_hash(record)); }
  Touched& operator[](size_t slot) { return touched_[slot]; }
  std::vector<Touched>& all() { return touched_; }

 private:
  std::optional<size_t> find(const Record& record, uint64_t hash) const {
    auto [begin, end] = index_.equal_range(hash);
    for (auto it = begin; it != end; ++it)
      if (same_record(*it->second.first, record)) return it->second.second;
    return std::nullopt;
  }
  std::unordered_multimap<uint64_t, std::pair<const Record*, size_t>> index_;
  std::vector<Touched> touched_;
};

}  // namespace

std::vector<Record> apply_ixfr(const std::vector<Record>& zone, const std::vector<IxfrDiff>& diffs) {
  if (zone.empty() || zone.front().type != dns::rr_type::SOA)
    throw MessageError("IXFR: the zone's records do not start with its SOA");
  const std::string origin = dns::to_text(zone.front().owner);
  if (diffs.empty()) return zone;

  // The records the diffs name, in the order they name them.
  TouchedRecords touched;
  std::vector<size_t> slots;
  size_t added_count = 0;
  for (const auto& diff : diffs) {
    for (const auto* list : {&diff.removed, &diff.added}) {
      for (const auto& record : *list) {
        if (record.type == dns::rr_type::SOA)
          throw MessageError(origin + ": IXFR diff carries an SOA among its records (" + record_text(record) + ")");
        slots.push_back(touched.slot(record));
      }
    }
    added_count += diff.added.size();
  }

  // One pass over the zone: which of those records it holds, and where.
  std::vector<std::pair<size_t, size_t>> found;  // zone index, slot
  for (size_t i = 1; i < zone.size(); ++i) {
    if (auto slot = touched.find(zone[i])) {
      found.emplace_back(i, *slot);
      touched[*slot].present = true;
    }
  }

  uint32_t serial = soa_serial(zone.front(), origin + ": zone");
  size_t next_slot = 0;
  for (const auto& diff : diffs) {
    const uint32_t from = soa_serial(diff.old_soa, origin + ": IXFR");
    const uint32_t to = soa_serial(diff.new_soa, origin + ": IXFR");
    if (from != serial)
      throw MessageError(origin + ": IXFR diff from serial " + std::to_string(from) + " to " + std::to_string(to) +
                         " does not apply to the zone at serial " + std::to_string(serial));
    const std::string step = origin + ": IXFR serial " + std::to_string(from) + " to " + std::to_string(to);
    for (const auto& record : diff.removed) {
      Touched& t = touched[slots[next_slot++]];
      if (!t.present) throw MessageError(step + " removes a record that is not in the zone (" + record_text(record) + ")");
      t.present = false;
    }
    for (const auto& record : diff.added) {
      Touched& t = touched[slots[next_slot++]];
      if (t.present) throw MessageError(step + " adds a record already in the zone (" + record_text(record) + ")");
      t.present = true;
      t.latest = &record;
    }
    serial = to;
  }

  // The zone's records in their order, those the diffs touched as the diffs
  // leave them, then the records the diffs brought in.
  std::vector<Record> records;
  records.reserve(zone.size() + added_count);
  records.push_back(diffs.back().new_soa);
  auto next_found = found.begin();
  for (size_t i = 1; i < zone.size(); ++i) {
    if (next_found == found.end() || next_found->first != i) {
      records.push_back(zone[i]);
      continue;
    }
    Touched& t = touched[(next_found++)->second];
    if (t.present && !t.emitted) records.push_back(t.latest ? *t.latest : zone[i]);
    t.emitted = true;
  }
  for (Touched& t : touched.all())
    if (t.present && !t.emitted) records.push_back(*t.latest);
  return records;
}

}  // namespace wiresign::xfr
