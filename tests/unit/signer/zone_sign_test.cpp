// Whole-zone signing in wire form, checked in-process by ldns's validator
// (a code path we did not write): every RRSIG verifies against the DNSKEY
// set, and text and wire output carry the same records.
#include "signer/zone_sign.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <map>

#include "dns/record.h"
#include "dns/rr_type.h"
#include "keystore/open_keystore.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include <ldns/ldns.h>

using namespace wiresign;

namespace {

struct Fixture {
  std::filesystem::path dir;
  Fixture() {
    char pattern[] = "/tmp/wiresign-sign-XXXXXX";
    dir = mkdtemp(pattern);
    std::ofstream(dir / "zone") << "$ORIGIN example.test.\n$TTL 3600\n"
                                   "@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n"
                                   "@ IN NS ns1\nns1 IN A 192.0.2.53\n"
                                   "www IN A 192.0.2.1\nwww IN A 192.0.2.2\n"
                                   "a.b.c IN TXT \"below empty non-terminals\"\n"
                                   "sub IN NS ns.sub\nns.sub IN A 192.0.2.9\n"
                                   "*.w IN MX 10 www\n";
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

// Splits a wire-form stream into ldns records.
std::vector<ldns_rr*> parse_stream(const std::string& bytes) {
  std::vector<ldns_rr*> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    ldns_rr* rr = nullptr;
    size_t before = pos;
    EXPECT_EQ(ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &pos,
                           LDNS_SECTION_ANSWER),
              LDNS_STATUS_OK);
    if (!rr || pos == before) break;
    out.push_back(rr);
  }
  return out;
}

// How a test signs: the denial type, the time, a version to reuse RRSIGs
// from, and the serial already published.
struct SignSetup {
  bool nsec3 = true;
  uint32_t now = static_cast<uint32_t>(time(nullptr));
  const signer::SignatureSource* reuse = nullptr;
  uint32_t reuse_until = 0;
  std::optional<uint32_t> published_serial;
  conf::SerialPolicy serial = conf::SerialPolicy::unixtime;
  bool resign_bump = false;
};

std::string sign(const Fixture& f, signer::OutputForm form, const SignSetup& setup, signer::SignStats* stats) {
  auto store = keystore::open_file_keystore((f.dir / "keys").string());
  signer::ZoneKeys keys;
  keys.keystore = store.get();
  auto existing = store->list_keys("example.test.");
  if (existing.empty()) {
    existing.push_back(store->generate_key({"example.test.", keystore::KeyRole::ksk}));
    existing.push_back(store->generate_key({"example.test.", keystore::KeyRole::zsk}));
  }
  for (const auto& k : existing) (k.flags == 257 ? keys.dnskey_signers : keys.zone_signers).push_back(k);
  signer::SignOptions options;
  options.policy.nsec3 = setup.nsec3;
  options.policy.serial = setup.serial;
  options.policy.resign_bump = setup.resign_bump;
  options.threads = 2;
  options.now = setup.now;
  options.output = form;
  options.reuse = setup.reuse;
  options.reuse_until = setup.reuse_until;
  options.published_serial = setup.published_serial;
  signer::Zone zone = signer::load_zone_file((f.dir / "zone").string(), dns::Name::from_text("example.test."), {});
  signer::prepare_zone(zone, keys, options, "zone", {});
  std::string out;
  *stats = signer::sign_zone(zone, keys, options, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

std::string sign(const Fixture& f, signer::OutputForm form, bool nsec3, signer::SignStats* stats) {
  SignSetup setup;
  setup.nsec3 = nsec3;
  return sign(f, form, setup, stats);
}

uint32_t soa_serial_of(const std::string& wire) {
  uint32_t serial = 0;
  for (ldns_rr* rr : parse_stream(wire)) {
    if (!serial && ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
    ldns_rr_free(rr);
  }
  return serial;
}

// An earlier signed version as a SignatureSource: its RRsets and RRSIGs by
// (owner, type), as the daemon's adapter over the served zone offers them.
class EarlierVersion : public signer::SignatureSource {
 public:
  explicit EarlierVersion(std::string wire) : wire_(std::move(wire)) {
    const auto* data = reinterpret_cast<const uint8_t*>(wire_.data());
    size_t pos = 0;
    while (pos < wire_.size()) {
      size_t start = pos;
      while (data[pos] != 0) pos += 1 + data[pos];
      ++pos;
      std::string owner(wire_, start, pos - start);
      uint16_t type = dns::get_u16(data + pos);
      uint32_t ttl = dns::get_u32(data + pos + 4);
      uint16_t length = dns::get_u16(data + pos + 8);
      std::span<const uint8_t> rdata(data + pos + 10, length);
      pos += 10 + length;
      if (type == dns::rr_type::RRSIG) {
        rrsets_[{owner, dns::get_u16(rdata.data())}].rrsigs.push_back(rdata);
      } else {
        auto& set = rrsets_[{owner, type}];
        set.ttl = ttl;
        set.rdatas.push_back(rdata);
      }
    }
  }
  void signatures_over(const signer::RRsetToSign& rrset, std::vector<std::span<const uint8_t>>& out) const override {
    auto it = rrsets_.find({std::string(rrset.owner), rrset.type});
    if (it == rrsets_.end() || it->second.ttl != rrset.ttl || it->second.rdatas.size() != rrset.rdatas.size()) return;
    for (size_t i = 0; i < rrset.rdatas.size(); ++i)
      if (!std::ranges::equal(it->second.rdatas[i], rrset.rdatas[i])) return;
    out.insert(out.end(), it->second.rrsigs.begin(), it->second.rrsigs.end());
  }

 private:
  struct Set {
    uint32_t ttl = 0;
    std::vector<std::span<const uint8_t>> rdatas, rrsigs;
  };
  std::string wire_;
  std::map<std::pair<std::string, uint16_t>, Set> rrsets_;
};

// Verifies every RRSIG of a wire-form signed zone with ldns against its
// RRset and the zone's DNSKEYs; returns how many were checked.
size_t verify_every_rrsig(const std::string& wire) {
  auto records = parse_stream(wire);
  EXPECT_FALSE(records.empty());
  ldns_rr_list* dnskeys = ldns_rr_list_new();
  std::map<std::pair<std::string, int>, ldns_rr_list*> rrsets;
  std::vector<ldns_rr*> rrsigs;
  for (ldns_rr* rr : records) {
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY) ldns_rr_list_push_rr(dnskeys, rr);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
      rrsigs.push_back(rr);
      continue;
    }
    char* owner = ldns_rdf2str(ldns_rr_owner(rr));
    auto& list = rrsets[{owner, ldns_rr_get_type(rr)}];
    free(owner);
    if (!list) list = ldns_rr_list_new();
    ldns_rr_list_push_rr(list, rr);
  }
  for (ldns_rr* sig : rrsigs) {
    char* owner = ldns_rdf2str(ldns_rr_owner(sig));
    auto covered = static_cast<int>(ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)));
    auto it = rrsets.find({owner, covered});
    EXPECT_NE(it, rrsets.end()) << "RRSIG without its RRset at " << owner;
    if (it != rrsets.end()) {
      ldns_rr_list* good = ldns_rr_list_new();
      EXPECT_EQ(ldns_verify_rrsig_keylist(it->second, sig, dnskeys, good), LDNS_STATUS_OK)
          << owner << " type " << covered;
      ldns_rr_list_free(good);
    }
    free(owner);
  }
  for (auto& entry : rrsets) ldns_rr_list_free(entry.second);
  ldns_rr_list_free(dnskeys);
  for (ldns_rr* rr : records) ldns_rr_free(rr);
  return rrsigs.size();
}

}  // namespace

class ZoneSignDenial : public ::testing::TestWithParam<bool> {};

TEST_P(ZoneSignDenial, EveryRrsigInWireOutputVerifiesWithLdns) {
  Fixture f;
  signer::SignStats stats;
  std::string wire = sign(f, signer::OutputForm::wire, GetParam(), &stats);
  EXPECT_EQ(verify_every_rrsig(wire), stats.rrsigs);
  // Glue below the delegation is in the output but never signed.
  bool glue = false;
  for (ldns_rr* rr : parse_stream(wire)) {
    char* owner = ldns_rdf2str(ldns_rr_owner(rr));
    if (std::string(owner) == "ns.sub.example.test.") {
      glue |= ldns_rr_get_type(rr) == LDNS_RR_TYPE_A;
      EXPECT_NE(ldns_rr_get_type(rr), LDNS_RR_TYPE_RRSIG);
    }
    free(owner);
    ldns_rr_free(rr);
  }
  EXPECT_TRUE(glue);
}

TEST_P(ZoneSignDenial, TextAndWireOutputHoldTheSameRecords) {
  Fixture f;
  signer::SignStats wire_stats, text_stats;
  auto records = parse_stream(sign(f, signer::OutputForm::wire, GetParam(), &wire_stats));
  std::string text = sign(f, signer::OutputForm::text, GetParam(), &text_stats);
  EXPECT_EQ(records.size(), static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
  EXPECT_EQ(wire_stats.rrsigs, text_stats.rrsigs);
  EXPECT_EQ(wire_stats.denial_records, text_stats.denial_records);
  for (ldns_rr* rr : records) ldns_rr_free(rr);
}

INSTANTIATE_TEST_SUITE_P(NsecAndNsec3, ZoneSignDenial, ::testing::Values(false, true));

TEST_P(ZoneSignDenial, ReusesStillGoodRrsigsAndSignsOnlyWhatChanged) {
  Fixture f;
  SignSetup setup;
  setup.nsec3 = GetParam();
  signer::SignStats first;
  std::string v1 = sign(f, signer::OutputForm::wire, setup, &first);
  EXPECT_EQ(first.rrsigs_reused, 0u);

  // A new host: its A RRset, its NSEC/NSEC3 and a neighbour's, and the SOA
  // (new serial) need new signatures; everything else is kept.
  std::ofstream(f.dir / "zone", std::ios::app) << "new IN A 192.0.2.77\n";
  EarlierVersion earlier(v1);
  setup.reuse = &earlier;
  setup.now += 60;
  setup.reuse_until = setup.now + 5 * 86400;
  setup.published_serial = soa_serial_of(v1);
  signer::SignStats second;
  std::string v2 = sign(f, signer::OutputForm::wire, setup, &second);
  size_t made = second.rrsigs - second.rrsigs_reused;
  // NSEC: SOA, new A, new NSEC, the predecessor's NSEC. NSEC3: SOA, new A,
  // new NSEC3, the predecessor's NSEC3.
  EXPECT_EQ(made, 4u);
  EXPECT_EQ(second.rrsigs_reused, first.rrsigs - 2);  // the old SOA's and predecessor's RRSIGs went
  EXPECT_EQ(verify_every_rrsig(v2), second.rrsigs);

  // Signatures that expire before reuse_until are all made anew.
  EarlierVersion second_version(v2);
  setup.reuse = &second_version;
  setup.reuse_until = setup.now + 20 * 86400;  // past every expiration (validity 14 days)
  setup.published_serial = soa_serial_of(v2);
  signer::SignStats third;
  std::string v3 = sign(f, signer::OutputForm::wire, setup, &third);
  EXPECT_EQ(third.rrsigs_reused, 0u);
  EXPECT_EQ(verify_every_rrsig(v3), third.rrsigs);

  // A signature whose inception is still ahead (clock went back) is not kept.
  EarlierVersion third_version(v3);
  setup.reuse = &third_version;
  setup.now -= 7200;  // before the inception (now - 1 h offset)
  setup.reuse_until = setup.now;
  signer::SignStats fourth;
  sign(f, signer::OutputForm::wire, setup, &fourth);
  EXPECT_EQ(fourth.rrsigs_reused, 0u);
}

TEST(ZoneSignSerial, EveryPublicationIsNewerExceptWithKeepUnlessResignBumpAllowsIt) {
  Fixture f;  // its input serial is 1
  signer::SignStats stats;
  SignSetup setup;
  setup.serial = conf::SerialPolicy::increment;
  setup.published_serial = 41;
  EXPECT_EQ(soa_serial_of(sign(f, signer::OutputForm::wire, setup, &stats)), 42u);
  setup.serial = conf::SerialPolicy::keep;
  EXPECT_EQ(soa_serial_of(sign(f, signer::OutputForm::wire, setup, &stats)), 1u);
  setup.published_serial = 1;
  EXPECT_EQ(soa_serial_of(sign(f, signer::OutputForm::wire, setup, &stats)), 1u);
  setup.resign_bump = true;
  EXPECT_EQ(soa_serial_of(sign(f, signer::OutputForm::wire, setup, &stats)), 2u);
  setup.published_serial = 0;  // the input (1) is newer: kept as it is
  EXPECT_EQ(soa_serial_of(sign(f, signer::OutputForm::wire, setup, &stats)), 1u);
}

// Going insecure ends with the zone published without DNSSEC: the input's
// records (delegation DS included) and a newer serial, nothing the signer adds.
TEST_P(ZoneSignDenial, AZoneServedUnsignedCarriesNoDnssecRecordsAndANewerSerial) {
  Fixture f;
  std::ofstream(f.dir / "zone", std::ios::app) << "sub IN DS 12345 13 2 "
                                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
  signer::ZoneKeys keys;  // no keystore, no keys
  keys.serve_unsigned = true;
  signer::SignOptions options;
  options.policy.nsec3 = GetParam();
  options.policy.serial = conf::SerialPolicy::increment;
  options.published_serial = 7;
  options.now = static_cast<uint32_t>(time(nullptr));
  options.output = signer::OutputForm::wire;
  signer::Zone zone = signer::load_zone_file((f.dir / "zone").string(), dns::Name::from_text("example.test."), {});
  const size_t input_records = zone.record_count();
  signer::prepare_zone(zone, keys, options, "zone", {});
  std::string out;
  signer::SignStats stats = signer::sign_zone(zone, keys, options, [&](std::string_view chunk) { out.append(chunk); });
  EXPECT_EQ(stats.rrsigs, 0u);
  std::map<ldns_rr_type, size_t> types;
  size_t records = 0;
  for (ldns_rr* rr : parse_stream(out)) {
    ++types[ldns_rr_get_type(rr)];
    ++records;
    ldns_rr_free(rr);
  }
  EXPECT_EQ(records, input_records);
  for (ldns_rr_type dnssec : {LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_DNSKEY, LDNS_RR_TYPE_NSEC, LDNS_RR_TYPE_NSEC3,
                              LDNS_RR_TYPE_NSEC3PARAM, LDNS_RR_TYPE_CDS, LDNS_RR_TYPE_CDNSKEY})
    EXPECT_EQ(types[dnssec], 0u) << "type " << dnssec;
  EXPECT_EQ(types[LDNS_RR_TYPE_DS], 1u) << "the delegation's DS is the child's, and stays";
  EXPECT_EQ(soa_serial_of(out), 8u);
}
