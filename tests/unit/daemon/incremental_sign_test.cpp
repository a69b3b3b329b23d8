// Signing a change against the version in service (signer::sign_change over
// the daemon's ServedVersionView, input_change, SignedZone::with_owners)
// must give the same zone as signing the new input whole: random changes
// are made both ways and compared record by record (new signatures only by
// what they sign, since ECDSA signatures differ each time), and the result
// passes the independent self-check.
#include "signer/incremental_sign.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <optional>
#include <set>

#include "daemon/input_change.h"
#include "daemon/previous_signatures.h"
#include "dns/rr_type.h"
#include "dns/zone_reader.h"
#include "keystore/open_keystore.h"
#include "signer/self_check.h"
#include "signer/self_check_change.h"
#include "xfr/journal.h"
#include "xfr/signed_zone.h"

using namespace wiresign;

namespace {

const dns::Name kOrigin = dns::Name::from_text("example.test.");

// The unsigned zone as master-file lines after the SOA, one record each.
std::vector<std::string> base_lines() {
  std::vector<std::string> lines = {
      "@ 3600 IN NS ns1",  "@ 3600 IN NS ns2",  "ns1 3600 IN A 192.0.2.53", "ns2 3600 IN A 192.0.2.54",
      "a.b.c 3600 IN TXT \"below empty non-terminals\"", "sub 3600 IN NS ns.sub", "ns.sub 3600 IN A 192.0.2.9",
      "secure 3600 IN NS ns.secure", "secure 3600 IN DS 12345 13 2 "
      "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
      "ns.secure 3600 IN A 192.0.2.10", "*.w 3600 IN MX 10 www", "alias 3600 IN CNAME www"};
  for (int i = 0; i < 60; ++i) lines.push_back("host" + std::to_string(i) + " 3600 IN A 198.51.100." + std::to_string(i));
  return lines;
}

struct SigningSetup {
  std::filesystem::path dir;
  std::unique_ptr<keystore::Keystore> store;
  signer::ZoneKeys keys;
  signer::SignOptions options;

  explicit SigningSetup(bool nsec3 = true, bool opt_out = false) {
    char pattern[] = "/tmp/wiresign-incremental-XXXXXX";
    dir = mkdtemp(pattern);
    store = keystore::open_file_keystore((dir / "keys").string());
    keys.keystore = store.get();
    keys.dnskey_signers.push_back(store->generate_key({"example.test.", keystore::KeyRole::ksk}));
    keys.zone_signers.push_back(store->generate_key({"example.test.", keystore::KeyRole::zsk}));
    options.policy.nsec3 = nsec3;
    options.policy.opt_out = opt_out;
    options.policy.serial = conf::SerialPolicy::increment;
    options.threads = 2;
    options.now = static_cast<uint32_t>(time(nullptr));
    options.output = signer::OutputForm::wire;
    options.nsec3_salt = {0xab, 0xcd};
  }
  ~SigningSetup() { std::filesystem::remove_all(dir); }

  signer::Zone input(const std::vector<std::string>& lines, uint32_t serial) const {
    std::ofstream file(dir / "zone");
    file << "$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster " << serial << " 3600 900 1209600 300\n";
    for (const auto& line : lines) file << line << "\n";
    file.close();
    return signer::load_zone_file((dir / "zone").string(), kOrigin, {});
  }

  // Whole-zone signing, reusing the signatures of `previous` when given.
  std::shared_ptr<xfr::SignedZone> sign_whole(signer::Zone zone, const std::shared_ptr<xfr::SignedZone>& previous) {
    daemon::PreviousSignatures reuse(previous);
    signer::SignOptions o = options;
    if (previous) {
      o.reuse = &reuse;
      o.reuse_until = o.now + 86400;
      o.published_serial = previous->serial();
    }
    signer::prepare_zone(zone, keys, o, "zone", {});
    std::string wire;
    signer::sign_zone(zone, keys, o, [&](std::string_view chunk) { wire.append(chunk); });
    return std::make_shared<xfr::SignedZone>(kOrigin, std::move(wire));
  }

  // The change signed alone as blocks; nullopt (and `why`) when sign_change declines.
  std::optional<signer::SignedChange> sign_change(signer::Zone zone, const std::shared_ptr<xfr::SignedZone>& previous,
                                                  std::string& why) {
    daemon::PreviousSignatures reuse(previous);
    signer::SignOptions o = options;
    o.reuse = &reuse;
    o.reuse_until = o.now + 86400;
    o.published_serial = previous->serial();
    zone.finalize();
    auto change = daemon::input_change(zone, *previous, 1000);
    EXPECT_TRUE(change);
    return signer::sign_change(daemon::ServedVersionView(*previous), kOrigin, *change, keys, o, "zone", {}, why);
  }

  // The change signed alone; nullptr (and `why`) when sign_change declines.
  std::shared_ptr<xfr::SignedZone> sign_incrementally(signer::Zone zone, const std::shared_ptr<xfr::SignedZone>& previous,
                                                      std::string& why, size_t* blocks = nullptr) {
    auto signed_change = sign_change(std::move(zone), previous, why);
    if (!signed_change) return nullptr;
    if (blocks) *blocks = signed_change->blocks.size();
    std::vector<xfr::OwnerRecords> owners;
    for (const auto& b : signed_change->blocks) owners.push_back({b.owner, b.hashed, b.records});
    return std::make_shared<xfr::SignedZone>(previous->with_owners(owners));
  }
};

// A record as compared: everything, but of an RRSIG only what it signs and
// how (its RDATA up to the signature).
std::string comparable(const xfr::SignedZone& zone, size_t i) {
  dns::RecordView rr = zone.record(i);
  std::string text(rr.owner);
  text += "|" + std::to_string(rr.type) + "|" + std::to_string(rr.ttl) + "|";
  size_t length = rr.rdata.size();
  if (rr.type == dns::rr_type::RRSIG) {
    size_t pos = 18;
    while (pos < rr.rdata.size() && rr.rdata[pos] != 0) pos += 1 + rr.rdata[pos];
    length = std::min(rr.rdata.size(), pos + 1);
  }
  text.append(reinterpret_cast<const char*>(rr.rdata.data()), length);
  return text;
}

void expect_same_zone(const xfr::SignedZone& incremental, const xfr::SignedZone& whole, const std::string& what) {
  ASSERT_EQ(incremental.record_count(), whole.record_count()) << what;
  size_t rrsigs = 0;
  for (size_t i = 0; i < whole.record_count(); ++i) {
    ASSERT_EQ(comparable(incremental, i), comparable(whole, i)) << what << ": record " << i;
    rrsigs += whole.record(i).type == dns::rr_type::RRSIG;
  }
  // Counted per segment as versions are cut and changed, for the signing report.
  EXPECT_EQ(whole.count_of(dns::rr_type::RRSIG), rrsigs) << what;
  EXPECT_EQ(incremental.count_of(dns::rr_type::RRSIG), rrsigs) << what;
}

// The independent check of a change (self_check_change) over `blocks` applied to `previous`.
signer::SelfCheckReport check_change(const xfr::SignedZone& previous, const std::vector<signer::OwnerBlock>& blocks) {
  std::vector<xfr::OwnerRecords> owners;
  std::vector<std::string_view> all, names, hashed;
  for (const auto& b : blocks) {
    owners.push_back({b.owner, b.hashed, b.records});
    all.push_back(b.owner);
    (b.hashed ? hashed : names).push_back(b.owner);
  }
  xfr::SignedZone next = previous.with_owners(owners);
  xfr::ZoneDiff diff = xfr::diff_owners(previous, next, all);
  std::vector<std::string_view> rrsigs;
  for (auto record : xfr::split_records(diff.added))
    if (xfr::record_type(record) == dns::rr_type::RRSIG) rrsigs.push_back(record);
  return signer::self_check_change(kOrigin, daemon::ServedVersionView(next), names, hashed, rrsigs, {});
}

void expect_self_check_passes(const xfr::SignedZone& zone, const std::string& what) {
  signer::SelfCheckOptions options;
  options.threads = 2;
  std::string scratch;
  signer::SelfCheckReport report = signer::self_check_zone(kOrigin, zone.wire(scratch), nullptr, options);
  EXPECT_TRUE(report.problems.empty()) << what << ": " << (report.problems.empty() ? "" : report.problems[0]);
  EXPECT_GT(report.rrsigs_verified, 0u);
}

// Toggles `line` in the zone: added when absent, removed when present.
void toggle(std::vector<std::string>& lines, const std::string& line) {
  auto it = std::find(lines.begin(), lines.end(), line);
  if (it == lines.end()) lines.push_back(line);
  else lines.erase(it);
}

// `rounds` rounds of one to four random changes of every kind a primary
// makes (names, records, empty non-terminals that appear and vanish, cuts
// above other names, glue, DS, wildcards, DNAME, apex data), each signed
// both ways; the two must agree record by record and pass both checks.
void random_changes_agree(SigningSetup& setup, uint32_t seed, int rounds) {
  std::vector<std::string> lines = base_lines();
  uint32_t serial = 1;
  auto served = setup.sign_whole(setup.input(lines, serial), nullptr);
  std::mt19937 random(seed);
  int fresh = 0;
  std::vector<std::string> deep, delegations;
  for (int round = 0; round < rounds; ++round) {
    std::string what = "round " + std::to_string(round) + ":";
    int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const int before = static_cast<int>(lines.size());
      switch (random() % 14) {
        case 0:  // a new name directly under the apex
          lines.push_back("new" + std::to_string(fresh++) + " 300 IN AAAA 2001:db8::" + std::to_string(round + 1));
          break;
        case 1: {  // a host goes
          auto it = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("host", 0) == 0; });
          if (it == lines.end()) break;
          size_t skip = random() % 5;
          for (; skip && std::next(it) != lines.end() && std::next(it)->rfind("host", 0) == 0; --skip) ++it;
          what += " remove " + *it + ";";
          lines.erase(it);
          break;
        }
        case 2: {  // an address changes
          size_t k = 12 + random() % (lines.size() - 12);
          if (lines[k].find(" IN A ") == std::string::npos) break;
          lines[k] = lines[k].substr(0, lines[k].rfind(' ')) + " 203.0.113." + std::to_string(random() % 250);
          what += " change " + lines[k] + ";";
          break;
        }
        case 3: {  // a second record at an existing name, or a TTL change
          size_t k = 12 + random() % (lines.size() - 12);
          std::string owner = lines[k].substr(0, lines[k].find(' '));
          lines.push_back(owner + " 3600 IN TXT \"round " + std::to_string(round) + "\"");
          break;
        }
        case 4:  // data at the empty non-terminal b.c, and gone again
          toggle(lines, "b.c 3600 IN TXT \"now a name\"");
          break;
        case 5: {  // a name two empty non-terminals down
          int k = fresh++;
          deep.push_back("d" + std::to_string(k) + ".e" + std::to_string(k % 3) + ".deep 300 IN A 192.0.2." +
                         std::to_string(k % 250));
          lines.push_back(deep.back());
          break;
        }
        case 6: {  // such a name goes, and with it maybe its empty non-terminals
          if (deep.empty()) break;
          size_t k = random() % deep.size();
          lines.erase(std::find(lines.begin(), lines.end(), deep[k]));
          what += " remove " + deep[k] + ";";
          deep.erase(deep.begin() + static_cast<long>(k));
          break;
        }
        case 7:  // a cut above a.b.c (and b.c when it has data), and gone again
          toggle(lines, "c 3600 IN NS ns.elsewhere.");
          break;
        case 8:  // glue below an existing delegation
          toggle(lines, "glue.sub 3600 IN A 192.0.2.2");
          break;
        case 9:  // sub becomes a secure delegation, and insecure again
          toggle(lines, "sub 3600 IN DS 54321 13 2 "
                        "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789");
          break;
        case 10:  // a wildcard below an empty non-terminal
          toggle(lines, "*.wild 300 IN TXT \"any\"");
          break;
        case 11:  // data at the apex
          toggle(lines, "@ 3600 IN TXT \"apex " + std::to_string(round % 2) + "\"");
          break;
        case 12: {  // a delegation with its glue under the empty non-terminal dz, or one goes
          if (!delegations.empty() && random() % 2) {
            std::string name = delegations.back();
            delegations.pop_back();
            lines.erase(std::find(lines.begin(), lines.end(), name + " 3600 IN NS ns." + name));
            lines.erase(std::find(lines.begin(), lines.end(), "ns." + name + " 3600 IN A 192.0.2.99"));
            what += " remove delegation " + name + ";";
            break;
          }
          std::string name = "z" + std::to_string(fresh++) + ".dz";
          delegations.push_back(name);
          lines.push_back(name + " 3600 IN NS ns." + name);
          lines.push_back("ns." + name + " 3600 IN A 192.0.2.99");
          what += " add delegation " + name + ";";
          break;
        }
        default:  // a DNAME at a leaf
          toggle(lines, "moved 3600 IN DNAME elsewhere.example.");
      }
      if (static_cast<int>(lines.size()) > before) what += " add " + lines.back() + ";";
    }
    signer::Zone input = setup.input(lines, ++serial);
    std::string why;
    auto incremental = setup.sign_incrementally(setup.input(lines, serial), served, why);
    auto whole = setup.sign_whole(std::move(input), served);
    ASSERT_TRUE(incremental) << what << " declined: " << why;
    auto blocks = setup.sign_change(setup.input(lines, serial), served, why);
    ASSERT_TRUE(blocks);
    signer::SelfCheckReport report = check_change(*served, blocks->blocks);
    EXPECT_TRUE(report.problems.empty()) << what << ": " << (report.problems.empty() ? "" : report.problems[0]);
    EXPECT_GE(report.rrsigs_verified, 1u) << what;  // the SOA's at least
    expect_same_zone(*incremental, *whole, what);
    expect_self_check_passes(*incremental, what);
    if (testing::Test::HasFailure()) return;
    served = incremental;
  }
}

TEST(IncrementalSign, RandomChangesGiveTheZoneWholeSigningGivesWithNsec3) {
  SigningSetup setup;
  random_changes_agree(setup, 20261207, 60);
}

TEST(IncrementalSign, RandomChangesGiveTheZoneWholeSigningGivesWithNsec3OptOut) {
  SigningSetup setup(true, true);
  random_changes_agree(setup, 7, 60);
}

TEST(IncrementalSign, RandomChangesGiveTheZoneWholeSigningGivesWithNsec) {
  SigningSetup setup(false);
  random_changes_agree(setup, 1207, 60);
}

TEST(IncrementalSign, OneNewNameTouchesOnlyItsNeighbourhood) {
  SigningSetup setup;
  std::vector<std::string> lines = base_lines();
  auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
  lines.push_back("added 300 IN A 192.0.2.77");
  std::string why;
  size_t blocks = 0;
  auto next = setup.sign_incrementally(setup.input(lines, 2), served, why, &blocks);
  ASSERT_TRUE(next) << why;
  // The apex (new SOA), the new name, its NSEC3 and the one before it in the ring.
  EXPECT_EQ(blocks, 4u);
  xfr::ZoneDiff diff = xfr::diff_zones(*served, *next);
  // SOA and its RRSIG; the A and its RRSIG; the new NSEC3 and its RRSIG;
  // the neighbour's NSEC3 and RRSIG (relinked).
  EXPECT_EQ(diff.removed_count, 4u);
  EXPECT_EQ(diff.added_count, 8u);
  EXPECT_EQ(next->serial(), served->serial() + 1);
}

TEST(IncrementalSign, TheChangeCheckFindsABadSignatureAndABrokenRing) {
  SigningSetup setup;
  std::vector<std::string> lines = base_lines();
  auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
  lines.push_back("added 300 IN A 192.0.2.77");
  std::string why;
  auto change = setup.sign_change(setup.input(lines, 2), served, why);
  ASSERT_TRUE(change) << why;
  signer::SelfCheckReport good = check_change(*served, change->blocks);
  EXPECT_TRUE(good.problems.empty()) << good.problems[0];
  EXPECT_EQ(good.chain_links_checked, 4u);  // each of the two changed NSEC3s and the one before it
  EXPECT_EQ(good.rrsigs_verified, 4u);      // SOA, A, two NSEC3s

  // The new name's RRSIG damaged: ldns says it does not verify.
  auto damaged = change->blocks;
  auto name = std::find_if(damaged.begin(), damaged.end(), [](const signer::OwnerBlock& b) {
    return !b.hashed && b.owner.find("added") != std::string::npos;
  });
  ASSERT_NE(name, damaged.end());
  name->records.back() ^= 0x01;  // the last octet of its RRSIG's signature
  signer::SelfCheckReport bad = check_change(*served, damaged);
  ASSERT_FALSE(bad.problems.empty());
  EXPECT_NE(bad.problems[0].find("does not verify"), std::string::npos) << bad.problems[0];

  // The neighbour left unrelinked: the ring skips the new NSEC3.
  auto unlinked = change->blocks;
  size_t hashed_blocks = 0;
  for (const auto& b : unlinked) hashed_blocks += b.hashed;
  ASSERT_EQ(hashed_blocks, 2u);
  auto neighbour = std::find_if(unlinked.begin(), unlinked.end(), [&](const signer::OwnerBlock& b) {
    auto h = served->owner_range(b.owner);
    return b.hashed && h;  // the NSEC3 owner that was there before
  });
  ASSERT_NE(neighbour, unlinked.end());
  unlinked.erase(neighbour);
  bad = check_change(*served, unlinked);
  ASSERT_FALSE(bad.problems.empty());
  EXPECT_NE(bad.problems[0].find("next hashed owner"), std::string::npos) << bad.problems[0];
}

TEST(IncrementalSign, LeavesToWholeSigningOnlyWhatChangesEveryName) {
  SigningSetup setup;
  std::vector<std::string> lines = base_lines();
  auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
  // Names around the change: signed alone now.
  for (const std::string add : {"x.y.new 300 IN A 192.0.2.1", "glue.sub 300 IN A 192.0.2.2",
                                "c 300 IN NS ns.elsewhere.", "@ 300 IN TXT \"apex\""}) {
    std::vector<std::string> changed = lines;
    changed.push_back(add);
    std::string why;
    EXPECT_TRUE(setup.sign_incrementally(setup.input(changed, 2), served, why)) << add << ": " << why;
  }
  // Another key signs the zone's data and the one before stops at once
  // (not retiring gradually): every signature moves, so the whole zone is signed.
  setup.keys.zone_signers = {setup.store->generate_key({"example.test.", keystore::KeyRole::zsk})};
  setup.keys.dnskeys = {setup.keys.dnskey_signers[0], setup.keys.zone_signers[0]};
  std::string why;
  EXPECT_FALSE(setup.sign_incrementally(setup.input(lines, 2), served, why));
  EXPECT_NE(why.find("stops signing the zone's data at once"), std::string::npos) << why;
  // So does another algorithm.
  setup.keys.zone_signers = {setup.store->generate_key(
      {"example.test.", keystore::KeyRole::zsk, dns::Algorithm::ed25519})};
  setup.keys.retiring_zone_signers = {};
  EXPECT_FALSE(setup.sign_incrementally(setup.input(lines, 2), served, why));
  EXPECT_NE(why.find("algorithms that sign"), std::string::npos) << why;
}

// The key tag of the RRSIG over `type` at `owner` (0: none).
uint16_t signer_of(const xfr::SignedZone& zone, const std::string& owner, uint16_t type) {
  std::vector<dns::RecordView> records;
  daemon::ServedVersionView(zone).records_at(dns::Name::from_text(owner).wire(), records);
  for (const auto& r : records)
    if (r.type == dns::rr_type::RRSIG && dns::get_u16(r.rdata.data()) == type) return dns::get_u16(r.rdata.data() + 16);
  return 0;
}

// A ZSK switch is a change too: the new ZSK signs what changes, the
// retiring one's signatures stay until they come due (RFC 7583 §3.2.1 with
// the sign delay), and the zone checks with both DNSKEYs published.
TEST(IncrementalSign, ANewZskTakesOverAsSignaturesComeDue) {
  for (bool nsec3 : {true, false}) {
    SigningSetup setup(nsec3);
    const std::string mode = nsec3 ? "NSEC3" : "NSEC";
    std::vector<std::string> lines = base_lines();
    auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
    const keystore::KeyInfo ksk = setup.keys.dnskey_signers[0], old_zsk = setup.keys.zone_signers[0];
    const keystore::KeyInfo new_zsk = setup.store->generate_key({"example.test.", keystore::KeyRole::zsk});
    setup.keys.dnskeys = {ksk, old_zsk, new_zsk};
    setup.keys.zone_signers = {new_zsk};
    setup.keys.retiring_zone_signers = {old_zsk};
    std::vector<std::string> changed = lines;
    changed.push_back("fresh 300 IN A 192.0.2.77");
    std::string why;
    auto incremental = setup.sign_incrementally(setup.input(changed, 2), served, why);
    ASSERT_TRUE(incremental) << mode << ": " << why;
    auto whole = setup.sign_whole(setup.input(changed, 2), served);
    expect_same_zone(*incremental, *whole, mode);
    expect_self_check_passes(*incremental, mode);
    EXPECT_EQ(signer_of(*incremental, "fresh.example.test.", dns::rr_type::A), new_zsk.key_tag) << mode;
    EXPECT_EQ(signer_of(*incremental, "example.test.", dns::rr_type::SOA), new_zsk.key_tag) << mode;
    EXPECT_EQ(signer_of(*incremental, "host7.example.test.", dns::rr_type::A), old_zsk.key_tag)
        << mode << ": an RRset not due keeps the retiring ZSK's signature";
    // Signatures come due: renewed by the new ZSK, not the retiring one.
    setup.options.now += 200 * 86400;
    auto renewed = setup.sign_whole(setup.input(changed, 3), incremental);
    EXPECT_EQ(signer_of(*renewed, "host7.example.test.", dns::rr_type::A), new_zsk.key_tag) << mode;
  }
}

// A key event that changes only the apex's key records (a ZSK published
// ahead of its use or withdrawn after it, every step of a KSK roll with its
// CDS/CDNSKEY) is signed as a change: the same zone as whole signing, and
// both checks pass.
TEST(IncrementalSign, KeyEventsOnTheApexAreSignedAsChanges) {
  for (bool nsec3 : {true, false}) {
    SigningSetup setup(nsec3);
    const std::string mode = nsec3 ? "NSEC3: " : "NSEC: ";
    std::vector<std::string> lines = base_lines();
    auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
    const keystore::KeyInfo ksk1 = setup.keys.dnskey_signers[0], zsk1 = setup.keys.zone_signers[0];
    const keystore::KeyInfo zsk2 = setup.store->generate_key({"example.test.", keystore::KeyRole::zsk});
    const keystore::KeyInfo ksk2 = setup.store->generate_key({"example.test.", keystore::KeyRole::ksk});
    struct Step {
      std::string what;
      std::vector<keystore::KeyInfo> dnskey_signers, dnskeys, cds;
    };
    const std::vector<Step> steps = {
        {"a new ZSK published before it signs", {ksk1}, {ksk1, zsk1, zsk2}, {}},
        {"a new KSK signs the DNSKEY RRset, its CDS and CDNSKEY published", {ksk1, ksk2}, {ksk1, ksk2, zsk1, zsk2}, {ksk2}},
        {"the old KSK withdrawn, the CDS too", {ksk2}, {ksk2, zsk1, zsk2}, {}},
        {"the unused ZSK withdrawn", {ksk2}, {ksk2, zsk1}, {}},
    };
    uint32_t serial = 1;
    for (const auto& step : steps) {
      const std::string what = mode + step.what;
      setup.keys.dnskey_signers = step.dnskey_signers;
      setup.keys.dnskeys = step.dnskeys;
      setup.keys.cds = step.cds;
      ++serial;
      std::string why;
      auto change = setup.sign_change(setup.input(lines, serial), served, why);
      ASSERT_TRUE(change) << what << ": " << why;
      signer::SelfCheckReport report = check_change(*served, change->blocks);
      EXPECT_TRUE(report.problems.empty()) << what << ": " << (report.problems.empty() ? "" : report.problems[0]);
      auto incremental = setup.sign_incrementally(setup.input(lines, serial), served, why);
      ASSERT_TRUE(incremental) << what << ": " << why;
      auto whole = setup.sign_whole(setup.input(lines, serial), served);
      expect_same_zone(*incremental, *whole, what);
      expect_self_check_passes(*incremental, what);
      // Only the apex changed (and, with NSEC3, the apex's NSEC3 when its types did).
      EXPECT_LE(change->blocks.size(), 2u) << what;
      served = incremental;
    }
  }
}

TEST(IncrementalSign, NsecTtlChangeIsSignedWhole) {
  SigningSetup setup(false);
  std::vector<std::string> lines = base_lines();
  auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
  // The SOA minimum sets every NSEC's TTL (RFC 9077).
  std::ofstream file(setup.dir / "zone");
  file << "$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 2 3600 900 1209600 60\n";
  for (const auto& line : lines) file << line << "\n";
  file.close();
  std::string why;
  EXPECT_FALSE(setup.sign_incrementally(signer::load_zone_file((setup.dir / "zone").string(), kOrigin, {}), served, why));
  EXPECT_NE(why.find("NSEC TTL"), std::string::npos) << why;
}

TEST(IncrementalSign, DataBelowADnameIsRefusedLikeWholeSigning) {
  for (bool nsec3 : {true, false}) {
    SigningSetup setup(nsec3);
    std::vector<std::string> lines = base_lines();
    lines.push_back("moved 3600 IN DNAME elsewhere.example.");
    auto served = setup.sign_whole(setup.input(lines, 1), nullptr);
    // A name below the DNAME in service, and a DNAME above names in service.
    for (const std::string add : {"www.moved 300 IN A 192.0.2.1", "c 300 IN DNAME elsewhere.example."}) {
      std::vector<std::string> changed = lines;
      changed.push_back(add);
      std::string why;
      EXPECT_THROW(setup.sign_whole(setup.input(changed, 2), served), dns::ZoneFileError) << add;
      try {
        setup.sign_incrementally(setup.input(changed, 2), served, why);
        ADD_FAILURE() << add << ": accepted";
      } catch (const dns::ZoneFileError& e) {
        EXPECT_NE(std::string(e.what()).find("below the DNAME"), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
