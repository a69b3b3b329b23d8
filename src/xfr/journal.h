// The journal of signed versions (DESIGN.md: every published version is a
// journal entry): each publication's difference from the version before, so
// that IXFR out (RFC 1995) sends only what changed. Entries are immutable and
// shared; a new journal is a copy of the old one's pointers plus one entry.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xfr/signed_zone.h"

namespace wiresign::xfr {

// What changed from one signed serial to the next: uncompressed wire records
// one after another, each list led by the SOA of its version (old, new).
struct ZoneDiff {
  uint32_t from_serial = 0;
  uint32_t to_serial = 0;
  std::string removed;
  std::string added;
  size_t removed_count = 0;
  size_t added_count = 0;
};

// The records of a buffer of uncompressed wire records, each as its own
// slice. Throws std::runtime_error when the buffer is not whole records.
std::vector<std::string_view> split_records(std::string_view records);
// The type of one such record (its owner uncompressed).
uint16_t record_type(std::string_view record);

// The records of `before` missing from `after` and the other way round (owner
// names compared as the signer writes them: lower case).
ZoneDiff diff_zones(const SignedZone& before, const SignedZone& after);
// The same over `owners` only, each listed once (a change signed
// incrementally: nothing else differs).
ZoneDiff diff_owners(const SignedZone& before, const SignedZone& after, const std::vector<std::string_view>& owners);

struct JournalLimits {
  size_t max_entries = 100;
  size_t max_bytes = 256u << 20;
};

class Journal {
 public:
  // This journal plus `entry`, oldest entries dropped to stay within `limits`
  // (the newest entry is always kept). An entry that does not continue from
  // the newest serial starts a new journal.
  Journal with(std::shared_ptr<const ZoneDiff> entry, const JournalLimits& limits) const;

  // The entries leading from `serial` to the newest, oldest first; nullopt
  // when the journal does not reach back to `serial`.
  std::optional<std::vector<const ZoneDiff*>> path_from(uint32_t serial) const;

  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  std::optional<uint32_t> oldest_serial() const;
  std::optional<uint32_t> newest_serial() const;

  // A self-checking byte form for the state directory, and back. parse
  // throws std::runtime_error when the bytes are not a whole journal.
  std::string serialize() const;
  static Journal parse(std::string_view bytes);

 private:
  std::deque<std::shared_ptr<const ZoneDiff>> entries_;
  size_t bytes_ = 0;
};

}  // namespace wiresign::xfr
