// DNS message parsing and building, cross-checked against ldns's own wire
// code, and hostile inputs (loops, forward pointers, truncation).
#include "xfr/message.h"

#include <gtest/gtest.h>

#include <string>

#include "dns/name.h"
#include "dns/rr_type.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include <ldns/ldns.h>

using namespace wiresign;

namespace {

std::vector<uint8_t> ldns_wire(const char* const* answers, size_t count, bool edns_do) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&pkt, "Example.TEST.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, LDNS_AA),
            LDNS_STATUS_OK);
  ldns_pkt_set_id(pkt, 4711);
  ldns_pkt_set_qr(pkt, true);
  for (size_t i = 0; i < count; ++i) {
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, answers[i], 3600, nullptr, nullptr), LDNS_STATUS_OK) << answers[i];
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
  }
  if (edns_do) {
    ldns_pkt_set_edns_udp_size(pkt, 4096);
    ldns_pkt_set_edns_do(pkt, true);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  free(wire);
  ldns_pkt_free(pkt);
  return out;
}

const char* const kAnswers[] = {
    "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 7 3600 900 1209600 300",
    "www.example.test. 300 IN MX 10 mail.example.test.",
    "_x._tcp.example.test. 300 IN SRV 1 2 3 www.example.test.",
    "www.example.test. 300 IN A 192.0.2.1",
};

}  // namespace

TEST(Message, ParsesWhatLdnsWritesWithCompressionDecompressed) {
  auto wire = ldns_wire(kAnswers, 4, true);
  xfr::Message m = xfr::parse_message(wire);
  EXPECT_EQ(m.header.id, 4711);
  EXPECT_TRUE(m.header.qr);
  EXPECT_TRUE(m.header.aa);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(dns::to_text(m.questions[0].name), "Example.TEST.");
  EXPECT_EQ(m.questions[0].type, 252);
  ASSERT_EQ(m.answers.size(), 4u);
  EXPECT_EQ(m.answers[0].type, dns::rr_type::SOA);
  // The SOA RDATA holds both names uncompressed, then the five counters.
  EXPECT_EQ(m.answers[0].rdata.size(), 18u + 25u + 20u);
  // ldns compresses case-insensitively, so names may carry the question's case.
  auto same_name = [](std::string_view name, const char* text) {
    return dns::canonical_compare(name, dns::Name::from_text(text).wire()) == 0;
  };
  EXPECT_TRUE(same_name(m.answers[1].owner, "www.example.test."));
  std::string mx(m.answers[1].rdata.begin() + 2, m.answers[1].rdata.end());
  EXPECT_TRUE(same_name(mx, "mail.example.test.")) << dns::to_text(mx);
  std::string srv(m.answers[2].rdata.begin() + 6, m.answers[2].rdata.end());
  EXPECT_TRUE(same_name(srv, "www.example.test.")) << dns::to_text(srv);
  ASSERT_TRUE(m.edns.has_value());
  EXPECT_TRUE(m.edns->dnssec_ok);
  EXPECT_EQ(m.edns->udp_size, 4096);
  EXPECT_TRUE(m.additional.empty());
}

TEST(Message, BuildsWhatLdnsParsesBackIdentically) {
  xfr::Message original = xfr::parse_message(ldns_wire(kAnswers, 4, true));
  std::vector<uint8_t> wire = xfr::build_message(original);
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_id(pkt), 4711);
  EXPECT_EQ(ldns_pkt_ancount(pkt), 4);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt));
  for (size_t i = 0; i < 4; ++i) {
    ldns_rr* expected = nullptr;
    ASSERT_EQ(ldns_rr_new_frm_str(&expected, kAnswers[i], 3600, nullptr, nullptr), LDNS_STATUS_OK);
    EXPECT_EQ(ldns_rr_compare(expected, ldns_rr_list_rr(ldns_pkt_answer(pkt), i)), 0) << kAnswers[i];
    ldns_rr_free(expected);
  }
  ldns_pkt_free(pkt);
  // Compression made it smaller than the sum of its uncompressed names.
  EXPECT_LT(wire.size(), 200u);
  EXPECT_EQ(xfr::parse_message(wire).answers[0].rdata, original.answers[0].rdata);
}

TEST(Message, RefusesCompressionLoopsAndForwardPointers) {
  // Header with one question whose name is a pointer to itself.
  std::vector<uint8_t> loop = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  EXPECT_THROW(xfr::parse_message(loop), xfr::MessageError);
  std::vector<uint8_t> forward = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 16, 0, 1, 0, 1, 0};
  EXPECT_THROW(xfr::parse_message(forward), xfr::MessageError);
}

TEST(Message, RefusesTruncationJunkAndLongNames) {
  auto wire = ldns_wire(kAnswers, 4, false);
  for (size_t cut : {size_t{5}, size_t{20}, wire.size() - 1}) {
    std::vector<uint8_t> truncated(wire.begin(), wire.begin() + static_cast<long>(cut));
    EXPECT_THROW(xfr::parse_message(truncated), xfr::MessageError) << cut;
  }
  auto junk = wire;
  junk.push_back(0);
  EXPECT_THROW(xfr::parse_message(junk), xfr::MessageError);
  std::vector<uint8_t> long_name = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 5; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'a');
  }
  long_name.insert(long_name.end(), {0, 0, 1, 0, 1});
  EXPECT_THROW(xfr::parse_message(long_name), xfr::MessageError);
}
