// Rejecting zones that cannot be served correctly, with the file and line
// of the record at fault; fixing the one thing RFC 2181 §5.2 says to fix.
#include "signer/zone_checks.h"

#include <algorithm>

#include "dns/rr_type.h"
#include "dns/zone_reader.h"

namespace wiresign::signer {
namespace {

std::string describe(const Zone& zone, const RecordEntry& record) {
  return dns::to_text(zone.name(record.name)) + " " + dns::type_name(record.type);
}

[[noreturn]] void fail(const std::string& file, const RecordEntry& record, const std::string& what) {
  throw dns::ZoneFileError(file, static_cast<int>(record.line), what);
}

void check_apex(const Zone& zone, const std::string& file) {
  const std::string origin = zone.origin().to_text();
  // Without a SOA the error points at the first record, where one belongs.
  int first_line = 0;
  for (const auto& record : zone.records())
    if (record.line && (first_line == 0 || static_cast<int>(record.line) < first_line))
      first_line = static_cast<int>(record.line);
  if (zone.name_count() == 0 || zone.name(0) != zone.origin().wire())
    throw dns::ZoneFileError(file, first_line, "no SOA record at the apex " + origin);
  auto apex = zone.records_at(0);
  auto soa = std::find_if(apex.begin(), apex.end(), [](const RecordEntry& r) { return r.type == dns::rr_type::SOA; });
  size_t soa_count = std::count_if(apex.begin(), apex.end(),
                                   [](const RecordEntry& r) { return r.type == dns::rr_type::SOA; });
  if (soa_count == 0) throw dns::ZoneFileError(file, first_line, "no SOA record at the apex " + origin);
  if (soa_count > 1) {
    auto second = std::find_if(apex.begin(), apex.end(),
                               [](const RecordEntry& r) { return r.type == dns::rr_type::SOA; }) + 1;
    fail(file, *second, "a second SOA record at the apex " + origin + "; a zone has exactly one");
  }
  if (!has_type(apex, dns::rr_type::NS))
    fail(file, *soa, "no NS records at the apex " + origin);
  for (const auto& record : apex)
    if (record.type == dns::rr_type::DS)
      fail(file, record, "DS record at the apex " + origin + " belongs in the parent zone");
}

void check_name(const Zone& zone, size_t index, const std::string& file) {
  auto records = zone.records_at(index);
  const RecordEntry* cname = nullptr;
  for (const auto& record : records) {
    if (record.type != dns::rr_type::CNAME) continue;
    if (cname) fail(file, record, "more than one CNAME at " + dns::to_text(zone.name(index)));
    cname = &record;
  }
  if (cname && records.size() > 1) {
    const auto& other = records[0].type == dns::rr_type::CNAME ? records[1] : records[0];
    fail(file, *cname,
         "CNAME and other data at " + dns::to_text(zone.name(index)) + " (also " +
             dns::type_name(other.type) + " at line " + std::to_string(other.line) + ")");
  }
  for (const auto& record : records) {
    if (index != 0 && record.type == dns::rr_type::SOA)
      fail(file, record, "SOA record at " + dns::to_text(zone.name(index)) + ", which is not the apex");
    if (index != 0 && record.type == dns::rr_type::DS && !has_type(records, dns::rr_type::NS))
      fail(file, record, "DS record at " + dns::to_text(zone.name(index)) + ", which is not a delegation (no NS)");
  }
}

// RFC 2181 §5.2: treat the RRset as if every TTL were the lowest one.
void normalise_ttls(Zone& zone, size_t index, const std::string& file, const WarningSink& warn) {
  auto records = zone.records_at(index);
  size_t begin = 0;
  while (begin < records.size()) {
    size_t end = begin + 1;
    uint32_t lowest = records[begin].ttl, highest = records[begin].ttl;
    while (end < records.size() && records[end].type == records[begin].type) {
      lowest = std::min(lowest, records[end].ttl);
      highest = std::max(highest, records[end].ttl);
      ++end;
    }
    if (lowest != highest) {
      for (size_t i = begin; i < end; ++i) records[i].ttl = lowest;
      if (warn)
        warn(file + ":" + std::to_string(records[begin].line) + ": RRset " + describe(zone, records[begin]) +
             " has records with TTLs from " + std::to_string(lowest) + " to " + std::to_string(highest) +
             "; all set to " + std::to_string(lowest) + " (RFC 2181 §5.2)");
    }
    begin = end;
  }
}

}  // namespace

void check_zone(Zone& zone, const std::string& file, const WarningSink& warn) {
  check_apex(zone, file);
  std::string_view dname_owner;  // the DNAME whose subtree we are in, if any
  for (size_t i = 0; i < zone.name_count(); ++i) {
    std::string_view name = zone.name(i);
    if (!dname_owner.empty() && name != dname_owner && dns::is_at_or_below(name, dname_owner))
      fail(file, zone.records_at(i)[0],
           "record " + describe(zone, zone.records_at(i)[0]) + " is below the DNAME at " +
               dns::to_text(dname_owner) + " (RFC 6672 §2.3 forbids data there)");
    if (has_type(zone.records_at(i), dns::rr_type::DNAME)) dname_owner = name;
    check_name(zone, i, file);
    normalise_ttls(zone, i, file, warn);
  }
}

}  // namespace wiresign::signer
