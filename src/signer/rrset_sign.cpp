// Building the data an RRSIG covers and asking the key to sign it.
#include "signer/rrset_sign.h"

#include "dns/name.h"
#include "dns/record.h"

namespace wiresign::signer {

void make_rrsig(const RRsetToSign& rrset, const SignerKey& key, keystore::SigningContext& context,
                policy::SignatureWindow window, SigningScratch& scratch, std::vector<uint8_t>& rrsig) {
  rrsig.clear();
  dns::put_u16(rrsig, rrset.type);
  rrsig.push_back(static_cast<uint8_t>(key.info.algorithm));
  rrsig.push_back(static_cast<uint8_t>(dns::rrsig_label_count(rrset.owner)));
  dns::put_u32(rrsig, rrset.ttl);
  dns::put_u32(rrsig, window.expiration);
  dns::put_u32(rrsig, window.inception);
  dns::put_u16(rrsig, key.info.key_tag);
  rrsig.insert(rrsig.end(), key.signer_name.begin(), key.signer_name.end());

  // RFC 4034 §3.1.8.1: signature = sign(RRSIG_RDATA | RR(1) | RR(2)...).
  auto& data = scratch.signed_data;
  data.assign(rrsig.begin(), rrsig.end());
  for (const auto& rdata : rrset.rdatas) {
    data.insert(data.end(), rrset.owner.begin(), rrset.owner.end());
    dns::put_u16(data, rrset.type);
    dns::put_u16(data, 1);  // class IN
    dns::put_u32(data, rrset.ttl);
    dns::put_u16(data, static_cast<uint16_t>(rdata.size()));
    data.insert(data.end(), rdata.begin(), rdata.end());
  }
  scratch.signature.clear();
  context.sign(data, scratch.signature);
  rrsig.insert(rrsig.end(), scratch.signature.begin(), scratch.signature.end());
}

uint32_t rrset_spread(std::string_view owner, uint16_t type) {
  uint32_t hash = 2166136261u;
  for (char c : owner) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  hash = (hash ^ (type >> 8)) * 16777619u;
  hash = (hash ^ (type & 0xff)) * 16777619u;
  return hash;
}

}  // namespace wiresign::signer
