// RRSIG generation for one RRset (RFC 4034 §3.1, §3.1.8.1 signed data,
// §6.2 canonical RR form, §6.3 canonical RRset order).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "keystore/keystore.h"
#include "policy/signing_policy.h"

namespace wiresign::signer {

// A key as the signer uses it: its identity plus the signer name.
struct SignerKey {
  keystore::KeyInfo info;
  std::string signer_name;  // the zone apex, wire form, lower case
};

// An RRset to sign; RDATAs in canonical order without duplicates, names in
// them already lower-cased where RFC 4034 §6.2 asks.
struct RRsetToSign {
  std::string_view owner;  // wire, lower case
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::span<const std::span<const uint8_t>> rdatas;
};

// Reusable buffers so that signing millions of RRsets does not allocate.
struct SigningScratch {
  std::vector<uint8_t> signed_data;
  std::vector<uint8_t> signature;
};

// Writes the complete RRSIG RDATA for `rrset` into `rrsig` (cleared first).
void make_rrsig(const RRsetToSign& rrset, const SignerKey& key, keystore::SigningContext& context,
                policy::SignatureWindow window, SigningScratch& scratch, std::vector<uint8_t>& rrsig);

// A stable per-RRset value for spreading expirations (FNV-1a of owner and type).
uint32_t rrset_spread(std::string_view owner, uint16_t type);

}  // namespace wiresign::signer
