// The pre-publication self-check: zones the real signer signed (NSEC, NSEC3,
// NSEC3 opt-out; with empty non-terminals, delegations, glue and occluded
// data) pass it, and copies broken after signing fail it with a problem
// that names the owner and type at fault.
#include "signer/self_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "dns/base_encoding.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "keystore/open_keystore.h"
#include "signer/nsec3_chain.h"
#include "signer/zone_sign.h"

using namespace wiresign;
namespace rr = dns::rr_type;

namespace {

enum class Denial { nsec, nsec3, nsec3_opt_out };

const dns::Name kOrigin = dns::Name::from_text("example.test.");

// b.c and c are empty non-terminals; x is one above an insecure delegation
// only; sec is a secure delegation, sub and d.x insecure ones; ns.sec and
// ns.sub are glue, hidden.sub occluded data.
constexpr const char* kZone =
    "$ORIGIN example.test.\n$TTL 3600\n"
    "@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n"
    "@ IN NS ns1\nns1 IN A 192.0.2.53\n"
    "www IN A 192.0.2.1\nwww IN A 192.0.2.2\nwww IN AAAA 2001:db8::1\n"
    "a.b.c IN TXT \"below empty non-terminals\"\n"
    "sec IN NS ns.sec\nns.sec IN A 192.0.2.10\n"
    "sec IN DS 12345 13 2 2A4B6D526A3C165B8EEEF96B6927F0F4A650617386C4AAB286E321FAB5A4A732\n"
    "sub IN NS ns.sub\nns.sub IN A 192.0.2.9\nhidden.sub IN TXT \"occluded\"\n"
    "d.x IN NS ns.example.net.\n"
    "*.w IN MX 10 www\n";

// A zone signed by the project's signer, in wire form, split into records.
class SignedZone {
 public:
  explicit SignedZone(Denial denial) {
    char pattern[] = "/tmp/wiresign-selfcheck-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::ofstream(dir_ / "zone") << kZone;
    auto store = keystore::open_file_keystore((dir_ / "keys").string());
    signer::ZoneKeys keys;
    keys.keystore = store.get();
    keys.dnskey_signers.push_back(store->generate_key({"example.test.", keystore::KeyRole::ksk}));
    keys.zone_signers.push_back(store->generate_key({"example.test.", keystore::KeyRole::zsk}));
    signer::SignOptions options;
    options.policy.nsec3 = denial != Denial::nsec;
    options.policy.opt_out = denial == Denial::nsec3_opt_out;
    options.threads = 2;
    options.now = now;
    options.output = signer::OutputForm::wire;
    signer::Zone zone = signer::load_zone_file((dir_ / "zone").string(), kOrigin, {});
    signer::prepare_zone(zone, keys, options, "zone", {});
    std::string wire;
    stats = signer::sign_zone(zone, keys, options, [&](std::string_view chunk) { wire.append(chunk); });
    for (size_t pos = 0; pos < wire.size();) {
      size_t end = owner_end(wire, pos);
      end += 10 + dns::get_u16(octets(wire) + end + 8);
      records.push_back(wire.substr(pos, end - pos));
      pos = end;
    }
  }
  ~SignedZone() { std::filesystem::remove_all(dir_); }

  static size_t owner_end(std::string_view wire, size_t pos) {
    while (wire[pos] != 0) pos += 1 + static_cast<uint8_t>(wire[pos]);
    return pos + 1;
  }
  static std::string owner_of(const std::string& record) {
    return dns::to_text(record.substr(0, owner_end(record, 0)));
  }
  static const uint8_t* octets(const std::string& record) { return reinterpret_cast<const uint8_t*>(record.data()); }
  static uint16_t field(const std::string& record, size_t at) { return dns::get_u16(octets(record) + at); }
  static uint16_t type_of(const std::string& record) { return field(record, owner_end(record, 0)); }
  static size_t rdata_at(const std::string& record) { return owner_end(record, 0) + 10; }
  static uint16_t covered_of(const std::string& record) {
    return type_of(record) == rr::RRSIG ? field(record, rdata_at(record)) : 0;
  }
  static uint32_t expiration_of(const std::string& rrsig) { return dns::get_u32(octets(rrsig) + rdata_at(rrsig) + 8); }

  // Index of the record of `owner` with `type` (for RRSIGs, covering `covered`).
  size_t find(const std::string& owner, uint16_t type, uint16_t covered = 0) const {
    for (size_t i = 0; i < records.size(); ++i)
      if (owner_of(records[i]) == owner && type_of(records[i]) == type && covered_of(records[i]) == covered) return i;
    ADD_FAILURE() << "no " << owner << " " << dns::type_name(type) << " " << dns::type_name(covered);
    return 0;
  }
  size_t count(uint16_t type) const {
    return std::count_if(records.begin(), records.end(), [&](const auto& r) { return type_of(r) == type; });
  }
  // The NSEC3 owner `name` hashes to (empty salt, no extra iterations: the default policy).
  static std::string hashed_owner(const std::string& name) {
    signer::Nsec3Hasher hasher({}, 0);
    std::string out;
    dns::append_base32hex(out, hasher.hash(dns::Name::from_text(name).wire()));
    return out + ".example.test.";
  }
  std::string wire() const {
    std::string out;
    for (const auto& r : records) out += r;
    return out;
  }
  signer::SelfCheckReport check(const std::vector<std::string_view>* list = nullptr, uint32_t at = 0,
                                size_t max_problems = 0) const {
    signer::SelfCheckOptions options;
    options.now = at ? at : now;
    options.threads = 2;
    options.max_problems = max_problems;
    std::string bytes = wire();
    return signer::self_check_zone(kOrigin, bytes, list, options);
  }
  signer::SelfCheckReport check_chain_only() const {
    std::vector<std::string_view> none;
    return check(&none);
  }

  const uint32_t now = static_cast<uint32_t>(time(nullptr));
  signer::SignStats stats;
  std::vector<std::string> records;

 private:
  std::filesystem::path dir_;
};

::testing::AssertionResult has_problem(const signer::SelfCheckReport& report,
                                       std::initializer_list<std::string_view> parts) {
  for (const auto& problem : report.problems)
    if (std::all_of(parts.begin(), parts.end(), [&](auto part) { return problem.find(part) != std::string::npos; }))
      return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure() << "no problem with all of:";
  for (auto part : parts) failure << " [" << part << "]";
  failure << "; problems:";
  for (const auto& problem : report.problems) failure << "\n  " << problem;
  return failure;
}

std::string problems_of(const signer::SelfCheckReport& report) {
  std::string out;
  for (const auto& p : report.problems) out += "\n  " + p;
  return out;
}

}  // namespace

class SelfCheck : public ::testing::TestWithParam<Denial> {};

TEST_P(SelfCheck, AcceptsWhatTheSignerWroteAndVerifiesEveryRrsig) {
  SignedZone zone(GetParam());
  auto report = zone.check();
  EXPECT_TRUE(report.problems.empty()) << problems_of(report);
  EXPECT_EQ(report.rrsigs_verified, zone.stats.rrsigs);
  EXPECT_EQ(report.rrsigs_verified, zone.count(rr::RRSIG));
  EXPECT_EQ(report.chain_links_checked, zone.stats.denial_records);
}

TEST_P(SelfCheck, AcceptsRecordsInAnyOrder) {
  SignedZone zone(GetParam());
  std::reverse(zone.records.begin(), zone.records.end());
  auto report = zone.check();
  EXPECT_TRUE(report.problems.empty()) << problems_of(report);
  EXPECT_EQ(report.rrsigs_verified, zone.stats.rrsigs);
  EXPECT_EQ(report.chain_links_checked, zone.stats.denial_records);
}

TEST_P(SelfCheck, ChainOnlyCheckVerifiesNoRrsigButWalksTheWholeChain) {
  SignedZone zone(GetParam());
  auto report = zone.check_chain_only();
  EXPECT_TRUE(report.problems.empty()) << problems_of(report);
  EXPECT_EQ(report.rrsigs_verified, 0u);
  EXPECT_EQ(report.chain_links_checked, zone.stats.denial_records);
}

TEST_P(SelfCheck, ReportsAFlippedByteInASignature) {
  SignedZone zone(GetParam());
  zone.records[zone.find("www.example.test.", rr::RRSIG, rr::AAAA)].back() ^= 0x01;
  auto report = zone.check();
  EXPECT_TRUE(has_problem(report, {"www.example.test. AAAA: RRSIG", "does not verify"}));
  EXPECT_EQ(report.problems.size(), 1u) << problems_of(report);
  EXPECT_EQ(report.rrsigs_verified, zone.stats.rrsigs - 1);
}

TEST_P(SelfCheck, ReportsAnRrsetChangedAfterSigning) {
  SignedZone zone(GetParam());
  auto& a = zone.records[zone.find("www.example.test.", rr::A)];
  a.back() = 7;  // 192.0.2.1 becomes 192.0.2.7
  auto report = zone.check();
  EXPECT_TRUE(has_problem(report, {"www.example.test. A: RRSIG", "does not verify"}));
}

TEST_P(SelfCheck, ReportsARemovedRrsig) {
  SignedZone zone(GetParam());
  zone.records.erase(zone.records.begin() + zone.find("www.example.test.", rr::RRSIG, rr::AAAA));
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"www.example.test. AAAA: no RRSIG"}));
}

TEST_P(SelfCheck, ReportsAMissingDnskeyAtTheApex) {
  SignedZone zone(GetParam());
  std::erase_if(zone.records, [](const std::string& r) {
    return SignedZone::type_of(r) == rr::DNSKEY || SignedZone::covered_of(r) == rr::DNSKEY;
  });
  auto report = zone.check();
  EXPECT_TRUE(has_problem(report, {"example.test. DNSKEY: the apex has no DNSKEY RRset"}));
}

TEST_P(SelfCheck, ReportsExpiredSignaturesWhetherVerifiedOrNot) {
  SignedZone zone(GetParam());
  // The RRSIG that expires first; a second later it alone has expired.
  size_t first = 0;
  uint32_t earliest = UINT32_MAX;
  for (size_t i = 0; i < zone.records.size(); ++i) {
    if (SignedZone::type_of(zone.records[i]) != rr::RRSIG) continue;
    uint32_t expiration = SignedZone::expiration_of(zone.records[i]);
    if (expiration < earliest) earliest = expiration, first = i;
  }
  std::string at = SignedZone::owner_of(zone.records[first]) + " " +
                   dns::type_name(SignedZone::covered_of(zone.records[first])) + ": RRSIG";
  auto verified = zone.check(nullptr, earliest + 1);
  EXPECT_TRUE(has_problem(verified, {at, "does not verify", "(valid "}));
  std::vector<std::string_view> none;
  auto unverified = zone.check(&none, earliest + 1);
  EXPECT_TRUE(has_problem(unverified, {at, "expired at"}));
  EXPECT_EQ(verified.problems.size(), unverified.problems.size());
}

TEST_P(SelfCheck, ReportsAnRrsigOverGlue) {
  SignedZone zone(GetParam());
  // The RRSIG of www A, moved to the glue ns.sub A.
  std::string rrsig = zone.records[zone.find("www.example.test.", rr::RRSIG, rr::A)];
  std::string glue_owner = dns::Name::from_text("ns.sub.example.test.").wire();
  zone.records.push_back(glue_owner + rrsig.substr(SignedZone::owner_end(rrsig, 0)));
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"ns.sub.example.test. A: RRSIG below the zone cut at sub.example.test."}));
}

TEST_P(SelfCheck, VerifiesOnlyTheListedRrsigs) {
  SignedZone zone(GetParam());
  // A broken RRSIG that is not listed goes unverified.
  zone.records[zone.find("www.example.test.", rr::RRSIG, rr::AAAA)].back() ^= 0x01;
  std::vector<std::string_view> list = {zone.records[zone.find("www.example.test.", rr::RRSIG, rr::A)],
                                        zone.records[zone.find("example.test.", rr::RRSIG, rr::SOA)]};
  auto report = zone.check(&list);
  EXPECT_TRUE(report.problems.empty()) << problems_of(report);
  EXPECT_EQ(report.rrsigs_verified, 2u);

  list.push_back(zone.records[zone.find("www.example.test.", rr::RRSIG, rr::AAAA)]);
  report = zone.check(&list);
  EXPECT_TRUE(has_problem(report, {"www.example.test. AAAA: RRSIG", "does not verify"}));
  EXPECT_EQ(report.rrsigs_verified, 2u);

  // A listed RRSIG the zone does not hold would never be published.
  std::string stray = zone.records[zone.find("www.example.test.", rr::RRSIG, rr::A)];
  stray.back() ^= 0x01;
  list = {stray};
  report = zone.check(&list);
  EXPECT_TRUE(has_problem(report, {"www.example.test. A: RRSIG", "is not in the zone"}));
  EXPECT_EQ(report.rrsigs_verified, 0u);
}

TEST_P(SelfCheck, StopsCollectingAtMaxProblems) {
  SignedZone zone(GetParam());
  auto report = zone.check(nullptr, zone.now + 400 * 86400, 3);  // every RRSIG has expired
  EXPECT_EQ(report.problems.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(NsecNsec3OptOut, SelfCheck,
                         ::testing::Values(Denial::nsec, Denial::nsec3, Denial::nsec3_opt_out),
                         [](const auto& test) {
                           return std::string(test.param == Denial::nsec    ? "Nsec"
                                              : test.param == Denial::nsec3 ? "Nsec3"
                                                                            : "Nsec3OptOut");
                         });

TEST(SelfCheckNsec, ReportsARemovedNsec) {
  SignedZone zone(Denial::nsec);
  zone.records.erase(zone.records.begin() + zone.find("www.example.test.", rr::NSEC));
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"www.example.test. NSEC: missing"}));
}

TEST(SelfCheckNsec, ReportsAWrongTypeBitmap) {
  SignedZone zone(Denial::nsec);
  auto& nsec = zone.records[zone.find("www.example.test.", rr::NSEC)];
  size_t bitmap = SignedZone::owner_end(nsec, SignedZone::rdata_at(nsec));
  nsec[bitmap + 3] ^= 0x01;  // adds MX (type 15) to A AAAA RRSIG NSEC
  auto report = zone.check();
  EXPECT_TRUE(has_problem(report, {"www.example.test. NSEC: type bitmap lists A MX AAAA RRSIG NSEC",
                                   "expected A AAAA RRSIG NSEC"}));
  EXPECT_TRUE(has_problem(report, {"www.example.test. NSEC: RRSIG", "does not verify"}));
}

TEST(SelfCheckNsec, ReportsAWrongNextName) {
  SignedZone zone(Denial::nsec);
  auto& nsec = zone.records[zone.find("sub.example.test.", rr::NSEC)];
  nsec[SignedZone::rdata_at(nsec) + 1] ^= 0x01;
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"sub.example.test. NSEC: next name is", "expected *.w.example.test."}));
}

TEST(SelfCheckNsec, ReportsNsecBelowAZoneCut) {
  SignedZone zone(Denial::nsec);
  std::string nsec = zone.records[zone.find("www.example.test.", rr::NSEC)];
  zone.records.push_back(dns::Name::from_text("hidden.sub.example.test.").wire() +
                         nsec.substr(SignedZone::owner_end(nsec, 0)));
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"hidden.sub.example.test. NSEC: NSEC below the zone cut at sub.example.test."}));
}

TEST(SelfCheckNsec3, ReportsARemovedNsec3) {
  SignedZone zone(Denial::nsec3);
  std::string owner = SignedZone::hashed_owner("www.example.test.");
  zone.records.erase(zone.records.begin() + zone.find(owner, rr::NSEC3));
  auto report = zone.check();
  EXPECT_TRUE(has_problem(report, {"www.example.test. NSEC3: missing; expected at " + owner}));
  EXPECT_TRUE(has_problem(report, {"NSEC3: next hashed owner is " + owner.substr(0, 32)}));
}

TEST(SelfCheckNsec3, ReportsARemovedNsec3OfAnEmptyNonTerminal) {
  SignedZone zone(Denial::nsec3_opt_out);
  std::string owner = SignedZone::hashed_owner("b.c.example.test.");
  zone.records.erase(zone.records.begin() + zone.find(owner, rr::NSEC3));
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"b.c.example.test. (empty non-terminal) NSEC3: missing"}));
}

TEST(SelfCheckNsec3, ReportsAWrongTypeBitmap) {
  SignedZone zone(Denial::nsec3);
  std::string owner = SignedZone::hashed_owner("www.example.test.");
  auto& nsec3 = zone.records[zone.find(owner, rr::NSEC3)];
  nsec3[SignedZone::rdata_at(nsec3) + 26 + 3] ^= 0x01;  // after algorithm .. next hash: adds MX
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {owner + " NSEC3 (for www.example.test.): type bitmap lists A MX AAAA RRSIG",
                                   "expected A AAAA RRSIG"}));
}

TEST(SelfCheckNsec3, ReportsAWrongNextHashedOwner) {
  SignedZone zone(Denial::nsec3);
  std::string owner = SignedZone::hashed_owner("sec.example.test.");
  auto& nsec3 = zone.records[zone.find(owner, rr::NSEC3)];
  nsec3[SignedZone::rdata_at(nsec3) + 6] ^= 0x01;
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {owner + " NSEC3: next hashed owner is", "but the following NSEC3 is"}));
}

TEST(SelfCheckNsec3, LeavesInsecureDelegationsOutOnlyUnderOptOut) {
  SignedZone zone(Denial::nsec3_opt_out);
  auto has_owner = [&](const std::string& owner) {
    return std::any_of(zone.records.begin(), zone.records.end(),
                       [&](const auto& r) { return SignedZone::owner_of(r) == owner; });
  };
  ASSERT_FALSE(has_owner(SignedZone::hashed_owner("sub.example.test.")));
  ASSERT_TRUE(has_owner(SignedZone::hashed_owner("sec.example.test.")));
  for (auto& r : zone.records)
    if (SignedZone::type_of(r) == rr::NSEC3) r[SignedZone::rdata_at(r) + 1] = 0;  // clear opt-out
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {"sub.example.test. NSEC3: missing at", "no opt-out NSEC3 covers it"}));
  EXPECT_TRUE(has_problem(report, {"d.x.example.test. NSEC3: missing at", "no opt-out NSEC3 covers it"}));
}

TEST(SelfCheckNsec3, ReportsAnNsec3ThatMatchesNoName) {
  SignedZone zone(Denial::nsec3);
  // www's NSEC3 (and its RRSIG) kept, but www itself gone.
  std::erase_if(zone.records, [](const std::string& r) { return SignedZone::owner_of(r) == "www.example.test."; });
  auto report = zone.check_chain_only();
  EXPECT_TRUE(has_problem(report, {SignedZone::hashed_owner("www.example.test.") + " NSEC3: matches no name"}));
}
