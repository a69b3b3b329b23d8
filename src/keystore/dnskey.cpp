// DNSKEY and DS records computed from a key: DNSKEY RDATA (RFC 4034 §2.1),
// the key tag (RFC 4034 Appendix B), DS digests (RFC 4034 §5.1.4, RFC 4509,
// RFC 6605 §2) and their presentation form as BIND prints it.
#include "keystore/dnskey.h"

#include <openssl/evp.h>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "keystore/algorithm.h"

namespace wiresign::keystore {

std::string_view key_role_name(KeyRole role) {
  switch (role) {
    case KeyRole::ksk: return "ksk";
    case KeyRole::zsk: return "zsk";
    case KeyRole::csk: return "csk";
  }
  return "unknown";
}

std::vector<uint8_t> dnskey_rdata(const KeyInfo& key) {
  std::vector<uint8_t> rdata;
  rdata.reserve(4 + key.public_key.size());
  rdata.push_back(static_cast<uint8_t>(key.flags >> 8));
  rdata.push_back(static_cast<uint8_t>(key.flags));
  rdata.push_back(3);  // RFC 4034 §2.1.2: Protocol is always 3
  rdata.push_back(static_cast<uint8_t>(key.algorithm));
  rdata.insert(rdata.end(), key.public_key.begin(), key.public_key.end());
  return rdata;
}

uint16_t compute_key_tag(std::span<const uint8_t> dnskey_rdata) {
  // RFC 4034 Appendix B: one's-complement-like sum of 16-bit words. Algorithm 1
  // (RSA/MD5) has a different rule, but wiresign never uses it (RFC 8624).
  uint32_t sum = 0;
  for (size_t i = 0; i < dnskey_rdata.size(); ++i)
    sum += (i & 1) ? dnskey_rdata[i] : uint32_t{dnskey_rdata[i]} << 8;
  sum += (sum >> 16) & 0xFFFF;
  return static_cast<uint16_t>(sum & 0xFFFF);
}

std::vector<uint8_t> ds_rdata(const KeyInfo& key, dns::DigestType digest) {
  // RFC 4034 §5.1.4: digest = hash(canonical owner name | DNSKEY RDATA);
  // Name::from_text yields the lower-cased wire form that "canonical" requires.
  std::string owner = dns::Name::from_text(key.zone).wire();
  std::vector<uint8_t> rdata = dnskey_rdata(key);
  const EVP_MD* md = digest == dns::DigestType::sha384 ? EVP_sha384() : EVP_sha256();

  EvpMdCtx ctx(EVP_MD_CTX_new());
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), owner.data(), owner.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), rdata.data(), rdata.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), hash, &hash_length) != 1)
    throw_openssl_error("EVP_Digest (DS)");

  // Computed, not taken from key.key_tag, so a stale field cannot produce a wrong DS.
  uint16_t tag = compute_key_tag(rdata);
  std::vector<uint8_t> ds;
  ds.reserve(4 + hash_length);
  ds.push_back(static_cast<uint8_t>(tag >> 8));
  ds.push_back(static_cast<uint8_t>(tag));
  ds.push_back(static_cast<uint8_t>(key.algorithm));
  ds.push_back(static_cast<uint8_t>(digest));
  ds.insert(ds.end(), hash, hash + hash_length);
  return ds;
}

namespace {
std::string owner_and_ttl(const KeyInfo& key, uint32_t ttl, bool with_ttl) {
  std::string text = key.zone;
  if (with_ttl) text += " " + std::to_string(ttl);
  return text;
}
}  // namespace

std::string dnskey_text(const KeyInfo& key, uint32_t ttl, bool with_ttl) {
  std::string text = owner_and_ttl(key, ttl, with_ttl);
  text += " IN DNSKEY " + std::to_string(key.flags) + " 3 " +
          std::to_string(static_cast<unsigned>(key.algorithm)) + " ";
  dns::append_base64(text, key.public_key);
  return text;
}

std::string ds_text(const KeyInfo& key, dns::DigestType digest, uint32_t ttl, bool with_ttl) {
  std::vector<uint8_t> ds = ds_rdata(key, digest);
  std::string text = owner_and_ttl(key, ttl, with_ttl);
  text += " IN DS " + std::to_string((unsigned{ds[0]} << 8) | ds[1]) + " " + std::to_string(ds[2]) +
          " " + std::to_string(ds[3]) + " ";
  dns::append_hex(text, std::span<const uint8_t>(ds).subspan(4), true);
  return text;
}

}  // namespace wiresign::keystore
