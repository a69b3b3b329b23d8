// NSEC3 owner hashing and RDATA.
#include "signer/nsec3_chain.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "dns/record.h"
#include "signer/nsec_chain.h"

namespace wiresign::signer {

Nsec3Hasher::Nsec3Hasher(std::span<const uint8_t> salt, uint16_t iterations)
    : salt_(salt.begin(), salt.end()), iterations_(iterations) {
  md_ = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  context_ = EVP_MD_CTX_new();
  if (!md_ || !context_) throw std::runtime_error("EVP_MD_fetch(SHA1) failed");
}

Nsec3Hasher::~Nsec3Hasher() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
  EVP_MD_free(static_cast<EVP_MD*>(md_));
}

Nsec3Hash Nsec3Hasher::hash(std::string_view owner_wire) {
  auto* ctx = static_cast<EVP_MD_CTX*>(context_);
  auto* md = static_cast<EVP_MD*>(md_);
  Nsec3Hash digest{};
  unsigned int length = 0;
  EVP_DigestInit_ex(ctx, md, nullptr);
  EVP_DigestUpdate(ctx, owner_wire.data(), owner_wire.size());
  EVP_DigestUpdate(ctx, salt_.data(), salt_.size());
  EVP_DigestFinal_ex(ctx, digest.data(), &length);
  for (uint16_t k = 0; k < iterations_; ++k) {
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, digest.data(), digest.size());
    EVP_DigestUpdate(ctx, salt_.data(), salt_.size());
    EVP_DigestFinal_ex(ctx, digest.data(), &length);
  }
  return digest;
}

std::vector<uint8_t> make_nsec3param_rdata(uint16_t iterations, std::span<const uint8_t> salt) {
  std::vector<uint8_t> out{1, 0};
  dns::put_u16(out, iterations);
  out.push_back(static_cast<uint8_t>(salt.size()));
  out.insert(out.end(), salt.begin(), salt.end());
  return out;
}

void make_nsec3_rdata(std::vector<uint8_t>& out, bool opt_out, uint16_t iterations,
                      std::span<const uint8_t> salt, const Nsec3Hash& next, std::span<const uint16_t> types) {
  out.clear();
  out.push_back(1);  // SHA-1
  out.push_back(opt_out ? 1 : 0);
  dns::put_u16(out, iterations);
  out.push_back(static_cast<uint8_t>(salt.size()));
  out.insert(out.end(), salt.begin(), salt.end());
  out.push_back(static_cast<uint8_t>(next.size()));
  out.insert(out.end(), next.begin(), next.end());
  append_type_bitmap(out, types);
}

}  // namespace wiresign::signer
