// The outbound answers, served from a zone signed by the real signer with
// real keys: exact-match answers with RRSIGs, refusals, UDP truncation, and
// an AXFR whose records ldns-verify-zone (a tool we did not write) validates.
#include "xfr/responder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "keystore/open_keystore.h"
#include "signer/zone_sign.h"

using namespace wiresign;

namespace {

constexpr uint16_t kAxfr = 252;

class SignedExample : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wiresign-responder-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::ofstream zone_file(dir_ / "zone");
    zone_file << "$ORIGIN example.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 41 3600 900 1209600 300\n"
                 "@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.1\nsub IN NS ns.sub\nns.sub IN A 192.0.2.9\n";
    for (int i = 0; i < 40; ++i) zone_file << "big IN TXT \"" << std::string(60, static_cast<char>('a' + i % 26)) << i << "\"\n";
    for (int i = 0; i < 300; ++i) zone_file << "h" << i << " IN AAAA 2001:db8::" << i << "\n";
    zone_file.close();

    auto store = keystore::open_file_keystore((dir_ / "keys").string());
    signer::ZoneKeys keys;
    keys.keystore = store.get();
    keys.dnskey_signers.push_back(store->generate_key({"example.test.", keystore::KeyRole::ksk}));
    keys.zone_signers.push_back(store->generate_key({"example.test.", keystore::KeyRole::zsk}));
    signer::SignOptions options;
    options.now = static_cast<uint32_t>(time(nullptr));
    options.output = signer::OutputForm::wire;
    options.policy.serial = conf::SerialPolicy::increment;
    signer::Zone zone = signer::load_zone_file((dir_ / "zone").string(), origin_, {});
    signer::prepare_zone(zone, keys, options, "zone", {});
    std::string wire;
    signer::sign_zone(zone, keys, options, [&](std::string_view chunk) { wire.append(chunk); });
    zone_ = std::make_unique<xfr::SignedZone>(origin_, std::move(wire));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  xfr::Message query(const char* name, uint16_t type, bool dnssec, uint16_t udp_size = 1232) {
    xfr::Message q;
    q.header.id = 99;
    q.questions.push_back({dns::Name::from_text(name).wire(), type, 1});
    if (dnssec) {
      xfr::Edns edns;
      edns.dnssec_ok = true;
      edns.udp_size = udp_size;
      q.edns = edns;
    }
    return q;
  }
  xfr::ZoneLookup lookup() {
    return [this](std::string_view qname) -> std::shared_ptr<const xfr::SignedZone> {
      return dns::is_at_or_below(qname, origin_.wire()) ? zone_ : nullptr;
    };
  }

  std::filesystem::path dir_;
  dns::Name origin_ = dns::Name::from_text("example.test.");
  std::shared_ptr<xfr::SignedZone> zone_;
};

size_t count_type(const std::vector<xfr::Record>& records, uint16_t type) {
  return static_cast<size_t>(std::count_if(records.begin(), records.end(), [&](const auto& r) { return r.type == type; }));
}

}  // namespace

TEST_F(SignedExample, SoaCarriesTheBumpedSerialAndRrsigsOnlyWithDo) {
  EXPECT_EQ(zone_->serial(), 42u);
  auto plain = xfr::answer_query(query("example.test.", dns::rr_type::SOA, false), lookup(), true);
  EXPECT_TRUE(plain.header.aa);
  EXPECT_EQ(plain.header.rcode, xfr::rcode::noerror);
  ASSERT_EQ(plain.answers.size(), 1u);
  auto secure = xfr::answer_query(query("EXAMPLE.test.", dns::rr_type::SOA, true), lookup(), true);
  EXPECT_EQ(count_type(secure.answers, dns::rr_type::SOA), 1u);
  EXPECT_EQ(count_type(secure.answers, dns::rr_type::RRSIG), 1u);
  ASSERT_TRUE(secure.edns.has_value());
  EXPECT_TRUE(secure.edns->dnssec_ok);
  auto dnskey = xfr::answer_query(query("example.test.", dns::rr_type::DNSKEY, true), lookup(), false);
  EXPECT_EQ(count_type(dnskey.answers, dns::rr_type::DNSKEY), 2u);
  EXPECT_EQ(count_type(dnskey.answers, dns::rr_type::RRSIG), 1u);
}

TEST_F(SignedExample, RefusesOtherZonesMissingNamesAndTransfersByQuery) {
  EXPECT_EQ(xfr::answer_query(query("example.org.", dns::rr_type::SOA, false), lookup(), true).header.rcode,
            xfr::rcode::refused);
  EXPECT_EQ(xfr::answer_query(query("nope.example.test.", dns::rr_type::A, false), lookup(), true).header.rcode,
            xfr::rcode::refused);
  EXPECT_EQ(xfr::answer_query(query("example.test.", kAxfr, false), lookup(), true).header.rcode,
            xfr::rcode::refused);
  auto notify = query("example.test.", dns::rr_type::SOA, false);
  notify.header.opcode = xfr::opcode::update;
  EXPECT_EQ(xfr::answer_query(notify, lookup(), true).header.rcode, xfr::rcode::notimp);
}

TEST_F(SignedExample, TruncatesOverUdpWhenTheAnswerDoesNotFit) {
  auto small = xfr::answer_query(query("big.example.test.", dns::rr_type::TXT, true, 512), lookup(), true);
  EXPECT_TRUE(small.header.tc);
  EXPECT_TRUE(small.answers.empty());
  auto tcp = xfr::answer_query(query("big.example.test.", dns::rr_type::TXT, true, 512), lookup(), false);
  EXPECT_FALSE(tcp.header.tc);
  EXPECT_EQ(count_type(tcp.answers, dns::rr_type::TXT), 40u);
}

TEST_F(SignedExample, AxfrStartsAndEndsWithSoaFitsItsMessagesAndValidates) {
  auto messages = xfr::build_axfr(query("example.test.", kAxfr, false), *zone_, 4096);
  ASSERT_GT(messages.size(), 3u);
  std::vector<xfr::Record> all;
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_LE(messages[i].size(), 4096u);
    xfr::Message m = xfr::parse_message(messages[i]);
    EXPECT_EQ(m.header.id, 99);
    EXPECT_TRUE(m.header.aa);
    EXPECT_EQ(m.questions.size(), i == 0 ? 1u : 0u);
    all.insert(all.end(), m.answers.begin(), m.answers.end());
  }
  ASSERT_EQ(all.size(), zone_->record_count() + 1);
  EXPECT_EQ(all.front().type, dns::rr_type::SOA);
  EXPECT_EQ(all.back().type, dns::rr_type::SOA);

  std::string text;
  for (size_t i = 0; i + 1 < all.size(); ++i)
    dns::append_record_text(text, {all[i].owner, all[i].type, all[i].rclass, all[i].ttl, all[i].rdata});
  std::ofstream(dir_ / "axfr.zone") << text;
  std::string command = "timeout 120 ldns-verify-zone " + (dir_ / "axfr.zone").string() + " > " +
                        (dir_ / "verify.log").string() + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << std::ifstream(dir_ / "verify.log").rdbuf();
}
