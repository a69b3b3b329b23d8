// Per-algorithm encodings: ECDSA DER to r||s (RFC 6605 §4) and the RSA
// public-key field (RFC 3110 §2).
#include "keystore/algorithm.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "keystore/keystore.h"

namespace wiresign::keystore {
namespace {

TEST(EcdsaSignature, ShortComponentsAreLeftPaddedToTheCurveSize) {
  // SEQUENCE { INTEGER 5, INTEGER 0x80 (DER writes 00 80) }
  std::vector<uint8_t> der{0x30, 0x07, 0x02, 0x01, 0x05, 0x02, 0x02, 0x00, 0x80};
  std::vector<uint8_t> out{0xEE};
  append_ecdsa_raw_signature(der, 32, out);
  ASSERT_EQ(out.size(), 1u + 64u);
  EXPECT_EQ(out[0], 0xEE);
  EXPECT_EQ(out[32], 0x05);
  EXPECT_EQ(out[64], 0x80);
  EXPECT_EQ(std::count(out.begin() + 1, out.end(), 0), 62);
}

TEST(EcdsaSignature, FullWidthComponentsWithTheSignOctet) {
  std::vector<uint8_t> der{0x30, 0x62, 0x02, 0x31, 0x00};
  der.insert(der.end(), 48, 0xFF);
  der.insert(der.end(), {0x02, 0x2D});
  der.insert(der.end(), 45, 0x11);
  std::vector<uint8_t> out;
  append_ecdsa_raw_signature(der, 48, out);
  ASSERT_EQ(out.size(), 96u);
  EXPECT_EQ(out[0], 0xFF);
  EXPECT_EQ(out[47], 0xFF);
  EXPECT_EQ(out[48], 0x00);
  EXPECT_EQ(out[51], 0x11);
}

TEST(EcdsaSignature, MalformedOrTooWideIsRejectedAndOutputUntouched) {
  std::vector<uint8_t> out{1, 2, 3};
  std::vector<uint8_t> truncated{0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x02, 0x01};
  EXPECT_THROW(append_ecdsa_raw_signature(truncated, 32, out), KeystoreError);
  std::vector<uint8_t> too_wide{0x30, 0x08, 0x02, 0x03, 1, 2, 3, 0x02, 0x01, 0x07};
  EXPECT_THROW(append_ecdsa_raw_signature(too_wide, 2, out), KeystoreError);
  std::vector<uint8_t> trailing{0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07, 0x00};
  EXPECT_THROW(append_ecdsa_raw_signature(trailing, 32, out), KeystoreError);
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(RsaPublicKeyField, ShortAndLongExponentsRoundTrip) {
  std::vector<uint8_t> modulus(256, 0xC3);
  std::vector<uint8_t> e{0x01, 0x00, 0x01};
  std::vector<uint8_t> field = rsa_public_key_field(e, modulus);
  EXPECT_EQ(field[0], 3);
  EXPECT_EQ(field.size(), 1u + 3u + 256u);
  std::span<const uint8_t> exponent, n;
  ASSERT_TRUE(split_rsa_public_key_field(field, exponent, n));
  EXPECT_TRUE(std::equal(exponent.begin(), exponent.end(), e.begin(), e.end()));
  EXPECT_EQ(n.size(), 256u);

  // RFC 3110 §2: exponents over 255 octets use a zero octet and a 16-bit length.
  std::vector<uint8_t> long_exponent(300, 0x01);
  field = rsa_public_key_field(long_exponent, modulus);
  EXPECT_EQ((std::vector<uint8_t>(field.begin(), field.begin() + 3)), (std::vector<uint8_t>{0, 0x01, 0x2C}));
  ASSERT_TRUE(split_rsa_public_key_field(field, exponent, n));
  EXPECT_EQ(exponent.size(), 300u);
  EXPECT_EQ(n.size(), 256u);
  EXPECT_FALSE(split_rsa_public_key_field(std::vector<uint8_t>{5, 1, 2}, exponent, n));
}

TEST(GeneratedKeys, PublicKeyFieldHasTheSizeTheRfcsGive) {
  EXPECT_EQ(dnskey_public_key(generate_openssl_key(dns::Algorithm::ecdsap256sha256, 0).get(),
                              dns::Algorithm::ecdsap256sha256).size(), 64u);
  EXPECT_EQ(dnskey_public_key(generate_openssl_key(dns::Algorithm::ecdsap384sha384, 0).get(),
                              dns::Algorithm::ecdsap384sha384).size(), 96u);
  EXPECT_EQ(dnskey_public_key(generate_openssl_key(dns::Algorithm::ed25519, 0).get(),
                              dns::Algorithm::ed25519).size(), 32u);
  std::vector<uint8_t> rsa = dnskey_public_key(generate_openssl_key(dns::Algorithm::rsasha256, 1024).get(),
                                               dns::Algorithm::rsasha256);
  EXPECT_EQ(rsa.size(), 1u + 3u + 128u);
  EXPECT_THROW(generate_openssl_key(dns::Algorithm::rsasha256, 512), KeystoreError);
}

}  // namespace
}  // namespace wiresign::keystore
