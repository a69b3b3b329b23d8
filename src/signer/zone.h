// The zone store: owner names in canonical DNSSEC order (RFC 4034 §6.1) and
// records in wire form in flat arenas, so that a zone of millions of names
// costs tens of bytes per record rather than a graph of objects.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"
#include "dns/record.h"

namespace wiresign::signer {

using WarningSink = std::function<void(const std::string&)>;

struct RecordEntry {
  uint32_t name = 0;  // index into the zone's names; canonical rank once finalized
  uint16_t type = 0;
  uint16_t rdata_length = 0;
  uint32_t ttl = 0;
  uint32_t line = 0;  // where the record came from, for messages (0: made by the signer)
  uint64_t rdata_offset = 0;
};

// True when `records` (one name's) hold an RRset of `type`.
bool has_type(std::span<const RecordEntry> records, uint16_t type);

class Zone {
 public:
  explicit Zone(dns::Name origin);

  // Copies one record in. Before finalize() names may repeat in any order.
  void add(std::string_view owner, uint16_t type, uint32_t ttl, std::span<const uint8_t> rdata,
           int line = 0);
  // Sorts names into canonical order and records by (name, type, RDATA);
  // merges duplicate names and drops duplicate records (RFC 2181 §5).
  void finalize();
  bool finalized() const { return finalized_; }

  const dns::Name& origin() const { return origin_; }
  size_t name_count() const { return names_.size(); }
  std::string_view name(size_t index) const;
  // The records owned by name `index` (finalized zone), sorted by type then RDATA.
  std::span<const RecordEntry> records_at(size_t index) const;
  std::span<RecordEntry> records_at(size_t index);
  std::span<const RecordEntry> records() const { return records_; }
  size_t record_count() const { return records_.size(); }
  std::span<const uint8_t> rdata(const RecordEntry& record) const;
  std::span<uint8_t> rdata(const RecordEntry& record);
  dns::RecordView view(const RecordEntry& record) const;
  // Index of a name in a finalized zone, or SIZE_MAX.
  size_t find_name(std::string_view wire) const;

  // Bytes held by the arenas and indexes (for progress and memory reports).
  size_t memory_bytes() const;

 private:
  struct NameEntry {
    uint64_t offset = 0;
    uint32_t length = 0;
    uint32_t first_record = 0;  // finalized: index of its first record
  };
  dns::Name origin_;
  std::vector<char> name_arena_;
  std::vector<NameEntry> names_;
  std::vector<uint8_t> rdata_arena_;
  std::vector<RecordEntry> records_;
  bool finalized_ = false;
};

// Adds one record of an unsigned input (a file or a transfer from `source`).
// Out-of-zone records and classes other than IN are dns::ZoneFileErrors
// naming `source` and `line`; DNSSEC records (RRSIG, NSEC, NSEC3, NSEC3PARAM,
// DNSKEY) are left out, since the signer makes its own: returns false then.
bool add_input_record(Zone& zone, const dns::RecordView& record, const std::string& source, int line = 0);
// One warning for the DNSSEC records add_input_record left out (none when 0).
void warn_dropped_dnssec_records(const WarningSink& warn, const std::string& source, size_t dropped);

// Reads a master file into a zone, not yet finalized (the signer adds its
// apex records first, to sort only once). Out-of-zone records, classes
// other than IN and syntax errors are errors naming file and line; DNSSEC
// records in the input (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY) are dropped
// with one warning, since the signer makes its own.
Zone load_zone_file(const std::string& path, const dns::Name& origin, const WarningSink& warn);

}  // namespace wiresign::signer
