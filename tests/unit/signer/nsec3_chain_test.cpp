// NSEC3 hashing against RFC 5155 Appendix A, and the NSEC/NSEC3 RDATA layout.
#include "signer/nsec3_chain.h"

#include <gtest/gtest.h>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "signer/nsec_chain.h"

using namespace wiresign;

namespace {
std::string hashed(signer::Nsec3Hasher& hasher, const char* name) {
  std::string out;
  dns::append_base32hex(out, hasher.hash(dns::Name::from_text(name).wire()));
  return out;
}
}  // namespace

TEST(Nsec3Hash, MatchesRfc5155AppendixA) {
  auto salt = *dns::from_hex("aabbccdd");
  signer::Nsec3Hasher hasher(salt, 12);
  EXPECT_EQ(hashed(hasher, "example."), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  EXPECT_EQ(hashed(hasher, "a.example."), "35mthgpgcu1qg68fab165klnsnk3dpvl");
  EXPECT_EQ(hashed(hasher, "*.w.example."), "r53bq7cc2uvmubfu5ocmm6pers9tk9en");
}

TEST(TypeBitmap, EncodesWindowsLikeRfc4034Example) {
  // RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234.
  std::vector<uint16_t> types = {1, 15, 46, 47, 1234};
  std::vector<uint8_t> out;
  signer::append_type_bitmap(out, types);
  std::vector<uint8_t> expected = {0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b};
  expected.insert(expected.end(), 26, 0x00);
  expected.push_back(0x20);
  EXPECT_EQ(out, expected);
}

TEST(DenialTtl, IsLesserOfSoaTtlAndMinimum) {
  std::vector<uint8_t> soa(22, 0);
  soa[0] = 0;  // MNAME root
  soa[1] = 0;  // RNAME root
  soa[21] = 60;  // MINIMUM = 60
  EXPECT_EQ(signer::denial_ttl(3600, soa), 60u);
  EXPECT_EQ(signer::denial_ttl(30, soa), 30u);
}
