// Looking up an earlier version's signatures over an RRset.
#include "daemon/previous_signatures.h"

#include <algorithm>

#include "dns/base_encoding.h"
#include "dns/rr_type.h"

namespace wiresign::daemon {

void PreviousSignatures::signatures_over(const signer::RRsetToSign& rrset,
                                         std::vector<std::span<const uint8_t>>& out) const {
  auto before = zone_->lookup(rrset.owner, rrset.type, true);
  size_t count = 0;
  for (const auto& rr : before) {
    if (rr.type != rrset.type) continue;
    ++count;
    if (rr.ttl != rrset.ttl) return;
    auto same = [&](std::span<const uint8_t> rdata) { return std::ranges::equal(rdata, rr.rdata); };
    if (std::ranges::none_of(rrset.rdatas, same)) return;
  }
  // Both sides hold each RDATA once, so equal counts make equal sets.
  if (count != rrset.rdatas.size()) return;
  for (const auto& rr : before)
    if (rr.type == dns::rr_type::RRSIG) out.push_back(rr.rdata);
}

void ServedVersionView::records_at(std::string_view owner, std::vector<dns::RecordView>& out) const {
  auto range = zone_.owner_range(owner);
  if (!range) return;
  for (uint32_t i = range->first; i < range->second; ++i) out.push_back(zone_.record(i));
}

namespace {

std::string hash_label(const std::optional<signer::Nsec3Hash>& hash) {
  std::string label;
  if (hash) dns::append_base32hex(label, *hash);
  return label;
}

std::optional<signer::Nsec3Hash> hash_of(std::optional<std::string_view> owner) {
  if (!owner) return std::nullopt;
  return nsec3_owner_hash(*owner);
}

}  // namespace

std::optional<signer::Nsec3Hash> nsec3_owner_hash(std::string_view owner) {
  if (owner.empty()) return std::nullopt;
  auto octets = dns::from_base32hex(owner.substr(1, static_cast<uint8_t>(owner[0])));
  signer::Nsec3Hash hash{};
  if (!octets || octets->size() != hash.size())
    throw std::runtime_error("the version in service has an NSEC3 owner that is not a hash: " + dns::to_text(owner));
  std::copy(octets->begin(), octets->end(), hash.begin());
  return hash;
}

std::optional<signer::Nsec3Hash> ServedVersionView::nsec3_after(const std::optional<signer::Nsec3Hash>& hash) const {
  return hash_of(zone_.hashed_owner_after(hash_label(hash)));
}

std::optional<signer::Nsec3Hash> ServedVersionView::nsec3_before(const std::optional<signer::Nsec3Hash>& hash) const {
  return hash_of(zone_.hashed_owner_before(hash_label(hash)));
}

std::optional<std::vector<uint8_t>> nsec3_salt_of(const xfr::SignedZone& zone) {
  auto param = zone.lookup(zone.origin().wire(), dns::rr_type::NSEC3PARAM, false);
  if (param.empty() || param[0].rdata.size() < 5) return std::nullopt;
  auto rdata = param[0].rdata;
  size_t length = rdata[4];
  if (rdata.size() < 5 + length) return std::nullopt;
  return std::vector<uint8_t>(rdata.begin() + 5, rdata.begin() + 5 + static_cast<long>(length));
}

std::optional<uint32_t> earliest_expiration(const xfr::SignedZone& zone) {
  std::optional<uint32_t> earliest;
  zone.for_each_record_but_soa([&](const dns::RecordView& rr) {
    if (rr.type != dns::rr_type::RRSIG || rr.rdata.size() < 12) return;
    uint32_t expiration = dns::get_u32(rr.rdata.data() + 8);
    if (!earliest || dns::serial_newer(*earliest, expiration)) earliest = expiration;
  });
  return earliest;
}

}  // namespace wiresign::daemon
