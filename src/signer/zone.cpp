// Building the zone store: records are appended as read, then sorted once
// into canonical order (RFC 4034 §6.1 for names, §6.3 for RDATA).
#include "signer/zone.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "dns/rr_type.h"
#include "dns/zone_reader.h"

namespace wiresign::signer {

bool has_type(std::span<const RecordEntry> records, uint16_t type) {
  return std::any_of(records.begin(), records.end(), [&](const RecordEntry& r) { return r.type == type; });
}

Zone::Zone(dns::Name origin) : origin_(std::move(origin)) {}

void Zone::add(std::string_view owner, uint16_t type, uint32_t ttl, std::span<const uint8_t> rdata,
               int line) {
  // Master files list a name's records together: reuse the last name when it repeats.
  uint32_t name_index;
  if (!names_.empty() && !finalized_ &&
      std::string_view(name_arena_.data() + names_.back().offset, names_.back().length) == owner) {
    name_index = static_cast<uint32_t>(names_.size() - 1);
  } else {
    NameEntry entry;
    entry.offset = name_arena_.size();
    entry.length = static_cast<uint32_t>(owner.size());
    name_arena_.insert(name_arena_.end(), owner.begin(), owner.end());
    dns::lowercase_name(name_arena_.data() + entry.offset, owner.size());
    name_index = static_cast<uint32_t>(names_.size());
    names_.push_back(entry);
    finalized_ = false;
  }
  RecordEntry record;
  record.name = name_index;
  record.type = type;
  record.ttl = ttl;
  record.line = static_cast<uint32_t>(line);
  record.rdata_offset = rdata_arena_.size();
  record.rdata_length = static_cast<uint16_t>(rdata.size());
  rdata_arena_.insert(rdata_arena_.end(), rdata.begin(), rdata.end());
  records_.push_back(record);
  finalized_ = false;
}

void Zone::finalize() {
  // 1. Order the names: sort by a memcmp-able canonical key, then merge repeats.
  std::vector<std::string> keys(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) keys[i] = dns::canonical_sort_key(name(i));
  std::vector<uint32_t> order(names_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });

  std::vector<uint32_t> rank(names_.size());
  std::vector<NameEntry> sorted_names;
  sorted_names.reserve(names_.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || keys[order[i]] != keys[order[i - 1]]) sorted_names.push_back(names_[order[i]]);
    rank[order[i]] = static_cast<uint32_t>(sorted_names.size() - 1);
  }
  keys.clear();
  keys.shrink_to_fit();
  for (auto& record : records_) record.name = rank[record.name];
  names_ = std::move(sorted_names);

  // 2. Order the records by name rank, type, then RDATA as octet strings.
  auto rdata_less = [&](const RecordEntry& a, const RecordEntry& b) {
    int c = std::memcmp(rdata_arena_.data() + a.rdata_offset, rdata_arena_.data() + b.rdata_offset,
                        std::min(a.rdata_length, b.rdata_length));
    return c != 0 ? c < 0 : a.rdata_length < b.rdata_length;
  };
  std::sort(records_.begin(), records_.end(), [&](const RecordEntry& a, const RecordEntry& b) {
    if (a.name != b.name) return a.name < b.name;
    if (a.type != b.type) return a.type < b.type;
    return rdata_less(a, b);
  });
  auto same = [&](const RecordEntry& a, const RecordEntry& b) {
    return a.name == b.name && a.type == b.type && !rdata_less(a, b) && !rdata_less(b, a);
  };
  records_.erase(std::unique(records_.begin(), records_.end(), same), records_.end());

  // 3. Index each name's first record.
  size_t r = 0;
  for (size_t n = 0; n < names_.size(); ++n) {
    while (r < records_.size() && records_[r].name < n) ++r;
    names_[n].first_record = static_cast<uint32_t>(r);
  }
  finalized_ = true;
}

std::string_view Zone::name(size_t index) const {
  const NameEntry& entry = names_[index];
  return {name_arena_.data() + entry.offset, entry.length};
}

std::span<const RecordEntry> Zone::records_at(size_t index) const {
  size_t begin = names_[index].first_record;
  size_t end = index + 1 < names_.size() ? names_[index + 1].first_record : records_.size();
  return {records_.data() + begin, end - begin};
}

std::span<RecordEntry> Zone::records_at(size_t index) {
  size_t begin = names_[index].first_record;
  size_t end = index + 1 < names_.size() ? names_[index + 1].first_record : records_.size();
  return {records_.data() + begin, end - begin};
}

std::span<const uint8_t> Zone::rdata(const RecordEntry& record) const {
  return {rdata_arena_.data() + record.rdata_offset, record.rdata_length};
}

std::span<uint8_t> Zone::rdata(const RecordEntry& record) {
  return {rdata_arena_.data() + record.rdata_offset, record.rdata_length};
}

dns::RecordView Zone::view(const RecordEntry& record) const {
  return {name(record.name), record.type, dns::kClassIN, record.ttl, rdata(record)};
}

size_t Zone::find_name(std::string_view wire) const {
  std::string key = dns::canonical_sort_key(wire);
  size_t lo = 0, hi = names_.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (dns::canonical_sort_key(name(mid)) < key) lo = mid + 1;
    else hi = mid;
  }
  if (lo < names_.size() && dns::canonical_sort_key(name(lo)) == key) return lo;
  return SIZE_MAX;
}

size_t Zone::memory_bytes() const {
  return name_arena_.capacity() + names_.capacity() * sizeof(NameEntry) + rdata_arena_.capacity() +
         records_.capacity() * sizeof(RecordEntry);
}

bool add_input_record(Zone& zone, const dns::RecordView& record, const std::string& source, int line) {
  const dns::Name& origin = zone.origin();
  if (!dns::is_at_or_below(record.owner, origin.wire()))
    throw dns::ZoneFileError(source, line,
                             "record " + dns::to_text(record.owner) + " " + dns::type_name(record.type) +
                                 " is outside the zone " + origin.to_text());
  if (record.rclass != dns::kClassIN)
    throw dns::ZoneFileError(source, line,
                             "record " + dns::to_text(record.owner) + " " + dns::type_name(record.type) +
                                 " has class " + std::to_string(record.rclass) + "; only IN is signed");
  if (dns::is_dnssec_generated_type(record.type)) return false;
  zone.add(record.owner, record.type, record.ttl, record.rdata, line);
  return true;
}

void warn_dropped_dnssec_records(const WarningSink& warn, const std::string& source, size_t dropped) {
  if (dropped && warn)
    warn(source + ": dropped " + std::to_string(dropped) +
         " DNSSEC records from the input (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY, CDS, CDNSKEY); the signer makes "
         "its own");
}

Zone load_zone_file(const std::string& path, const dns::Name& origin, const WarningSink& warn) {
  dns::ZoneReader reader(path, origin);
  Zone zone(origin);
  dns::ParsedRecord record;
  size_t dropped = 0;
  while (reader.next(record)) {
    dns::RecordView view{record.owner, record.type, record.rclass, record.ttl, record.rdata};
    if (!add_input_record(zone, view, path, record.line)) ++dropped;
  }
  warn_dropped_dnssec_records(warn, path, dropped);
  return zone;
}

}  // namespace wiresign::signer
