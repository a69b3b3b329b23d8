// Indexing a signed zone's wire-form records for the outbound side.
#include "xfr/signed_zone.h"

#include <stdexcept>

#include "dns/rr_type.h"

namespace wiresign::xfr {
namespace {

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
  std::string owner_key;
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

    owner_key.assign(bytes_, e.owner_offset, e.owner_length);
    dns::lowercase_name(owner_key.data(), owner_key.size());
    auto index = static_cast<uint32_t>(entries_.size());
    auto [it, inserted] = by_owner_.try_emplace(owner_key, index, index + 1);
    // The signer writes a name's records together; a repeat elsewhere would
    // make the index lie, so refuse it.
    if (!inserted) {
      if (it->second.second != index)
        throw std::runtime_error(origin_.to_text() + ": records of " + dns::to_text(owner_key) + " are not together");
      it->second.second = index + 1;
    }
    if (e.type == dns::rr_type::SOA && owner_key == origin_.wire()) {
      if (have_soa) throw std::runtime_error(origin_.to_text() + ": more than one SOA");
      have_soa = true;
      soa_index_ = index;
    }
    entries_.push_back(e);
  }
  if (!have_soa) throw std::runtime_error(origin_.to_text() + ": signed zone has no SOA");
  soa_ = view(soa_index_);
  serial_ = soa_serial(soa_.rdata);
}

dns::RecordView SignedZone::view(size_t index) const {
  const Entry& e = entries_[index];
  const auto* data = reinterpret_cast<const uint8_t*>(bytes_.data());
  return {std::string_view(bytes_.data() + e.owner_offset, e.owner_length), e.type, dns::kClassIN, e.ttl,
          std::span<const uint8_t>(data + e.rdata_offset, e.rdata_length)};
}

std::optional<std::pair<uint32_t, uint32_t>> SignedZone::owner_range(std::string_view owner) const {
  auto it = by_owner_.find(std::string(owner));
  if (it == by_owner_.end()) return std::nullopt;
  return it->second;
}

std::vector<dns::RecordView> SignedZone::lookup(std::string_view owner, uint16_t type, bool with_rrsigs) const {
  std::string key(owner);
  dns::lowercase_name(key.data(), key.size());
  std::vector<dns::RecordView> out;
  auto it = by_owner_.find(key);
  if (it == by_owner_.end()) return out;
  for (uint32_t i = it->second.first; i < it->second.second; ++i)
    if (entries_[i].type == type) out.push_back(view(i));
  if (out.empty() || !with_rrsigs) return out;
  for (uint32_t i = it->second.first; i < it->second.second; ++i) {
    dns::RecordView rr = view(i);
    if (rr.type == dns::rr_type::RRSIG && rr.rdata.size() >= 2 && dns::get_u16(rr.rdata.data()) == type)
      out.push_back(rr);
  }
  return out;
}

}  // namespace wiresign::xfr
