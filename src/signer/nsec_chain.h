// NSEC records (RFC 4034 §4) and the type bitmaps NSEC and NSEC3 share
// (RFC 4034 §4.1.2). What a name's bitmap holds at a zone cut follows
// RFC 4035 §2.3.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace wiresign::signer {

// Appends the window-block encoding of `types` (sorted ascending, unique).
void append_type_bitmap(std::vector<uint8_t>& out, std::span<const uint16_t> types);

// NSEC RDATA: next owner name (wire) and the type bitmap.
void make_nsec_rdata(std::vector<uint8_t>& out, std::string_view next_owner, std::span<const uint16_t> types);

// The denial TTL of RFC 9077 §3.3: the lesser of the SOA's TTL and its MINIMUM field.
uint32_t denial_ttl(uint32_t soa_ttl, std::span<const uint8_t> soa_rdata);

}  // namespace wiresign::signer
