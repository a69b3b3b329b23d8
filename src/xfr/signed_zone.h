// A published signed zone held in memory, as the outbound side serves it:
// the records in wire form, in segments of a few thousand owners that
// versions share, so that SOA and exact-match queries and AXFR (RFC 5936)
// read from it without copies, and a change makes a new version by
// replacing only the segments it touches (copy on write).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  // records, owners in canonical order (RFC 4034 §6.1), then the NSEC3
  // owners in hash order. Throws std::runtime_error when it is not
  // well-formed, not in that order, or has no SOA at the apex.
  SignedZone(dns::Name origin, std::string records);

  const dns::Name& origin() const { return origin_; }
  uint32_t serial() const { return serial_; }
  size_t record_count() const { return first_record_.back(); }
  const dns::RecordView& soa() const { return soa_; }
  // All records, SOA included, in order: the pieces to write one after another.
  std::vector<std::string_view> wire_pieces() const;
  size_t wire_size() const;
  // The same as one buffer: a view of the zone's own when it was built
  // whole (no copy), else a copy in `scratch`.
  std::string_view wire(std::string& scratch) const;
  std::string_view record_wire(size_t index) const;
  bool is_soa(size_t index) const { return index == soa_index_; }
  dns::RecordView record(size_t index) const;
  // How many records of `type` the zone holds.
  size_t count_of(uint16_t type) const;
  // The records [first, last) owned by `owner` (any case), if any.
  std::optional<std::pair<uint32_t, uint32_t>> owner_range(std::string_view owner) const;
  // Calls visit(owner, first, last) for each owner's records, in zone order.
  template <typename F>
  void for_each_owner(F&& visit) const {
    for (size_t s = 0; s < segments_.size(); ++s) {
      const Segment& segment = *segments_[s];
      const auto base = static_cast<uint32_t>(first_record_[s]);
      for (size_t k = 0; k + 1 < segment.owner_starts.size(); ++k)
        visit(segment.owner_of(segment.owner_starts[k]), base + segment.owner_starts[k],
              base + segment.owner_starts[k + 1]);
    }
  }

  // Whether a name (not an NSEC3 owner) lies below `owner`.
  bool has_names_below(std::string_view owner) const;
  // The names (not NSEC3 owners) in canonical order: the first that sorts
  // after `owner`, or the last before it (`owner` need not be in the zone).
  std::optional<std::string_view> name_after(std::string_view owner) const;
  std::optional<std::string_view> name_before(std::string_view owner) const;
  // The NSEC3 owners, which the signer writes after every other name in
  // hash order: the first whose hash label (base32hex, lower case) sorts
  // after `label` (empty: the first of all), or the last before it (empty: the last of all).
  std::optional<std::string_view> hashed_owner_after(std::string_view label) const;
  std::optional<std::string_view> hashed_owner_before(std::string_view label) const;

  // This version with the records of each of `owners` replaced (a change
  // signed incrementally): segments it does not touch are shared, not
  // copied. `owners` must be in zone order. Throws like the constructor.
  SignedZone with_owners(const std::vector<OwnerRecords>& owners) const;

  // The RRset of `type` at `owner` (any case), then, when `with_rrsigs`, the
  // RRSIGs that cover it. Empty when there is none.
  std::vector<dns::RecordView> lookup(std::string_view owner, uint16_t type, bool with_rrsigs) const;
  // Every record except the apex SOA, in the order they were signed.
  template <typename F>
  void for_each_record_but_soa(F&& visit) const {
    for (size_t s = 0; s < segments_.size(); ++s)
      for (size_t i = 0; i < segments_[s]->entries.size(); ++i)
        if (first_record_[s] + i != soa_index_) visit(segments_[s]->view(i));
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
  // Whole owners' records, a slice of a buffer that segments may share
  // (those a whole version was cut into share its one buffer).
  struct Segment {
    std::shared_ptr<const std::string> buffer;
    size_t begin = 0, end = 0;              // the slice of *buffer
    std::vector<Entry> entries;             // offsets into *buffer
    std::vector<uint32_t> owner_starts;     // each owner's first entry, then entries.size()
    size_t rrsigs = 0;                      // entries of type RRSIG
    std::string_view owner_of(size_t index) const {
      return std::string_view(*buffer).substr(entries[index].owner_offset, entries[index].owner_length);
    }
    std::string_view owner_at(size_t k) const { return owner_of(owner_starts[k]); }
    size_t owner_count() const { return owner_starts.size() - 1; }
    std::string_view bytes() const { return std::string_view(*buffer).substr(begin, end - begin); }
    // Owner k's records as bytes.
    std::string_view owner_bytes(size_t k) const;
    dns::RecordView view(size_t index) const;
  };
  SignedZone(dns::Name origin, std::vector<std::shared_ptr<const Segment>> segments);
  // Cuts [begin, end) of `buffer` into segments, appended to `out`.
  void cut_segments(const std::shared_ptr<const std::string>& buffer, size_t begin, size_t end,
                    std::vector<std::shared_ptr<const Segment>>& out) const;
  // The prefix sums, the NSEC3 run, the SOA; checks the order across segments.
  void finish();

  size_t owner_count() const { return first_owner_.back(); }
  // The segment holding owner `ordinal`, and its index there.
  std::pair<size_t, size_t> locate_owner(size_t ordinal) const;
  std::pair<size_t, size_t> locate_record(size_t index) const;
  std::string_view owner_at(size_t ordinal) const;
  // The first ordinal in the run `owner` belongs to whose owner sorts at or after it.
  size_t lower_bound(std::string_view owner, bool hashed) const;
  // The ordinal of `owner` (any case), or -1.
  int64_t find_owner(std::string_view owner) const;

  dns::Name origin_;
  std::vector<std::shared_ptr<const Segment>> segments_;
  std::vector<size_t> first_record_;  // per segment, then the total
  std::vector<size_t> first_owner_;   // per segment, then the total
  size_t hashed_start_ = 0;  // the ordinal of the first NSEC3 owner (owner_count() when none)
  size_t soa_index_ = 0;
  dns::RecordView soa_;
  uint32_t serial_ = 0;
};

}  // namespace wiresign::xfr
