// Indexing a signed zone's wire-form records for the outbound side.
#include "xfr/signed_zone.h"

#include <algorithm>
#include <stdexcept>

#include "dns/rr_type.h"

namespace wiresign::xfr {
namespace {

// FNV-1a over the owner in lower case, so that any case finds it.
uint64_t owner_hash(std::string_view owner) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : owner) hash = (hash ^ static_cast<uint8_t>(dns::ascii_lower(c))) * 1099511628211ull;
  return hash ^ (hash >> 29);
}

uint32_t soa_serial(std::span<const uint8_t> rdata) {
  size_t pos = dns::soa_serial_offset(rdata);
  if (pos + 4 > rdata.size()) throw std::runtime_error("malformed SOA RDATA");
  return dns::get_u32(rdata.data() + pos);
}

}  // namespace

SignedZone::SignedZone(dns::Name origin, std::string records)
    : origin_(std::move(origin)), bytes_(std::move(records)) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes_.data());
  size_t pos = 0;
  bool have_soa = false;
  while (pos < bytes_.size()) {
    Entry e{};
    e.owner_offset = static_cast<uint32_t>(pos);
    while (pos < bytes_.size() && data[pos] != 0) pos += 1 + data[pos];
    ++pos;
    if (pos + 10 > bytes_.size()) throw std::runtime_error(origin_.to_text() + ": signed zone data truncated");
    e.owner_length = static_cast<uint16_t>(pos - e.owner_offset);
    e.type = dns::get_u16(data + pos);
    e.ttl = dns::get_u32(data + pos + 4);
    e.rdata_length = dns::get_u16(data + pos + 8);
    e.rdata_offset = static_cast<uint32_t>(pos + 10);
    pos += 10 + e.rdata_length;
    if (pos > bytes_.size()) throw std::runtime_error(origin_.to_text() + ": signed zone data truncated");

    auto index = static_cast<uint32_t>(entries_.size());
    entries_.push_back(e);
    std::string_view owner = owner_of(index);
    if (index == 0 || !dns::same_name(owner, owner_of(index - 1))) owner_starts_.push_back(index);
    if (e.type == dns::rr_type::SOA && dns::same_name(owner, origin_.wire())) {
      if (have_soa) throw std::runtime_error(origin_.to_text() + ": more than one SOA");
      have_soa = true;
      soa_index_ = index;
    }
  }
  if (!have_soa) throw std::runtime_error(origin_.to_text() + ": signed zone has no SOA");
  const size_t owners = owner_starts_.size();
  hashed_start_ = owners;
  while (hashed_start_ > 0 && entries_[owner_starts_[hashed_start_ - 1]].type == dns::rr_type::NSEC3) --hashed_start_;
  owner_starts_.push_back(static_cast<uint32_t>(entries_.size()));
  owner_starts_.shrink_to_fit();
  entries_.shrink_to_fit();
  size_t slots = 16;
  while (slots < owners * 2) slots *= 2;
  owner_table_.assign(slots, 0);
  for (size_t k = 0; k < owners; ++k) {
    std::string_view owner = owner_of(owner_starts_[k]);
    for (size_t slot = owner_hash(owner) & (slots - 1);; slot = (slot + 1) & (slots - 1)) {
      uint32_t held = owner_table_[slot];
      if (held == 0) {
        owner_table_[slot] = static_cast<uint32_t>(k + 1);
        break;
      }
      // The signer writes a name's records together; a repeat elsewhere
      // would make the index lie, so refuse it.
      if (dns::same_name(owner, owner_of(owner_starts_[held - 1])))
        throw std::runtime_error(origin_.to_text() + ": records of " + dns::to_text(owner) + " are not together");
    }
  }
  soa_ = view(soa_index_);
  serial_ = soa_serial(soa_.rdata);
}

dns::RecordView SignedZone::view(size_t index) const {
  const Entry& e = entries_[index];
  const auto* data = reinterpret_cast<const uint8_t*>(bytes_.data());
  return {std::string_view(bytes_.data() + e.owner_offset, e.owner_length), e.type, dns::kClassIN, e.ttl,
          std::span<const uint8_t>(data + e.rdata_offset, e.rdata_length)};
}

int64_t SignedZone::find_owner(std::string_view owner) const {
  const size_t mask = owner_table_.size() - 1;
  for (size_t slot = owner_hash(owner) & mask;; slot = (slot + 1) & mask) {
    uint32_t held = owner_table_[slot];
    if (held == 0) return -1;
    if (dns::same_name(owner, owner_of(owner_starts_[held - 1]))) return held - 1;
  }
}

std::optional<std::pair<uint32_t, uint32_t>> SignedZone::owner_range(std::string_view owner) const {
  int64_t k = find_owner(owner);
  if (k < 0) return std::nullopt;
  return std::pair{owner_starts_[static_cast<size_t>(k)], owner_starts_[static_cast<size_t>(k) + 1]};
}

// The hash label of an NSEC3 owner: its first label's text.
static std::string_view first_label(std::string_view owner) {
  return owner.empty() ? owner : owner.substr(1, static_cast<uint8_t>(owner[0]));
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

size_t SignedZone::count_of(uint16_t type) const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.type == type; }));
}

bool SignedZone::has_names_below(std::string_view owner) const {
  size_t k = lower_bound(owner, false);
  if (k < hashed_start_ && dns::same_name(owner_at(k), owner)) ++k;
  return k < hashed_start_ && dns::is_at_or_below(owner_at(k), owner);
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
  // or goes in before them); copied runs of untouched owners lie between.
  struct Edit {
    size_t ordinal;
    bool replaces;
    std::string_view records;
  };
  std::vector<Edit> edits;
  edits.reserve(owners.size());
  size_t added_bytes = 0;
  for (const auto& o : owners) {
    size_t k = lower_bound(o.owner, o.hashed);
    bool replaces = k < (o.hashed ? owner_count() : hashed_start_) && dns::same_name(owner_at(k), o.owner);
    if (!edits.empty() && (k < edits.back().ordinal || (k == edits.back().ordinal && edits.back().replaces)))
      throw std::runtime_error(origin_.to_text() + ": changed owners out of zone order at " + dns::to_text(o.owner));
    edits.push_back({k, replaces, o.records});
    added_bytes += o.records.size();
  }
  std::string bytes;
  bytes.reserve(bytes_.size() + added_bytes);
  size_t copied = 0;  // ordinal up to which bytes_ went over
  for (const auto& e : edits) {
    bytes.append(bytes_, owner_offset(copied), owner_offset(e.ordinal) - owner_offset(copied));
    bytes.append(e.records);
    copied = e.replaces ? e.ordinal + 1 : e.ordinal;
  }
  bytes.append(bytes_, owner_offset(copied), bytes_.size() - owner_offset(copied));
  return SignedZone(origin_, std::move(bytes));
}

std::vector<dns::RecordView> SignedZone::lookup(std::string_view owner, uint16_t type, bool with_rrsigs) const {
  std::vector<dns::RecordView> out;
  auto range = owner_range(owner);
  if (!range) return out;
  for (uint32_t i = range->first; i < range->second; ++i)
    if (entries_[i].type == type) out.push_back(view(i));
  if (out.empty() || !with_rrsigs) return out;
  for (uint32_t i = range->first; i < range->second; ++i) {
    dns::RecordView rr = view(i);
    if (rr.type == dns::rr_type::RRSIG && rr.rdata.size() >= 2 && dns::get_u16(rr.rdata.data()) == type)
      out.push_back(rr);
  }
  return out;
}

}  // namespace wiresign::xfr
