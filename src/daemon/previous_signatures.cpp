// Looking up an earlier version's signatures over an RRset.
#include "daemon/previous_signatures.h"

#include <algorithm>

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
