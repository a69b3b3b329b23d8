// The change log beside a saved signed version: each change signed
// incrementally since that version was saved whole, appended (written and
// synced) before it is served, so that saving a one-record change to a large
// zone costs a few kilobytes instead of the whole zone (DESIGN.md promise 4).
// An entry holds what replaces the owners it touched, the new version's
// input serial, names and digest, and its journal entry (IXFR out).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xfr/journal.h"
#include "xfr/signed_zone.h"

namespace wiresign::daemon {

struct ChangeEntry {
  uint32_t input_serial = 0;
  uint64_t input_names = 0;
  std::string input_digest;
  std::vector<xfr::OwnerRecords> owners;  // what the change replaced, in zone order
  std::shared_ptr<const xfr::ZoneDiff> diff;  // from the serial before to the new one
};

// One entry as bytes: magic, length, payload, magic (a trailer, so that a
// cut-off entry is seen as such).
std::string encode_change(const ChangeEntry& entry);

// The entries of a change log, in order, up to the first that is cut off
// or damaged (`damaged` is then set). The owners' views point into `bytes`.
std::vector<ChangeEntry> decode_changes(std::string_view bytes, bool& damaged);

}  // namespace wiresign::daemon
