// Rollovers walked over years of simulated time: after every step, every
// combination of DS, DNSKEY and signatures a resolver could hold in cache
// must validate (model_resolver.h), and each roll must finish.
#include "policy/rollover.h"

#include <gtest/gtest.h>

#include "policy/key_rules.h"
#include "rollover_world.h"

namespace wiresign::policy {
namespace {

using keystore::KeyRole;
using test::World;
constexpr auto kP256 = dns::Algorithm::ecdsap256sha256;
constexpr auto kEd25519 = dns::Algorithm::ed25519;
constexpr auto kRsa = dns::Algorithm::rsasha256;
constexpr UnixTime kDay = 86400;

// A zone signed under `policy` and settled: keys in service, DS at the parent.
World signed_world(SigningPolicy policy) {
  World world(policy);
  world.run_for_days(20);
  EXPECT_TRUE(world.settled());
  EXPECT_EQ(world.failures, 0u);
  return world;
}

TEST(Rollover, InitialSigningPublishesKeysAndAsksForTheDsOnceTheDnskeyIsEverywhere) {
  World world(test::test_policy());
  world.step();
  ASSERT_EQ(world.created.size(), 2u);  // a KSK and a ZSK
  KeyUse use = key_use(world.ring, world.policy);
  EXPECT_EQ(use.dnskeys.size(), 2u);
  EXPECT_EQ(use.zone_signers.size(), 1u);
  EXPECT_EQ(use.dnskey_signers.size(), 1u);
  EXPECT_TRUE(use.ds.empty()) << "no DS before the DNSKEY is in every cache";

  world.run_for_days(10);
  EXPECT_TRUE(world.settled());
  EXPECT_EQ(world.failures, 0u);
  EXPECT_EQ(world.ds_at_parent(), test::KeySet({"ksk1"}));
  EXPECT_EQ(world.created.size(), 2u);
  // Nothing is due while no lifetime is set and nothing is under way.
  EXPECT_FALSE(plan_next_key_event(world.ring, world.policy, world.now));
}

TEST(Rollover, ZskRollsByPrePublicationAtTheEndOfEachLifetime) {
  SigningPolicy policy = test::test_policy();
  policy.zsk_lifetime_s = 30 * kDay;
  World world = signed_world(policy);
  world.run_for_days(2 * 365);
  EXPECT_EQ(world.failures, 0u);
  // One ZSK per ~30 days (plus the time a roll takes) over two years.
  size_t zsks = std::count_if(world.created.begin(), world.created.end(),
                              [](const std::string& id) { return id.rfind("zsk", 0) == 0; });
  EXPECT_GE(zsks, 22u);
  EXPECT_LE(zsks, 26u);
  EXPECT_EQ(world.count_events("retiring: lifetime ends"), zsks - 1);
  EXPECT_LE(world.ring.keys.size(), 3u) << "retired ZSKs are removed";
  EXPECT_EQ(world.keys_with(KeyRole::ksk, kP256), 1u);
  EXPECT_GT(world.steps, 100u);
  EXPECT_EQ(world.max_zone_signers, 1u) << "pre-publication: the zone is never signed twice";
}

// A new ZSK takes over RRset by RRset: the old one's signatures go only
// after the sign delay (validity - refresh) and the caches' time, unless a
// whole-zone signing puts the new signatures on every RRset at once.
TEST(Rollover, ZskTakeoverWaitsTheSignDelayUnlessTheWholeZoneIsSigned) {
  for (bool whole : {false, true}) {
    SigningPolicy policy = test::test_policy();
    policy.zsk_lifetime_s = 30 * kDay;
    World world = signed_world(policy);
    UnixTime switched = 0, gone = 0;
    for (int day = 0; day < 120 && !gone; ++day) {
      world.run_for_days(0.25);
      for (const auto& e : world.events) {
        if (!switched && e.what == "ZRRSIG omnipresent -> unretentive") {
          switched = e.when;
          if (whole) world.sign_whole_zone();
        }
        if (switched && !gone && e.what == "ZRRSIG unretentive -> hidden") gone = e.when;
      }
    }
    EXPECT_EQ(world.failures, 0u);
    ASSERT_TRUE(switched && gone) << (whole ? "whole" : "gradual");
    const UnixTime caches = policy.zone_max_ttl_s + policy.propagation_delay_s + policy.retire_safety_s;
    const UnixTime sign_delay = policy.validity_s - policy.refresh_s;
    if (whole) {
      EXPECT_LE(gone - switched, caches + 6 * 3600) << "the whole-zone signing ends the takeover";
    } else {
      EXPECT_GE(gone - switched, caches + sign_delay);
    }
  }
}

TEST(Rollover, KskRollWaitsForTheNewDsToBeSeenAtTheParent) {
  SigningPolicy policy = test::test_policy();
  policy.ksk_lifetime_s = 180 * kDay;
  World world = signed_world(policy);
  world.parent_delay_s = 3 * kDay;  // a slow registrar
  world.run_for_days(3 * 365);
  EXPECT_EQ(world.failures, 0u);
  size_t ksks = std::count_if(world.created.begin(), world.created.end(),
                              [](const std::string& id) { return id.rfind("ksk", 0) == 0; });
  EXPECT_GE(ksks, 6u);
  EXPECT_LE(ksks, 8u);
  EXPECT_EQ(world.ds_at_parent().size(), world.settled() ? 1u : world.ds_at_parent().size());
}

TEST(Rollover, KskRollHoldsTheOldKeyWhileTheParentNeverPublishesTheNewDs) {
  SigningPolicy policy = test::test_policy();
  policy.ksk_lifetime_s = 60 * kDay;
  World world = signed_world(policy);
  world.parent_acts = false;
  world.run_for_days(200);
  EXPECT_EQ(world.failures, 0u);
  // The old KSK stays in the DNSKEY RRset with its DS; the new one waits.
  EXPECT_EQ(world.ds_at_parent(), test::KeySet({"ksk1"}));
  KeyUse use = key_use(world.ring, world.policy);
  ASSERT_EQ(use.awaiting_ds_seen.size(), 1u);
  EXPECT_NE(use.awaiting_ds_seen[0], "ksk1");
  EXPECT_NE(std::find(use.dnskeys.begin(), use.dnskeys.end(), "ksk1"), use.dnskeys.end());
  EXPECT_EQ(world.keys_with(KeyRole::ksk, kP256), 2u) << "no successor piles up behind the one waiting";
  EXPECT_FALSE(plan_next_key_event(world.ring, world.policy, world.now)) << "only the DS fact can move it";
}

TEST(Rollover, CskRollsSwappingSignaturesAndDs) {
  SigningPolicy policy = test::test_policy();
  policy.csk = true;
  policy.csk_lifetime_s = 90 * kDay;
  policy.cds = true;
  World world = signed_world(policy);
  EXPECT_EQ(world.created.size(), 1u);
  world.run_for_days(2 * 365);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_GE(world.created.size(), 8u);
  EXPECT_LE(world.created.size(), 10u);
  KeyUse use = key_use(world.ring, world.policy);
  EXPECT_EQ(use.cds, use.ds);
}

TEST(Rollover, AlgorithmRolloverEcdsaToEd25519IsConservative) {
  World world = signed_world(test::test_policy());
  world.policy.algorithm = kEd25519;
  world.run_for_days(60);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_TRUE(world.settled());
  EXPECT_EQ(world.keys_with(KeyRole::ksk, kP256) + world.keys_with(KeyRole::zsk, kP256), 0u);
  EXPECT_EQ(world.keys_with(KeyRole::ksk, kEd25519), 1u);
  EXPECT_EQ(world.keys_with(KeyRole::zsk, kEd25519), 1u);
  EXPECT_EQ(world.ds_at_parent(), test::KeySet({"ksk3"}));
  // RFC 6781 §4.1.4: the new signatures went in before the new DNSKEYs.
  auto first = [&](const std::string& key, const std::string& what) {
    for (size_t i = 0; i < world.events.size(); ++i)
      if (world.events[i].what == what && world.events[i].key == key) return i;
    return world.events.size();
  };
  EXPECT_LT(first("zsk4", "ZRRSIG rumoured -> omnipresent"), first("zsk4", "DNSKEY hidden -> rumoured"));
  // ... and the old signatures went only after the old DNSKEYs had left every cache.
  EXPECT_LT(first("zsk2", "DNSKEY unretentive -> hidden"), first("zsk2", "ZRRSIG omnipresent -> unretentive"));
  EXPECT_LT(first("zsk2", "ZRRSIG omnipresent -> unretentive"), world.events.size());
}

TEST(Rollover, AlgorithmRolloverOfACskFromRsaToEcdsa) {
  SigningPolicy policy = test::test_policy();
  policy.csk = true;
  policy.algorithm = kRsa;
  World world = signed_world(policy);
  world.policy.algorithm = kP256;
  world.run_for_days(60);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_TRUE(world.settled());
  EXPECT_EQ(world.keys_with(KeyRole::csk, kRsa), 0u);
  EXPECT_EQ(world.keys_with(KeyRole::csk, kP256), 1u);
}

TEST(Rollover, CompromisedZskIsReplacedAtOnceAndRetiredAsFastAsIsSafe) {
  World world = signed_world(test::test_policy());
  UnixTime start = world.now;
  ASSERT_TRUE(mark_compromised(world.ring, "zsk2"));
  world.step();
  EXPECT_EQ(world.created.size(), 3u) << "the successor is requested in the same step";
  world.run_for_days(30);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_TRUE(world.settled());
  ASSERT_EQ(world.deleted, std::vector<std::string>{"zsk2"});
  // Ipub + Iret (with the sign delay) + the DNSKEY's own TTL, and no more.
  SigningPolicy p = world.policy;
  UnixTime fastest = 2 * (p.dnskey_ttl_s + p.propagation_delay_s) + p.zone_max_ttl_s + p.propagation_delay_s +
                     (p.validity_s - p.refresh_s);
  UnixTime removed = 0;
  for (const auto& e : world.events)
    if (e.key == "zsk2" && e.what == "DNSKEY unretentive -> hidden") removed = e.when;
  EXPECT_LE(removed - start, fastest + 3 * 3600);
}

TEST(Rollover, CompromisedKskIsReplacedByTheStandbyKskWithoutWaitingForANewDs) {
  SigningPolicy policy = test::test_policy();
  policy.standby_ksk = 1;
  World world = signed_world(policy);
  ASSERT_EQ(world.ds_at_parent().size(), 2u) << "the standby KSK's DS is at the parent too";
  UnixTime start = world.now;
  size_t created_before = world.created.size();
  ASSERT_TRUE(mark_compromised(world.ring, "ksk1"));
  world.run_for_days(20);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_EQ(world.count_events("standby key takes over (compromised)"), 1u);
  EXPECT_EQ(world.created.size(), created_before + 1) << "only a new standby key is made";
  EXPECT_EQ(world.ring.find("ksk1"), nullptr);
  UnixTime ksk1_unpublished = 0;
  for (const auto& e : world.events)
    if (e.key == "ksk1" && e.what == "DNSKEY omnipresent -> unretentive") ksk1_unpublished = e.when;
  EXPECT_LE(ksk1_unpublished - start, 2 * 3600) << "the old KSK leaves the DNSKEY RRset within Ipub";
}

TEST(Rollover, StandbyZskTakesOverAtTheEndOfALifetime) {
  SigningPolicy policy = test::test_policy();
  policy.standby_zsk = 1;
  policy.zsk_lifetime_s = 60 * kDay;
  World world = signed_world(policy);
  world.run_for_days(365);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_GE(world.count_events("standby key takes over (lifetime ends)"), 5u);
}

TEST(Rollover, GoingInsecureWithdrawsTheDsBeforeTheKeys) {
  SigningPolicy policy = test::test_policy();
  policy.cds = true;
  World world = signed_world(policy);
  world.ring.going_insecure = true;
  world.step();
  KeyUse use = key_use(world.ring, world.policy);
  EXPECT_TRUE(use.cds_delete);
  EXPECT_FALSE(use.dnskeys.empty()) << "the keys stay until the DS is gone from every cache";
  // DS gone (~1.2 days), then the DNSKEYs, then the signatures after the
  // sign delay (9 days).
  world.run_for_days(12);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_TRUE(world.ds_at_parent().empty());
  EXPECT_TRUE(world.ring.keys.empty()) << test::describe(world.ring);
  use = key_use(world.ring, world.policy);
  EXPECT_FALSE(use.cds_delete) << "the delete form goes once no DS is left";
  EXPECT_TRUE(use.zone_signers.empty());
}

TEST(Rollover, SchemeChangeFromKskZskToCsk) {
  World world = signed_world(test::test_policy());
  world.policy.csk = true;
  world.run_for_days(30);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_TRUE(world.settled());
  ASSERT_EQ(world.ring.keys.size(), 1u);
  EXPECT_EQ(world.ring.keys[0].role, KeyRole::csk);
}

TEST(Rollover, RollsAreSafeWithTheDefaultMarginsAndOverlappingLifetimes) {
  SigningPolicy policy;  // defaults, with safety margins
  policy.zsk_lifetime_s = 20 * kDay;
  policy.ksk_lifetime_s = 45 * kDay;
  World world(policy);
  world.run_for_days(365);
  EXPECT_EQ(world.failures, 0u);
}

// The model must not be vacuous: swapping ZSKs without pre-publication (the
// new key signs while its DNSKEY is not yet in every cache) is bogus.
TEST(ModelResolver, CatchesASignatureSwapWithoutPrePublication) {
  SigningPolicy policy = test::test_policy();
  test::ModelResolver model({policy.dnskey_ttl_s, policy.zone_max_ttl_s, policy.propagation_delay_s, 0,
                             policy.parent_ds_ttl_s, policy.parent_propagation_delay_s});
  for (std::string id : {"k", "z1", "z2"}) model.know_key(id, kP256);
  model.parent_ds().publish(0, {"k"});
  model.dnskey_rrset().publish(0, {"k", "z1"}, {"k"});
  model.zone_signers().publish(0, {"z1"});
  EXPECT_TRUE(model.problems(100000).empty());
  model.dnskey_rrset().publish(100000, {"k", "z1", "z2"}, {"k"});
  model.zone_signers().publish(100000, {"z2"});
  auto problems = model.problems(100000);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("no zone signature"), std::string::npos) << problems[0];
  EXPECT_TRUE(model.problems(100000 + policy.dnskey_ttl_s + policy.propagation_delay_s).empty());
}

// A ZSK that takes over RRset by RRset leaves the old key's signatures in
// the zone for the sign delay: withdrawing the old DNSKEY before they are
// renewed (and out of caches) is bogus.
TEST(ModelResolver, CatchesAZskWithdrawnBeforeItsSignaturesAreRenewed) {
  SigningPolicy policy = test::test_policy();
  const uint32_t sign_delay = policy.validity_s - policy.refresh_s;
  test::ModelResolver model({policy.dnskey_ttl_s, policy.zone_max_ttl_s, policy.propagation_delay_s, sign_delay,
                             policy.parent_ds_ttl_s, policy.parent_propagation_delay_s});
  for (std::string id : {"k", "z1", "z2"}) model.know_key(id, kP256);
  model.parent_ds().publish(0, {"k"});
  model.dnskey_rrset().publish(0, {"k", "z1", "z2"}, {"k"});
  model.zone_signers().publish(0, {"z1"});
  model.zone_signers().publish(100000, {"z2"}, {}, true);
  const UnixTime caches = policy.zone_max_ttl_s + policy.propagation_delay_s;
  const UnixTime early = 100000 + caches + 1;  // enough for a swap in one version, not for a gradual one
  model.dnskey_rrset().publish(early, {"k", "z2"}, {"k"});
  auto problems = model.problems(early);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("no zone signature"), std::string::npos) << problems[0];
  // A whole-zone signing renews every RRset at once: the rest is out of caches one TTL later.
  model.zone_signers().publish(early, {"z2", "z1"});
  model.zone_signers().publish(early, {"z2"});
  EXPECT_TRUE(model.problems(early + caches + policy.dnskey_ttl_s).empty());
}

// (A signer that added an algorithm RRset by RRset, over the sign delay.)
TEST(ModelResolver, CatchesADnskeyPublishedBeforeItsAlgorithmSignsEverything) {
  test::ModelResolver model({3600, 86400, 0, 86400, 86400, 0});
  model.know_key("a", kP256);
  model.know_key("b", kEd25519);
  model.dnskey_rrset().publish(0, {"a"}, {"a"});
  model.zone_signers().publish(0, {"a"});
  model.zone_signers().publish(1000, {"a", "b"}, {}, true);
  model.dnskey_rrset().publish(2000, {"a", "b"}, {"a", "b"});
  auto problems = model.problems(2000);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("lack it"), std::string::npos) << problems[0];
}

// The safety rules on their own: a ZSK's DNSKEY cannot leave while its
// signatures are the only ones every cache holds.
TEST(KeyRules, RefuseToWithdrawTheOnlyOmnipresentZsk) {
  World world = signed_world(test::test_policy());
  size_t zsk = world.ring.keys[0].role == KeyRole::zsk ? 0 : 1;
  EXPECT_FALSE(transition_is_safe(world.ring, zsk, KeyRecord::dnskey, RecordState::unretentive));
  EXPECT_FALSE(transition_is_safe(world.ring, zsk, KeyRecord::zrrsig, RecordState::unretentive));
  EXPECT_FALSE(transition_is_safe(world.ring, 1 - zsk, KeyRecord::dnskey, RecordState::unretentive));
  EXPECT_TRUE(transition_is_safe(world.ring, zsk, KeyRecord::dnskey, RecordState::omnipresent));
}

}  // namespace
}  // namespace wiresign::policy

namespace wiresign::policy {
namespace {

keystore::KeyInfo key_info(const std::string& id, uint16_t tag) {
  keystore::KeyInfo info;
  info.locator = id;
  info.key_tag = tag;
  info.algorithm = dns::Algorithm::ecdsap256sha256;
  return info;
}

TEST(Rollover, AdoptedKeysOfASignedZoneNeedNothingAndRollLater) {
  SigningPolicy policy = test::test_policy();
  KeyRing ring;
  ring.keys.push_back(adopted_key_state(key_info("old-ksk", 1), keystore::KeyRole::ksk, true, test::World::kStart));
  ring.keys.push_back(adopted_key_state(key_info("old-zsk", 2), keystore::KeyRole::zsk, true, test::World::kStart));
  RolloverStep step = advance_rollover(ring, policy, test::World::kStart);
  EXPECT_TRUE(step.events.empty());
  EXPECT_TRUE(step.keys_needed.empty());
  EXPECT_EQ(step.use.dnskeys, (std::vector<std::string>{"old-ksk", "old-zsk"}));
  EXPECT_EQ(step.use.ds, std::vector<std::string>{"old-ksk"});
  EXPECT_TRUE(step.use.awaiting_ds_seen.empty());

  policy.zsk_lifetime_s = 30 * 86400;
  test::World world(policy);
  world.adopt(ring);
  world.run_for_days(100);
  EXPECT_EQ(world.failures, 0u);
  EXPECT_EQ(world.ring.find("old-zsk"), nullptr);
  EXPECT_NE(world.ring.find("old-ksk"), nullptr);
}

TEST(Rollover, AdoptedKeysWithoutADsAskForIt) {
  KeyRing ring;
  ring.keys.push_back(adopted_key_state(key_info("k", 1), keystore::KeyRole::csk, false, 100));
  SigningPolicy policy = test::test_policy();
  policy.csk = true;
  RolloverStep step = advance_rollover(ring, policy, 100);
  EXPECT_EQ(step.use.awaiting_ds_seen, std::vector<std::string>{"k"});
}

TEST(Rollover, RepeatedDsSightingsDoNotRestartTheWait) {
  KeyRing ring;
  ring.keys.push_back(adopted_key_state(key_info("k", 1), keystore::KeyRole::csk, false, 100));
  ring.keys[0].ds = {RecordState::rumoured, 200};
  EXPECT_TRUE(record_ds_seen(ring, "k", 150)) << "a sighting from before the request is stale";
  EXPECT_TRUE(record_ds_seen(ring, "k", 300));
  EXPECT_TRUE(record_ds_seen(ring, "k", 4000));
  EXPECT_EQ(ring.keys[0].ds_seen, 300);
  EXPECT_FALSE(record_ds_seen(ring, "unknown", 300));
}

}  // namespace
}  // namespace wiresign::policy

namespace wiresign::policy {
namespace {

KeyState key_in(const std::string& id, keystore::KeyRole role, const std::string& predecessor,
                std::initializer_list<std::pair<KeyRecord, RecordStatus>> records) {
  KeyState key;
  key.id = id;
  key.role = role;
  key.predecessor = predecessor;
  for (const auto& [which, status] : records) key.record(which) = status;
  return key;
}

// A roll cut short: csk8 replaced csk7 but its signatures never reached every
// cache before zsk10 replaced it in turn. Caches may still hold RRsets signed
// by csk7 only, so csk8 must not be taken for a finished predecessor: its
// signatures stay until they are everywhere.
TEST(KeyRules, ASwapAwayFromSignaturesThatNeverReachedEveryCacheProvesNothing) {
  using S = RecordState;
  KeyRing ring;
  ring.keys.push_back(key_in("csk7", keystore::KeyRole::csk, "",
                             {{KeyRecord::dnskey, {S::omnipresent, 0, S::rumoured}},
                              {KeyRecord::krrsig, {S::omnipresent, 0, S::rumoured}},
                              {KeyRecord::zrrsig, {S::unretentive, 10, S::omnipresent}}}));
  ring.keys.push_back(key_in("csk8", keystore::KeyRole::csk, "csk7",
                             {{KeyRecord::dnskey, {S::omnipresent, 0, S::rumoured}},
                              {KeyRecord::krrsig, {S::omnipresent, 0, S::rumoured}},
                              {KeyRecord::zrrsig, {S::rumoured, 10, S::hidden}},
                              {KeyRecord::ds, {S::omnipresent, 0, S::rumoured}}}));
  ring.keys.push_back(key_in("zsk10", keystore::KeyRole::zsk, "csk8",
                             {{KeyRecord::dnskey, {S::omnipresent, 20, S::rumoured}},
                              {KeyRecord::zrrsig, {S::rumoured, 20, S::hidden}}}));
  EXPECT_FALSE(transition_is_safe(ring, 1, KeyRecord::zrrsig, S::unretentive));
  // Once csk8's signatures are everywhere, handing over to zsk10 is a plain swap.
  ring.keys[1].zrrsig = {S::omnipresent, 30, S::rumoured};
  ring.keys[0].zrrsig = {S::hidden, 30, S::unretentive};
  EXPECT_TRUE(transition_is_safe(ring, 1, KeyRecord::zrrsig, S::unretentive));
}

}  // namespace
}  // namespace wiresign::policy
