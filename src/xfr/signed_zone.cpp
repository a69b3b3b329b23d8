// A signed zone in shared segments (signed_zone.h): cutting a signer's output
// into segments, finding owners by binary search in the zone's order, and
// making the next version by rebuilding only the segments a change touches.
#include "xfr/signed_zone.h"

#include <algorithm>
#include <stdexcept>

#include "dns/rr_type.h"

namespace wiresign::xfr {
namespace {

// Owners per segment: a change copies about this many owners' records
// (some 250 KB for a typical NSEC3 zone), a version holds a pointer per segment.
constexpr size_t kOwnersPerSegment = 1024;

uint32_t soa_serial(std::span<const uint8_t> rdata) {
  size_t pos = dns::soa_serial_offset(rdata);
  if (pos + 4 > rdata.size()) throw std::runtime_error("malformed SOA RDATA");
  return dns::get_u32(rdata.data() + pos);
}

// The hash label of an NSEC3 owner: its first label's text.
std::string_view first_label(std::string_view owner) {
  return owner.empty() ? owner : owner.substr(1, static_cast<uint8_t>(owner[0]));
}

}  // namespace

std::string_view SignedZone::Segment::owner_bytes(size_t k) const {
  size_t from = entries[owner_starts[k]].owner_offset;
  size_t to = owner_starts[k + 1] < entries.size() ? entries[owner_starts[k + 1]].owner_offset : end;
  return std::string_view(*buffer).substr(from, to - from);
}

dns::RecordView SignedZone::Segment::view(size_t index) const {
  const Entry& e = entries[index];
  const auto* data = reinterpret_cast<const uint8_t*>(buffer->data());
  return {std::string_view(buffer->data() + e.owner_offset, e.owner_length), e.type, dns::kClassIN, e.ttl,
          std::span<const uint8_t>(data + e.rdata_offset, e.rdata_length)};
}

SignedZone::SignedZone(dns::Name origin, std::string records) : origin_(std::move(origin)) {
  auto buffer = std::make_shared<const std::string>(std::move(records));
  cut_segments(buffer, 0, buffer->size(), segments_);
  finish();
}

SignedZone::SignedZone(dns::Name origin, std::vector<std::shared_ptr<const Segment>> segments)
    : origin_(std::move(origin)), segments_(std::move(segments)) {
  finish();
}

// RFC 4034 §6.1 order among names, then the NSEC3 owners by hash; an owner
// is "hashed" when its first record is an NSEC3. A repeat would make the
// index lie, so it is refused.
static void check_order(const dns::Name& origin, std::string_view before, bool before_hashed, std::string_view owner,
                        bool hashed) {
  int order = 0;
  if (before_hashed && !hashed) order = 1;
  else if (!before_hashed && hashed) order = -1;
  else if (hashed)
    order = first_label(before) < first_label(owner) ? -1 : first_label(before) == first_label(owner) ? 0 : 1;
  else order = dns::canonical_compare(before, owner);
  if (order == 0)
    throw std::runtime_error(origin.to_text() + ": records of " + dns::to_text(owner) + " are not together");
  if (order > 0)
    throw std::runtime_error(origin.to_text() + ": " + dns::to_text(owner) + " is out of order after " +
                             dns::to_text(before));
}

void SignedZone::cut_segments(const std::shared_ptr<const std::string>& buffer, size_t begin, size_t end,
                              std::vector<std::shared_ptr<const Segment>>& out) const {
  if (buffer->size() > UINT32_MAX) throw std::runtime_error(origin_.to_text() + ": signed zone over 4 GB");
  const auto* data = reinterpret_cast<const uint8_t*>(buffer->data());
  auto segment = std::make_shared<Segment>();
  std::string_view last_owner;
  bool last_hashed = false;
  size_t pos = begin;
  auto close = [&](size_t at) {
    segment->end = at;
    segment->owner_starts.push_back(static_cast<uint32_t>(segment->entries.size()));
    segment->entries.shrink_to_fit();
    out.push_back(std::move(segment));
  };
  segment->buffer = buffer;
  segment->begin = begin;
  while (pos < end) {
    Entry e{};
    e.owner_offset = static_cast<uint32_t>(pos);
    while (pos < end && data[pos] != 0) pos += 1 + data[pos];
    ++pos;
    if (pos + 10 > end) throw std::runtime_error(origin_.to_text() + ": signed zone data truncated");
    e.owner_length = static_cast<uint16_t>(pos - e.owner_offset);
    e.type = dns::get_u16(data + pos);
    e.ttl = dns::get_u32(data + pos + 4);
    e.rdata_length = dns::get_u16(data + pos + 8);
    e.rdata_offset = static_cast<uint32_t>(pos + 10);
    pos += 10 + e.rdata_length;
    if (pos > end) throw std::runtime_error(origin_.to_text() + ": signed zone data truncated");

    std::string_view owner(buffer->data() + e.owner_offset, e.owner_length);
    if (last_owner.empty() || !dns::same_name(owner, last_owner)) {
      const bool hashed = e.type == dns::rr_type::NSEC3;
      if (!last_owner.empty()) check_order(origin_, last_owner, last_hashed, owner, hashed);
      if (segment->owner_starts.size() >= kOwnersPerSegment) {
        close(e.owner_offset);
        segment = std::make_shared<Segment>();
        segment->buffer = buffer;
        segment->begin = e.owner_offset;
      }
      segment->owner_starts.push_back(static_cast<uint32_t>(segment->entries.size()));
      last_owner = owner;
      last_hashed = hashed;
    }
    segment->entries.push_back(e);
    if (e.type == dns::rr_type::RRSIG) ++segment->rrsigs;
  }
  if (!segment->entries.empty()) close(end);
}

void SignedZone::finish() {
  first_record_.assign(1, 0);
  first_owner_.assign(1, 0);
  for (size_t s = 0; s < segments_.size(); ++s) {
    const Segment& segment = *segments_[s];
    first_record_.push_back(first_record_.back() + segment.entries.size());
    first_owner_.push_back(first_owner_.back() + segment.owner_count());
    if (s > 0) {
      const Segment& before = *segments_[s - 1];
      size_t last = before.owner_count() - 1;
      check_order(origin_, before.owner_at(last), before.view(before.owner_starts[last]).type == dns::rr_type::NSEC3,
                  segment.owner_at(0), segment.view(0).type == dns::rr_type::NSEC3);
    }
  }
  if (segments_.empty() || !dns::same_name(segments_[0]->owner_at(0), origin_.wire()))
    throw std::runtime_error(origin_.to_text() + ": signed zone has no SOA");
  // The order is checked: names first, then NSEC3 owners; find where they start.
  size_t low = 0, high = owner_count();
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    auto [s, k] = locate_owner(middle);
    if (segments_[s]->view(segments_[s]->owner_starts[k]).type == dns::rr_type::NSEC3) high = middle;
    else low = middle + 1;
  }
  hashed_start_ = low;
  const Segment& first = *segments_[0];
  bool have_soa = false;
  for (size_t i = 0; i < first.owner_starts[1]; ++i) {
    if (first.entries[i].type != dns::rr_type::SOA) continue;
    if (have_soa) throw std::runtime_error(origin_.to_text() + ": more than one SOA");
    have_soa = true;
    soa_index_ = i;
  }
  if (!have_soa) throw std::runtime_error(origin_.to_text() + ": signed zone has no SOA");
  soa_ = first.view(soa_index_);
  serial_ = soa_serial(soa_.rdata);
}

std::pair<size_t, size_t> SignedZone::locate_owner(size_t ordinal) const {
  size_t s =
      static_cast<size_t>(std::upper_bound(first_owner_.begin(), first_owner_.end(), ordinal) - first_owner_.begin()) -
      1;
  return {s, ordinal - first_owner_[s]};
}

std::pair<size_t, size_t> SignedZone::locate_record(size_t index) const {
  size_t s =
      static_cast<size_t>(std::upper_bound(first_record_.begin(), first_record_.end(), index) - first_record_.begin()) -
      1;
  return {s, index - first_record_[s]};
}

std::string_view SignedZone::owner_at(size_t ordinal) const {
  auto [s, k] = locate_owner(ordinal);
  return segments_[s]->owner_at(k);
}

std::vector<std::string_view> SignedZone::wire_pieces() const {
  std::vector<std::string_view> pieces;
  for (const auto& segment : segments_) {
    std::string_view bytes = segment->bytes();
    // Neighbours cut from one buffer go out as one piece.
    if (!pieces.empty() && pieces.back().data() + pieces.back().size() == bytes.data())
      pieces.back() = std::string_view(pieces.back().data(), pieces.back().size() + bytes.size());
    else pieces.push_back(bytes);
  }
  return pieces;
}

size_t SignedZone::wire_size() const {
  size_t size = 0;
  for (const auto& segment : segments_) size += segment->end - segment->begin;
  return size;
}

std::string_view SignedZone::wire(std::string& scratch) const {
  std::vector<std::string_view> pieces = wire_pieces();
  if (pieces.size() == 1) return pieces[0];
  scratch.clear();
  scratch.reserve(wire_size());
  for (auto piece : pieces) scratch += piece;
  return scratch;
}

std::string_view SignedZone::record_wire(size_t index) const {
  auto [s, i] = locate_record(index);
  const Entry& e = segments_[s]->entries[i];
  return std::string_view(*segments_[s]->buffer)
      .substr(e.owner_offset, e.rdata_offset + e.rdata_length - e.owner_offset);
}

dns::RecordView SignedZone::record(size_t index) const {
  auto [s, i] = locate_record(index);
  return segments_[s]->view(i);
}

size_t SignedZone::count_of(uint16_t type) const {
  size_t count = 0;
  if (type == dns::rr_type::RRSIG) {  // counted as the segments were cut: a change's report needs no pass
    for (const auto& segment : segments_) count += segment->rrsigs;
    return count;
  }
  for (const auto& segment : segments_)
    count += static_cast<size_t>(std::count_if(segment->entries.begin(), segment->entries.end(),
                                               [&](const Entry& e) { return e.type == type; }));
  return count;
}

size_t SignedZone::lower_bound(std::string_view owner, bool hashed) const {
  size_t low = hashed ? hashed_start_ : 0, high = hashed ? owner_count() : hashed_start_;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    bool before = hashed ? first_label(owner_at(middle)) < first_label(owner)
                         : dns::canonical_compare(owner_at(middle), owner) < 0;
    if (before) low = middle + 1;
    else high = middle;
  }
  return low;
}

int64_t SignedZone::find_owner(std::string_view owner) const {
  size_t k = lower_bound(owner, false);
  if (k < hashed_start_ && dns::same_name(owner_at(k), owner)) return static_cast<int64_t>(k);
  if (hashed_start_ == owner_count()) return -1;
  k = lower_bound(owner, true);
  if (k < owner_count() && dns::same_name(owner_at(k), owner)) return static_cast<int64_t>(k);
  return -1;
}

std::optional<std::pair<uint32_t, uint32_t>> SignedZone::owner_range(std::string_view owner) const {
  int64_t k = find_owner(owner);
  if (k < 0) return std::nullopt;
  auto [s, local] = locate_owner(static_cast<size_t>(k));
  const auto base = static_cast<uint32_t>(first_record_[s]);
  return std::pair{base + segments_[s]->owner_starts[local], base + segments_[s]->owner_starts[local + 1]};
}

bool SignedZone::has_names_below(std::string_view owner) const {
  // Descendants follow a name directly in canonical order (RFC 4034 §6.1).
  std::optional<std::string_view> next = name_after(owner);
  return next && dns::is_at_or_below(*next, owner);
}

std::optional<std::string_view> SignedZone::name_after(std::string_view owner) const {
  size_t k = lower_bound(owner, false);
  if (k < hashed_start_ && dns::same_name(owner_at(k), owner)) ++k;
  if (k >= hashed_start_) return std::nullopt;
  return owner_at(k);
}

std::optional<std::string_view> SignedZone::name_before(std::string_view owner) const {
  size_t k = lower_bound(owner, false);
  if (k == 0) return std::nullopt;
  return owner_at(k - 1);
}

std::optional<std::string_view> SignedZone::hashed_owner_after(std::string_view label) const {
  size_t k = hashed_start_;
  if (!label.empty()) {
    size_t low = hashed_start_, high = owner_count();
    while (low < high) {
      size_t middle = low + (high - low) / 2;
      if (first_label(owner_at(middle)) <= label) low = middle + 1;
      else high = middle;
    }
    k = low;
  }
  if (k >= owner_count()) return std::nullopt;
  return owner_at(k);
}

std::optional<std::string_view> SignedZone::hashed_owner_before(std::string_view label) const {
  size_t k = owner_count();
  if (!label.empty()) {
    size_t low = hashed_start_, high = owner_count();
    while (low < high) {
      size_t middle = low + (high - low) / 2;
      if (first_label(owner_at(middle)) < label) low = middle + 1;
      else high = middle;
    }
    k = low;
  }
  if (k <= hashed_start_) return std::nullopt;
  return owner_at(k - 1);
}

SignedZone SignedZone::with_owners(const std::vector<OwnerRecords>& owners) const {
  // Each replacement as (ordinal, whether it replaces that owner's records
  // or goes in before them), grouped by the segment it falls in.
  struct Edit {
    size_t ordinal;
    bool replaces;
    std::string_view records;
  };
  std::vector<Edit> edits;
  edits.reserve(owners.size());
  for (const auto& o : owners) {
    size_t k = lower_bound(o.owner, o.hashed);
    bool replaces = k < (o.hashed ? owner_count() : hashed_start_) && dns::same_name(owner_at(k), o.owner);
    if (!edits.empty() && (k < edits.back().ordinal || (k == edits.back().ordinal && edits.back().replaces)))
      throw std::runtime_error(origin_.to_text() + ": changed owners out of zone order at " + dns::to_text(o.owner));
    edits.push_back({k, replaces, o.records});
  }
  std::vector<std::shared_ptr<const Segment>> segments;
  segments.reserve(segments_.size() + 4);
  size_t next = 0;  // the first segment not yet carried over
  for (size_t e = 0; e < edits.size();) {
    // Past the last owner: the last segment takes it.
    size_t s = edits[e].ordinal < owner_count() ? locate_owner(edits[e].ordinal).first : segments_.size() - 1;
    segments.insert(segments.end(), segments_.begin() + static_cast<long>(next),
                    segments_.begin() + static_cast<long>(s));
    const Segment& old = *segments_[s];
    const size_t first = first_owner_[s], count = old.owner_count();
    auto bytes = std::make_shared<std::string>();
    bytes->reserve(old.end - old.begin + 1024);
    for (size_t k = 0; k <= count; ++k) {
      bool replaced = false;
      for (; e < edits.size() && edits[e].ordinal == first + k &&
             (k < count || s + 1 == segments_.size() || edits[e].ordinal < first_owner_[s + 1]);
           ++e) {
        bytes->append(edits[e].records);
        if (edits[e].replaces) {
          replaced = true;
          ++e;
          break;
        }
      }
      if (k < count && !replaced) bytes->append(old.owner_bytes(k));
    }
    cut_segments(bytes, 0, bytes->size(), segments);
    next = s + 1;
  }
  segments.insert(segments.end(), segments_.begin() + static_cast<long>(next), segments_.end());
  return SignedZone(origin_, std::move(segments));
}

std::vector<dns::RecordView> SignedZone::lookup(std::string_view owner, uint16_t type, bool with_rrsigs) const {
  std::vector<dns::RecordView> out;
  auto range = owner_range(owner);
  if (!range) return out;
  auto [s, first] = locate_record(range->first);
  const Segment& segment = *segments_[s];
  const size_t last = first + (range->second - range->first);
  for (size_t i = first; i < last; ++i)
    if (segment.entries[i].type == type) out.push_back(segment.view(i));
  if (out.empty() || !with_rrsigs) return out;
  for (size_t i = first; i < last; ++i) {
    dns::RecordView rr = segment.view(i);
    if (rr.type == dns::rr_type::RRSIG && rr.rdata.size() >= 2 && dns::get_u16(rr.rdata.data()) == type)
      out.push_back(rr);
  }
  return out;
}

}  // namespace wiresign::xfr
