// A published signed zone held in memory, as the outbound side serves it:
// the records in wire form in one buffer, indexed by owner name, so that SOA
// and exact-match queries and AXFR (RFC 5936) read from it without copies.
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"
#include "dns/record.h"

namespace wiresign::xfr {

// One owner's records in a new version (in SignedZone's wire form; empty:
// the owner is gone), for SignedZone::with_owners.
struct OwnerRecords {
  std::string_view owner;  // wire, lower case
  bool hashed = false;     // an NSEC3 owner: in the run the signer writes last, in hash order
  std::string_view records;
};

class SignedZone {
 public:
  // `records` is sign_zone's output in OutputForm::wire: uncompressed
  // records one after another. Throws std::runtime_error when it is not
  // well-formed or has no SOA at the apex.
  SignedZone(dns::Name origin, std::string records);

  const dns::Name& origin() const { return origin_; }
  uint32_t serial() const { return serial_; }
  size_t record_count() const { return entries_.size(); }
  const dns::RecordView& soa() const { return soa_; }
  // All records, SOA included, as one uncompressed wire buffer (the form
  // the zone was built from), and record `index`'s slice of it.
  const std::string& wire() const { return bytes_; }
  std::string_view record_wire(size_t index) const {
    const Entry& e = entries_[index];
    return std::string_view(bytes_).substr(e.owner_offset, e.rdata_offset + e.rdata_length - e.owner_offset);
  }
  bool is_soa(size_t index) const { return index == soa_index_; }
  dns::RecordView record(size_t index) const { return view(index); }
  // How many records of `type` the zone holds.
  size_t count_of(uint16_t type) const;
  // The records [first, last) owned by `owner` (lower case, wire), if any.
  std::optional<std::pair<uint32_t, uint32_t>> owner_range(std::string_view owner) const;
  // Calls visit(owner, first, last) for each owner's records, in zone order.
  template <typename F>
  void for_each_owner(F&& visit) const {
    for (size_t k = 0; k + 1 < owner_starts_.size(); ++k)
      visit(owner_of(owner_starts_[k]), owner_starts_[k], owner_starts_[k + 1]);
  }

  // Whether a name (not an NSEC3 owner) lies below `owner`.
  bool has_names_below(std::string_view owner) const;
  // The NSEC3 owners, which the signer writes after every other name in
  // hash order: the first whose hash label (base32hex, lower case) sorts
  // after `label` (empty: the first of all), or the last before it (empty:
  // the last of all).
  std::optional<std::string_view> hashed_owner_after(std::string_view label) const;
  std::optional<std::string_view> hashed_owner_before(std::string_view label) const;

  // This version with the records of each of `owners` replaced (a change
  // signed incrementally): the others are copied as they are, in place.
  // `owners` must be in zone order. Throws like the constructor.
  SignedZone with_owners(const std::vector<OwnerRecords>& owners) const;

  // The RRset of `type` at `owner` (any case), then, when `with_rrsigs`, the
  // RRSIGs that cover it. Empty when there is none.
  std::vector<dns::RecordView> lookup(std::string_view owner, uint16_t type, bool with_rrsigs) const;
  // Every record except the apex SOA, in the order they were signed.
  template <typename F>
  void for_each_record_but_soa(F&& visit) const {
    for (size_t i = 0; i < entries_.size(); ++i)
      if (i != soa_index_) visit(view(i));
  }

 private:
  struct Entry {
    uint32_t owner_offset;
    uint16_t owner_length;
    uint16_t type;
    uint32_t ttl;
    uint32_t rdata_offset;
    uint16_t rdata_length;
  };
  dns::RecordView view(size_t index) const;
  std::string_view owner_of(size_t index) const {
    return std::string_view(bytes_).substr(entries_[index].owner_offset, entries_[index].owner_length);
  }
  // The ordinal of `owner` (any case) among owner_starts_, or -1.
  int64_t find_owner(std::string_view owner) const;
  size_t owner_count() const { return owner_starts_.size() - 1; }
  std::string_view owner_at(size_t ordinal) const { return owner_of(owner_starts_[ordinal]); }
  // Where owner `ordinal`'s records begin in bytes_ (owner_count(): the end).
  size_t owner_offset(size_t ordinal) const {
    return ordinal < owner_count() ? entries_[owner_starts_[ordinal]].owner_offset : bytes_.size();
  }
  // The first ordinal in the run `owners` belongs to whose owner sorts at or after it.
  size_t lower_bound(std::string_view owner, bool hashed) const;

  dns::Name origin_;
  std::string bytes_;
  std::vector<Entry> entries_;
  // The owner index, about 12 octets an owner (a hash map of strings took
  // over 100, which for a 1,000,000-name NSEC3 zone was 250 MB a version):
  // the first record of each owner in zone order, then entries_.size(); and
  // an open-addressing table of owner ordinals + 1 (0: empty) by a
  // case-insensitive hash of the owner.
  std::vector<uint32_t> owner_starts_;
  std::vector<uint32_t> owner_table_;
  size_t hashed_start_ = 0;  // the ordinal of the first NSEC3 owner (owner_count() when none)
  size_t soa_index_ = 0;
  dns::RecordView soa_;
  uint32_t serial_ = 0;
};

}  // namespace wiresign::xfr
