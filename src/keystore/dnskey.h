// DNSKEY and DS records computed from a key: key tag (RFC 4034 Appendix B),
// DS digests (RFC 4509 SHA-256, RFC 6605 SHA-384).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dns/algorithm.h"
#include "keystore/keystore.h"

namespace wiresign::keystore {

uint16_t compute_key_tag(std::span<const uint8_t> dnskey_rdata);

// DS RDATA for the DNSKEY `key` owned by its zone.
std::vector<uint8_t> ds_rdata(const KeyInfo& key, dns::DigestType digest);

// "example.test. 3600 IN DNSKEY 257 3 13 base64..." (ttl omitted when 0 and with_ttl false)
std::string dnskey_text(const KeyInfo& key, uint32_t ttl, bool with_ttl = true);
// "example.test. 3600 IN DS 12345 13 2 HEX..."
std::string ds_text(const KeyInfo& key, dns::DigestType digest, uint32_t ttl, bool with_ttl = true);

}  // namespace wiresign::keystore
