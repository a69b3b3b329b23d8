// TSIG (RFC 8945) against ldns's independent implementation in both
// directions, and each way a signed message must be refused.
#include "xfr/tsig.h"

#include <gtest/gtest.h>

#include <ctime>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "xfr/message.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include <ldns/ldns.h>

using namespace wiresign;
using Outcome = xfr::TsigVerification::Outcome;

namespace {

constexpr const char* kSecret = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5";

xfr::TsigKey key(const char* algorithm = "hmac-sha256", const char* name = "xfr.key") {
  return *xfr::make_tsig_key(name, algorithm, *dns::from_base64(kSecret));
}

std::vector<uint8_t> query_wire() {
  xfr::Message m;
  m.header.id = 777;
  m.questions.push_back({dns::Name::from_text("example.test.").wire(), 252, 1});
  return xfr::build_message(m);
}

// ldns signs the same query; returns its wire form.
std::vector<uint8_t> ldns_signed_query(const char* algorithm) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&pkt, "example.test.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0),
            LDNS_STATUS_OK);
  ldns_pkt_set_id(pkt, 778);
  EXPECT_EQ(ldns_pkt_tsig_sign(pkt, "xfr.key.", kSecret, 300, algorithm, nullptr), LDNS_STATUS_OK);
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  free(wire);
  ldns_pkt_free(pkt);
  return out;
}

}  // namespace

class TsigAlgorithms : public ::testing::TestWithParam<const char*> {};

TEST_P(TsigAlgorithms, VerifiesWhatLdnsSigns) {
  std::string algorithm = std::string(GetParam()) + ".";
  auto wire = ldns_signed_query(algorithm.c_str());
  std::vector<xfr::TsigKey> keys{key(GetParam())};
  auto result = xfr::tsig_verify(wire, keys, static_cast<uint64_t>(std::time(nullptr)));
  EXPECT_EQ(result.outcome, Outcome::ok) << result.describe();
  EXPECT_EQ(result.original_id, 778);
}

TEST_P(TsigAlgorithms, LdnsVerifiesWhatWeSign) {
  auto wire = query_wire();
  xfr::TsigSignOptions options;
  options.time_signed = static_cast<uint64_t>(std::time(nullptr));
  xfr::tsig_sign(wire, key(GetParam()), options);
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  EXPECT_TRUE(ldns_pkt_tsig_verify(pkt, wire.data(), wire.size(), "xfr.key.", kSecret, nullptr));
  ldns_pkt_free(pkt);
}

// ldns 1.8 has no hmac-sha384; that algorithm is covered by the round trip below.
INSTANTIATE_TEST_SUITE_P(All, TsigAlgorithms, ::testing::Values("hmac-sha256", "hmac-sha512", "hmac-sha1"));

TEST(Tsig, Sha384RoundTripsAndDiffersFromSha256) {
  const uint64_t now = 1795392000;
  auto wire = query_wire();
  xfr::TsigSignOptions options;
  options.time_signed = now;
  auto mac = xfr::tsig_sign(wire, key("hmac-sha384"), options);
  EXPECT_EQ(mac.size(), 48u);
  std::vector<xfr::TsigKey> keys{key("hmac-sha384")};
  EXPECT_EQ(xfr::tsig_verify(wire, keys, now).outcome, Outcome::ok);
}

TEST(Tsig, ResponseMacChainsToTheRequestAndTimersOnlyMessages) {
  std::vector<xfr::TsigKey> keys{key()};
  const uint64_t now = 1795392000;
  auto request = query_wire();
  xfr::TsigSignOptions options;
  options.time_signed = now;
  auto request_mac = xfr::tsig_sign(request, keys[0], options);

  auto first = query_wire();
  options.request_mac = request_mac;
  auto first_mac = xfr::tsig_sign(first, keys[0], options);
  EXPECT_EQ(xfr::tsig_verify(first, keys, now, request_mac).outcome, Outcome::ok);
  // The same answer checked as if it answered another request fails.
  EXPECT_EQ(xfr::tsig_verify(first, keys, now, first_mac).outcome, Outcome::badsig);

  auto second = query_wire();
  options.request_mac = first_mac;
  options.timers_only = true;
  xfr::tsig_sign(second, keys[0], options);
  EXPECT_EQ(xfr::tsig_verify(second, keys, now, first_mac, true).outcome, Outcome::ok);
  EXPECT_EQ(xfr::tsig_verify(second, keys, now, first_mac, false).outcome, Outcome::badsig);
}

TEST(Tsig, RefusesWrongKeyWrongAlgorithmBadTimeTamperingAndTruncation) {
  const uint64_t now = 1795392000;
  auto wire = query_wire();
  xfr::TsigSignOptions options;
  options.time_signed = now;
  xfr::tsig_sign(wire, key(), options);

  std::vector<xfr::TsigKey> right{key()};
  EXPECT_EQ(xfr::tsig_verify(wire, right, now).outcome, Outcome::ok);
  EXPECT_EQ(xfr::tsig_verify(wire, right, now + 300).outcome, Outcome::ok);
  EXPECT_EQ(xfr::tsig_verify(wire, right, now + 301).outcome, Outcome::badtime);

  std::vector<xfr::TsigKey> other_name{key("hmac-sha256", "other.key")};
  EXPECT_EQ(xfr::tsig_verify(wire, other_name, now).outcome, Outcome::badkey);
  std::vector<xfr::TsigKey> other_algorithm{key("hmac-sha512")};
  EXPECT_EQ(xfr::tsig_verify(wire, other_algorithm, now).outcome, Outcome::badkey);
  auto wrong_secret = key();
  wrong_secret.secret[0] ^= 1;
  std::vector<xfr::TsigKey> wrong{wrong_secret};
  EXPECT_EQ(xfr::tsig_verify(wire, wrong, now).outcome, Outcome::badsig);

  auto tampered = wire;
  tampered[12 + 2] ^= 0x20;  // a letter of the question name
  EXPECT_EQ(xfr::tsig_verify(tampered, right, now).outcome, Outcome::badsig);

  EXPECT_EQ(xfr::tsig_verify(query_wire(), right, now).outcome, Outcome::unsigned_message);
  auto cut = wire;
  cut.resize(cut.size() - 3);
  EXPECT_EQ(xfr::tsig_verify(cut, right, now).outcome, Outcome::formerr);
}

TEST(Tsig, TruncatedMacsAreRefused) {
  const uint64_t now = 1795392000;
  std::vector<xfr::TsigKey> keys{key()};
  // Re-encode a signed message with its 32-octet MAC cut to `size` octets.
  auto with_mac_size = [&](size_t size) {
    auto wire = query_wire();
    xfr::TsigSignOptions options;
    options.time_signed = now;
    auto mac = xfr::tsig_sign(wire, keys[0], options);
    xfr::Message m = xfr::parse_message(wire);
    auto& rd = m.additional.back().rdata;
    size_t mac_at = keys[0].algorithm.size() + 10;
    rd.erase(rd.begin() + static_cast<long>(mac_at + size), rd.begin() + static_cast<long>(mac_at + mac.size()));
    rd[mac_at - 2] = 0;
    rd[mac_at - 1] = static_cast<uint8_t>(size);
    return xfr::build_message(m);
  };
  EXPECT_EQ(xfr::tsig_verify(with_mac_size(16), keys, now).outcome, Outcome::badtrunc);
  EXPECT_EQ(xfr::tsig_verify(with_mac_size(8), keys, now).outcome, Outcome::formerr);
}
