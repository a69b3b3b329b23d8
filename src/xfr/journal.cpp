// Diffs between signed versions and the journal that keeps them.
#include "xfr/journal.h"

#include <stdexcept>
#include <algorithm>
#include <iterator>

#include "dns/record.h"
#include "dns/rr_type.h"

namespace wiresign::xfr {
namespace {

constexpr std::string_view kMagic = "wiresign-journal-1\n";

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void put_u64(std::string& out, uint64_t v) {
  put_u32(out, static_cast<uint32_t>(v >> 32));
  put_u32(out, static_cast<uint32_t>(v));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  uint32_t u32() {
    need(4);
    uint32_t v = dns::get_u32(reinterpret_cast<const uint8_t*>(bytes_.data() + pos_));
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    uint64_t high = u32();
    return high << 32 | u32();
  }
  std::string_view take(uint64_t n) {
    need(n);
    auto out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  void need(uint64_t n) const {
    if (n > bytes_.size() - pos_) throw std::runtime_error("journal truncated");
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

size_t entry_bytes(const ZoneDiff& diff) { return diff.removed.size() + diff.added.size(); }

}  // namespace

std::vector<std::string_view> split_records(std::string_view records) {
  std::vector<std::string_view> out;
  const auto* data = reinterpret_cast<const uint8_t*>(records.data());
  size_t pos = 0;
  while (pos < records.size()) {
    size_t start = pos;
    while (pos < records.size() && data[pos] != 0) pos += 1 + data[pos];
    pos += 1 + 10;
    if (pos > records.size()) throw std::runtime_error("truncated record");
    pos += dns::get_u16(data + pos - 2);
    if (pos > records.size()) throw std::runtime_error("truncated record");
    out.push_back(records.substr(start, pos - start));
  }
  return out;
}

uint16_t record_type(std::string_view record) {
  size_t owner_end = 0;
  while (owner_end < record.size() && static_cast<uint8_t>(record[owner_end]) != 0)
    owner_end += 1 + static_cast<uint8_t>(record[owner_end]);
  if (owner_end + 3 > record.size()) throw std::runtime_error("truncated record");
  return dns::get_u16(reinterpret_cast<const uint8_t*>(record.data()) + owner_end + 1);
}

namespace {

void append_soa(std::string& out, const SignedZone& zone) {
  std::vector<uint8_t> wire;
  dns::append_record_wire(wire, zone.soa());
  out.append(reinterpret_cast<const char*>(wire.data()), wire.size());
}

// A diff led by both versions' SOAs (RFC 1995 §4), nothing else in it yet.
ZoneDiff soa_diff(const SignedZone& before, const SignedZone& after) {
  ZoneDiff diff;
  diff.from_serial = before.serial();
  diff.to_serial = after.serial();
  append_soa(diff.removed, before);
  append_soa(diff.added, after);
  diff.removed_count = diff.added_count = 1;
  return diff;
}

std::vector<std::string_view> records_of(const SignedZone& zone, std::optional<std::pair<uint32_t, uint32_t>> range) {
  std::vector<std::string_view> out;
  if (!range) return out;
  for (uint32_t i = range->first; i < range->second; ++i)
    if (!zone.is_soa(i)) out.push_back(zone.record_wire(i));
  std::sort(out.begin(), out.end());
  return out;
}

// Records of sorted `a` not in sorted `b`, appended to `out`.
void add_missing(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b, std::string& out,
                 size_t& count) {
  std::vector<std::string_view> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  for (auto record : only) out += record;
  count += only.size();
}

std::string_view span_of(const SignedZone& zone, uint32_t first, uint32_t last) {
  std::string_view start = zone.record_wire(first), end = zone.record_wire(last - 1);
  return std::string_view(start.data(), static_cast<size_t>(end.data() + end.size() - start.data()));
}

}  // namespace

// Owner by owner: most owners' records are byte-identical between versions
// and are passed over with one comparison; only changed owners are compared
// record by record.
ZoneDiff diff_zones(const SignedZone& before, const SignedZone& after) {
  ZoneDiff diff = soa_diff(before, after);
  std::vector<bool> seen(before.record_count(), false);
  after.for_each_owner([&](std::string_view owner, uint32_t first, uint32_t last) {
    auto old = before.owner_range(owner);
    if (old) seen[old->first] = true;
    if (old && span_of(before, old->first, old->second) == span_of(after, first, last)) return;
    std::vector<std::string_view> now = records_of(after, std::pair{first, last});
    std::vector<std::string_view> then = records_of(before, old);
    add_missing(now, then, diff.added, diff.added_count);
    add_missing(then, now, diff.removed, diff.removed_count);
  });
  before.for_each_owner([&](std::string_view, uint32_t first, uint32_t last) {
    if (seen[first]) return;
    for (uint32_t i = first; i < last; ++i) {
      diff.removed += before.record_wire(i);
      ++diff.removed_count;
    }
  });
  return diff;
}

ZoneDiff diff_owners(const SignedZone& before, const SignedZone& after, const std::vector<std::string_view>& owners) {
  ZoneDiff diff = soa_diff(before, after);
  for (std::string_view owner : owners) {
    std::vector<std::string_view> now = records_of(after, after.owner_range(owner));
    std::vector<std::string_view> then = records_of(before, before.owner_range(owner));
    add_missing(now, then, diff.added, diff.added_count);
    add_missing(then, now, diff.removed, diff.removed_count);
  }
  return diff;
}

Journal Journal::with(std::shared_ptr<const ZoneDiff> entry, const JournalLimits& limits) const {
  Journal next;
  if (!entries_.empty() && entries_.back()->to_serial == entry->from_serial) {
    next.entries_ = entries_;
    next.bytes_ = bytes_;
  }
  next.bytes_ += entry_bytes(*entry);
  next.entries_.push_back(std::move(entry));
  while (next.entries_.size() > 1 &&
         (next.entries_.size() > limits.max_entries || next.bytes_ > limits.max_bytes)) {
    next.bytes_ -= entry_bytes(*next.entries_.front());
    next.entries_.pop_front();
  }
  return next;
}

std::optional<std::vector<const ZoneDiff*>> Journal::path_from(uint32_t serial) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i]->from_serial != serial) continue;
    std::vector<const ZoneDiff*> path;
    for (size_t k = i; k < entries_.size(); ++k) path.push_back(entries_[k].get());
    return path;
  }
  return std::nullopt;
}

std::optional<uint32_t> Journal::oldest_serial() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front()->from_serial;
}

std::optional<uint32_t> Journal::newest_serial() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back()->to_serial;
}

std::string Journal::serialize() const {
  std::string out(kMagic);
  put_u32(out, static_cast<uint32_t>(entries_.size()));
  for (const auto& entry : entries_) {
    put_u32(out, entry->from_serial);
    put_u32(out, entry->to_serial);
    put_u64(out, entry->removed.size());
    out += entry->removed;
    put_u64(out, entry->added.size());
    out += entry->added;
  }
  out += kMagic;  // a trailer: a cut-off file cannot pass for a whole one
  return out;
}

Journal Journal::parse(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) throw std::runtime_error("not a wiresign journal");
  Reader in(bytes.substr(kMagic.size()));
  Journal journal;
  uint32_t count = in.u32();
  for (uint32_t i = 0; i < count; ++i) {
    auto entry = std::make_shared<ZoneDiff>();
    entry->from_serial = in.u32();
    entry->to_serial = in.u32();
    entry->removed = in.take(in.u64());
    entry->added = in.take(in.u64());
    entry->removed_count = split_records(entry->removed).size();
    entry->added_count = split_records(entry->added).size();
    if (!journal.entries_.empty() && journal.entries_.back()->to_serial != entry->from_serial)
      throw std::runtime_error("journal entries do not chain");
    journal.bytes_ += entry_bytes(*entry);
    journal.entries_.push_back(std::move(entry));
  }
  if (in.take(kMagic.size()) != kMagic || !in.at_end()) throw std::runtime_error("journal has a bad trailer");
  return journal;
}

}  // namespace wiresign::xfr
