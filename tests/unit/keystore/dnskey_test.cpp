// DNSKEY RDATA, key tags (RFC 4034 Appendix B) and DS presentation form.
#include "keystore/dnskey.h"

#include <gtest/gtest.h>

#include "dns/base_encoding.h"

namespace wiresign::keystore {
namespace {

// RFC 8080 §6.1: an Ed25519 KSK of example.com with key tag 3613 and its DS.
KeyInfo rfc8080_example() {
  KeyInfo key;
  key.zone = "example.com.";
  key.flags = 257;
  key.algorithm = dns::Algorithm::ed25519;
  key.public_key = *dns::from_base64("l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=");
  return key;
}

TEST(Dnskey, RdataIsFlagsProtocolAlgorithmAndKey) {
  KeyInfo key;
  key.flags = 257;
  key.algorithm = dns::Algorithm::ed25519;
  key.public_key = {1, 2, 3};
  EXPECT_EQ(dnskey_rdata(key), (std::vector<uint8_t>{0x01, 0x01, 3, 15, 1, 2, 3}));
}

TEST(Dnskey, KeyTagOfTheRfc8080Example) {
  EXPECT_EQ(compute_key_tag(dnskey_rdata(rfc8080_example())), 3613);
}

TEST(Dnskey, KeyTagFoldsTheCarry) {
  // Words 0xFFFF + 0x0001 = 0x10000: the carry is added back in (RFC 4034 Appendix B).
  std::vector<uint8_t> rdata{0xFF, 0xFF, 0x00, 0x01};
  EXPECT_EQ(compute_key_tag(rdata), 0x0001);
  // An odd length counts the last octet as the high half of a word.
  EXPECT_EQ(compute_key_tag(std::vector<uint8_t>{0x12, 0x34, 0x56}), 0x1234 + 0x5600);
}

TEST(Dnskey, DsOfTheRfc8080Example) {
  EXPECT_EQ(ds_text(rfc8080_example(), dns::DigestType::sha256, 3600),
            "example.com. 3600 IN DS 3613 15 2 "
            "3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B");
}

TEST(Dnskey, DsOwnerNameIsCanonicalisedToLowerCase) {
  KeyInfo lower = rfc8080_example();
  KeyInfo upper = lower;
  upper.zone = "Example.COM.";
  EXPECT_EQ(ds_rdata(lower, dns::DigestType::sha384), ds_rdata(upper, dns::DigestType::sha384));
  EXPECT_EQ(ds_rdata(lower, dns::DigestType::sha384).size(), 4u + 48u);
}

TEST(Dnskey, PresentationForms) {
  KeyInfo key;
  key.zone = "example.test.";
  key.flags = 257;
  key.algorithm = dns::Algorithm::ecdsap256sha256;
  key.public_key.assign(64, 0xAB);
  std::string text = dnskey_text(key, 3600);
  EXPECT_EQ(text.rfind("example.test. 3600 IN DNSKEY 257 3 13 q6ur", 0), 0u) << text;
  EXPECT_EQ(text.find(' ', 40), std::string::npos) << "base64 must be one word: " << text;
  EXPECT_EQ(dnskey_text(key, 0, false).rfind("example.test. IN DNSKEY 257 3 13 ", 0), 0u);
  EXPECT_EQ(ds_text(key, dns::DigestType::sha256, 0, false).rfind("example.test. IN DS ", 0), 0u);
  EXPECT_EQ(key_role_name(KeyRole::csk), "csk");
}

}  // namespace
}  // namespace wiresign::keystore
