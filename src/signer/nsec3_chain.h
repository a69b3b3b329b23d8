// NSEC3 hashing and chain ordering (RFC 5155 §5, §7.1); parameters default
// to RFC 9276 (no extra iterations, empty salt).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace wiresign::signer {

using Nsec3Hash = std::array<uint8_t, 20>;  // SHA-1, the only NSEC3 hash algorithm

// Reusable hasher (keeps its OpenSSL context); one per thread.
class Nsec3Hasher {
 public:
  Nsec3Hasher(std::span<const uint8_t> salt, uint16_t iterations);
  ~Nsec3Hasher();
  Nsec3Hasher(const Nsec3Hasher&) = delete;
  Nsec3Hasher& operator=(const Nsec3Hasher&) = delete;
  // RFC 5155 §5: IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt).
  Nsec3Hash hash(std::string_view owner_wire);

 private:
  std::vector<uint8_t> salt_;
  uint16_t iterations_;
  void* context_;  // EVP_MD_CTX
  void* md_;       // EVP_MD
};

// NSEC3PARAM RDATA: algorithm 1, flags 0, iterations, salt (RFC 5155 §4.2).
std::vector<uint8_t> make_nsec3param_rdata(uint16_t iterations, std::span<const uint8_t> salt);

// NSEC3 RDATA (RFC 5155 §3.2).
void make_nsec3_rdata(std::vector<uint8_t>& out, bool opt_out, uint16_t iterations,
                      std::span<const uint8_t> salt, const Nsec3Hash& next, std::span<const uint16_t> types);

}  // namespace wiresign::signer
