// Whole-zone signing in wire form, checked in-process by ldns's validator
// (a code path we did not write): every RRSIG verifies against the DNSKEY
// set, and text and wire output carry the same records.
#include "signer/zone_sign.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
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

std::string sign(const Fixture& f, signer::OutputForm form, bool nsec3, signer::SignStats* stats) {
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
  options.policy.nsec3 = nsec3;
  options.threads = 2;
  options.now = static_cast<uint32_t>(time(nullptr));
  options.output = form;
  signer::Zone zone = signer::load_zone_file((f.dir / "zone").string(), dns::Name::from_text("example.test."), {});
  signer::prepare_zone(zone, keys, options, "zone", {});
  std::string out;
  *stats = signer::sign_zone(zone, keys, options, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

}  // namespace

class ZoneSignDenial : public ::testing::TestWithParam<bool> {};

TEST_P(ZoneSignDenial, EveryRrsigInWireOutputVerifiesWithLdns) {
  Fixture f;
  signer::SignStats stats;
  std::string wire = sign(f, signer::OutputForm::wire, GetParam(), &stats);
  auto records = parse_stream(wire);
  ASSERT_FALSE(records.empty());

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
  ASSERT_EQ(ldns_rr_list_rr_count(dnskeys), 2u);
  EXPECT_EQ(rrsigs.size(), stats.rrsigs);
  for (ldns_rr* sig : rrsigs) {
    char* owner = ldns_rdf2str(ldns_rr_owner(sig));
    auto covered = static_cast<int>(ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)));
    auto it = rrsets.find({owner, covered});
    ASSERT_NE(it, rrsets.end()) << "RRSIG without its RRset at " << owner;
    ldns_rr_list* good = ldns_rr_list_new();
    EXPECT_EQ(ldns_verify_rrsig_keylist(it->second, sig, dnskeys, good), LDNS_STATUS_OK)
        << owner << " type " << covered;
    ldns_rr_list_free(good);
    free(owner);
  }
  // Glue below the delegation is in the output but never signed.
  EXPECT_TRUE(rrsets.count({"ns.sub.example.test.", LDNS_RR_TYPE_A}));
  for (ldns_rr* sig : rrsigs) {
    char* owner = ldns_rdf2str(ldns_rr_owner(sig));
    EXPECT_STRNE(owner, "ns.sub.example.test.");
    free(owner);
  }
  for (auto& entry : rrsets) ldns_rr_list_free(entry.second);
  ldns_rr_list_free(dnskeys);
  for (ldns_rr* rr : records) ldns_rr_free(rr);
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
