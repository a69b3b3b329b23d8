// Type bitmaps and NSEC RDATA.
#include "signer/nsec_chain.h"

#include <algorithm>

#include "dns/record.h"

namespace wiresign::signer {

void append_type_bitmap(std::vector<uint8_t>& out, std::span<const uint16_t> types) {
  size_t i = 0;
  while (i < types.size()) {
    unsigned window = types[i] >> 8;
    uint8_t bits[32] = {};
    unsigned length = 0;
    for (; i < types.size() && (types[i] >> 8) == window; ++i) {
      unsigned low = types[i] & 0xff;
      bits[low / 8] |= static_cast<uint8_t>(0x80 >> (low % 8));
      length = std::max(length, low / 8 + 1);
    }
    out.push_back(static_cast<uint8_t>(window));
    out.push_back(static_cast<uint8_t>(length));
    out.insert(out.end(), bits, bits + length);
  }
}

void make_nsec_rdata(std::vector<uint8_t>& out, std::string_view next_owner, std::span<const uint16_t> types) {
  out.clear();
  out.insert(out.end(), next_owner.begin(), next_owner.end());
  append_type_bitmap(out, types);
}

uint32_t denial_ttl(uint32_t soa_ttl, std::span<const uint8_t> soa_rdata) {
  // MINIMUM is the last 32-bit field of the SOA RDATA.
  if (soa_rdata.size() < 4) return soa_ttl;
  uint32_t minimum = dns::get_u32(soa_rdata.data() + soa_rdata.size() - 4);
  return std::min(soa_ttl, minimum);
}

}  // namespace wiresign::signer
