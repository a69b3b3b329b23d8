// The daemon's side of rollovers on a simulated clock, with a real file
// keystore and state dir: first keys generated, a ZSK roll by pre-publication
// carried out in order, a KSK roll held until the DS is confirmed, states
// surviving a restart, and a damaged state file not stopping the signing.
#include "daemon/key_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "keystore/open_keystore.h"

namespace wiresign::daemon {
namespace {

namespace fs = std::filesystem;
const std::string kZone = "roll.test.";

std::set<uint16_t> tags(const std::vector<keystore::KeyInfo>& keys) {
  std::set<uint16_t> out;
  for (const auto& key : keys) out.insert(key.key_tag);
  return out;
}

class KeyManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wiresign-keymgr-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    state_ = std::make_unique<StateDir>(dir_ + "/state");
    store_ = keystore::open_file_keystore(dir_ + "/keys");
    policy_.zsk_lifetime_s = 1000;
    policy_.ksk_lifetime_s = 3000;
    policy_.dnskey_ttl_s = 60;
    policy_.zone_max_ttl_s = 60;
    policy_.propagation_delay_s = 10;
    policy_.parent_ds_ttl_s = 60;
    policy_.parent_propagation_delay_s = 10;
    policy_.publish_safety_s = 10;
    policy_.retire_safety_s = 10;
    // A new ZSK takes over as signatures come due: validity - refresh (300 s) counts in its roll.
    policy_.validity_s = 600;
    policy_.refresh_s = 300;
  }
  void TearDown() override { fs::remove_all(dir_); }

  KeyManager manager() {
    return KeyManager(state_.get(), [this](const std::string& line) { log_.push_back(line); });
  }

  // Plans and publishes at `now`, as the loader does; returns what was used.
  KeyPlan sign(KeyManager& keys, std::time_t now) {
    KeyPlan plan = keys.plan(kZone, policy_, *store_, now);
    keys.commit(kZone, plan, now);
    return plan;
  }

  std::string dir_;
  std::unique_ptr<StateDir> state_;
  std::unique_ptr<keystore::Keystore> store_;
  policy::SigningPolicy policy_;
  std::vector<std::string> log_;
  const std::time_t start_ = 1'800'000'000;
};

TEST_F(KeyManagerTest, FirstSigningGeneratesAKskAndZskAndPublishesBoth) {
  KeyManager keys = manager();
  KeyPlan plan = sign(keys, start_);
  ASSERT_EQ(plan.keys.dnskey_signers.size(), 1u);
  ASSERT_EQ(plan.keys.zone_signers.size(), 1u);
  EXPECT_EQ(plan.keys.dnskey_signers[0].flags, 257);
  EXPECT_EQ(plan.keys.zone_signers[0].flags, 256);
  EXPECT_EQ(tags(plan.keys.dnskeys), (std::set<uint16_t>{plan.keys.dnskey_signers[0].key_tag,
                                                          plan.keys.zone_signers[0].key_tag}));
  EXPECT_EQ(store_->list_keys(kZone).size(), 2u);
  EXPECT_TRUE(plan.unpublished_signers.empty());
  EXPECT_TRUE(fs::exists(state_->key_states_path(kZone)));
  // The new KSK's DS is asked for.
  ZoneKeyReport report = keys.report(kZone);
  bool ksk_awaits = std::any_of(report.keys.begin(), report.keys.end(), [](const KeyReport& k) {
    return k.state.role == keystore::KeyRole::ksk && k.awaiting_ds_seen;
  });
  // Only once its DNSKEY is in every cache: at the first signing it is not yet.
  EXPECT_FALSE(ksk_awaits);
  ASSERT_TRUE(keys.next_event(kZone));
  sign(keys, *keys.next_event(kZone));
  report = keys.report(kZone);
  ksk_awaits = std::any_of(report.keys.begin(), report.keys.end(), [](const KeyReport& k) {
    return k.state.role == keystore::KeyRole::ksk && k.awaiting_ds_seen;
  });
  EXPECT_TRUE(ksk_awaits);
  ASSERT_TRUE(keys.next_parent_check(kZone));
}

TEST_F(KeyManagerTest, ZskRollPublishesTheSuccessorBeforeItSignsAndRemovesThePredecessorAfter) {
  KeyManager keys = manager();
  KeyPlan first = sign(keys, start_);
  const uint16_t old_zsk = first.keys.zone_signers[0].key_tag;
  const uint16_t ksk = first.keys.dnskey_signers[0].key_tag;
  // The sequence of (published ZSKs, signing ZSK) seen at each event.
  bool successor_prepublished = false, switched = false, old_gone = false;
  uint16_t new_zsk = 0;
  std::time_t now = start_;
  for (int step = 0; step < 40 && !old_gone; ++step) {
    std::optional<std::time_t> next = keys.next_event(kZone);
    ASSERT_TRUE(next) << "the roll stopped at step " << step;
    now = std::max(now + 1, *next);
    KeyPlan plan = sign(keys, now);
    std::set<uint16_t> published = tags(plan.keys.dnskeys);
    ASSERT_TRUE(published.count(ksk)) << "the KSK must stay published throughout a ZSK roll";
    ASSERT_EQ(plan.keys.zone_signers.size(), 1u) << "one ZSK signs at a time (pre-publication)";
    uint16_t signer = plan.keys.zone_signers[0].key_tag;
    ASSERT_TRUE(published.count(signer)) << "the signing ZSK must be published";
    for (uint16_t tag : published)
      if (tag != ksk && tag != old_zsk) new_zsk = tag;
    if (new_zsk && signer == old_zsk && published.count(new_zsk)) successor_prepublished = true;
    if (signer == new_zsk) {
      ASSERT_TRUE(successor_prepublished) << "the successor signed before it was published";
      switched = true;
    }
    if (switched && !published.count(old_zsk)) old_gone = true;
  }
  EXPECT_TRUE(successor_prepublished);
  EXPECT_TRUE(switched);
  EXPECT_TRUE(old_gone);
  // The roll took about the ZSK lifetime plus the waits, not forever.
  EXPECT_LT(now - start_, 3000);
}

TEST_F(KeyManagerTest, KskRollWaitsForTheDsAndGoesOnOnceTheOperatorConfirmsIt) {
  policy_.zsk_lifetime_s = 0;  // only the KSK rolls
  KeyManager keys = manager();
  KeyPlan first = sign(keys, start_);
  const uint16_t old_ksk = first.keys.dnskey_signers[0].key_tag;
  std::time_t now = start_;
  // First the initial KSK's DS: confirm it when asked for.
  auto awaiting = [&](bool seen) -> std::optional<uint16_t> {
    for (const KeyReport& key : keys.report(kZone).keys)
      if (seen ? key.awaiting_ds_seen : key.awaiting_ds_gone) return key.state.key_tag;
    return std::nullopt;
  };
  std::optional<uint16_t> new_ksk;
  bool old_retired = false;
  for (int step = 0; step < 60 && !old_retired; ++step) {
    if (auto tag = awaiting(true)) {
      // Without the DS fact nothing about the old KSK may change.
      if (*tag != old_ksk) {
        new_ksk = *tag;
        KeyPlan waiting = keys.plan(kZone, policy_, *store_, now + 100000);
        EXPECT_TRUE(tags(waiting.keys.dnskey_signers).count(old_ksk))
            << "the old KSK stopped signing before the new one's DS was seen";
      }
      keys.confirm_ds(kZone, *tag, true, now);
    }
    if (auto tag = awaiting(false)) keys.confirm_ds(kZone, *tag, false, now);
    std::optional<std::time_t> next = keys.next_event(kZone);
    now = next ? std::max(now + 1, *next) : now + 60;
    KeyPlan plan = sign(keys, now);
    EXPECT_FALSE(plan.keys.dnskey_signers.empty());
    if (new_ksk && !tags(plan.keys.dnskeys).count(old_ksk)) old_retired = true;
  }
  ASSERT_TRUE(new_ksk) << "no successor KSK was asked a DS for";
  EXPECT_TRUE(old_retired);
  EXPECT_THROW(keys.confirm_ds(kZone, 4242, true, now), std::invalid_argument);
}

TEST_F(KeyManagerTest, StatesSurviveARestartAndAnOperatorRolloverStartsASuccessor) {
  policy_.zsk_lifetime_s = 0;
  policy_.ksk_lifetime_s = 0;
  uint16_t zsk = 0;
  {
    KeyManager keys = manager();
    zsk = sign(keys, start_).keys.zone_signers[0].key_tag;
  }
  KeyManager restarted = manager();
  ASSERT_TRUE(restarted.restore(kZone, policy_, start_ + 5));
  KeyPlan plan = sign(restarted, start_ + 5);
  EXPECT_EQ(plan.keys.zone_signers[0].key_tag, zsk);
  EXPECT_EQ(store_->list_keys(kZone).size(), 2u) << "a restart must not make new keys";

  // Once the first keys are in every cache (the ZSK's DNSKEY and signatures
  // omnipresent), the operator asks for a ZSK roll.
  std::time_t now = start_ + 5;
  for (int i = 0; i < 10; ++i)
    if (std::optional<std::time_t> next = restarted.next_event(kZone)) sign(restarted, now = std::max(now + 1, *next));
  EXPECT_THROW(restarted.request_rollover(kZone, std::nullopt, 1), std::invalid_argument);
  std::string done = restarted.request_rollover(kZone, keystore::KeyRole::zsk, 0);
  EXPECT_NE(done.find(std::to_string(zsk)), std::string::npos) << done;
  plan = sign(restarted, now + 10);
  EXPECT_EQ(store_->list_keys(kZone).size(), 3u);
  EXPECT_EQ(plan.keys.dnskeys.size(), 3u) << "the successor ZSK is published";
  std::string logged;
  for (const auto& line : log_) logged += line + "\n";
  EXPECT_EQ(plan.keys.zone_signers[0].key_tag, zsk) << "but does not sign yet\n" << logged;
}

TEST_F(KeyManagerTest, DamagedStateFileIsSetAsideAndTheKeysKeepSigning) {
  uint16_t ksk = 0;
  {
    KeyManager keys = manager();
    ksk = sign(keys, start_).keys.dnskey_signers[0].key_tag;
  }
  std::ofstream(state_->key_states_path(kZone)) << "{ not json";
  KeyManager restarted = manager();
  KeyPlan plan = sign(restarted, start_ + 5);
  EXPECT_EQ(tags(plan.keys.dnskey_signers), std::set<uint16_t>{ksk});
  EXPECT_EQ(store_->list_keys(kZone).size(), 2u);
  bool set_aside = false;
  for (const auto& entry : fs::directory_iterator(dir_ + "/state/keys"))
    if (entry.path().filename().string().find(".damaged-") != std::string::npos) set_aside = true;
  EXPECT_TRUE(set_aside);
  bool said = std::any_of(log_.begin(), log_.end(),
                          [](const std::string& l) { return l.find("cannot be read") != std::string::npos; });
  EXPECT_TRUE(said);
}

TEST_F(KeyManagerTest, KeysFromBeforeTheStatesWereKeptAreAdoptedNotReplaced) {
  keystore::KeyInfo ksk = store_->generate_key({kZone, keystore::KeyRole::ksk, policy_.algorithm, 2048});
  keystore::KeyInfo zsk = store_->generate_key({kZone, keystore::KeyRole::zsk, policy_.algorithm, 2048});
  KeyManager keys = manager();
  KeyPlan plan = sign(keys, start_);
  EXPECT_EQ(tags(plan.keys.dnskeys), (std::set<uint16_t>{ksk.key_tag, zsk.key_tag}));
  EXPECT_EQ(tags(plan.keys.zone_signers), std::set<uint16_t>{zsk.key_tag});
  EXPECT_EQ(store_->list_keys(kZone).size(), 2u);
}

TEST_F(KeyManagerTest, CskSignsEverythingAndItsRollWaitsForTheDsLikeAKsk) {
  policy_.csk = true;
  KeyManager keys = manager();
  KeyPlan first = sign(keys, start_);
  ASSERT_EQ(first.keys.dnskeys.size(), 1u);
  const uint16_t csk = first.keys.dnskeys[0].key_tag;
  EXPECT_EQ(first.keys.dnskeys[0].flags, 257);
  EXPECT_EQ(tags(first.keys.dnskey_signers), std::set<uint16_t>{csk});
  EXPECT_EQ(tags(first.keys.zone_signers), std::set<uint16_t>{csk});
  std::time_t now = start_;
  for (int i = 0; i < 10; ++i)
    if (std::optional<std::time_t> next = keys.next_event(kZone)) sign(keys, now = std::max(now + 1, *next));
  keys.confirm_ds(kZone, csk, true, now);
  for (int i = 0; i < 10; ++i)
    if (std::optional<std::time_t> next = keys.next_event(kZone)) sign(keys, now = std::max(now + 1, *next));
  keys.request_rollover(kZone, keystore::KeyRole::csk, 0);
  // However long it runs, the old CSK keeps signing the DNSKEY RRset while
  // the new one's DS is not confirmed.
  for (int i = 0; i < 20; ++i) {
    std::optional<std::time_t> next = keys.next_event(kZone);
    now = next ? std::max(now + 1, *next) : now + 3600;
    KeyPlan plan = sign(keys, now);
    ASSERT_TRUE(tags(plan.keys.dnskey_signers).count(csk)) << "step " << i;
  }
  EXPECT_EQ(store_->list_keys(kZone).size(), 2u);
}

}  // namespace
}  // namespace wiresign::daemon

namespace wiresign::daemon {
namespace {

// insecure: true. The DS goes first (the CDS/CDNSKEY delete form, the DS
// awaited gone), and the keys stay published and signing until it is gone
// from every cache; then the zone is served unsigned and its keys forgotten.
// insecure: false again signs with new keys.
TEST_F(KeyManagerTest, GoingInsecureWithdrawsTheDsBeforeTheKeysThenServesUnsignedAndCanSignAgain) {
  policy_.zsk_lifetime_s = policy_.ksk_lifetime_s = 0;
  KeyManager keys = manager();
  std::time_t now = start_;
  KeyPlan plan = sign(keys, now);
  const std::set<uint16_t> first_keys = tags(plan.keys.dnskeys);
  // Secure first: the KSK's DS is asked for and confirmed.
  for (int step = 0; step < 10 && keys.next_event(kZone); ++step) sign(keys, now = *keys.next_event(kZone));
  const KeyReport* ksk = nullptr;
  ZoneKeyReport report = keys.report(kZone);
  for (const auto& key : report.keys)
    if (key.awaiting_ds_seen) ksk = &key;
  ASSERT_TRUE(ksk) << "the KSK's DS is not asked for";
  const uint16_t ksk_tag = ksk->state.key_tag;
  keys.confirm_ds(kZone, ksk_tag, true, now);
  for (int step = 0; step < 10 && keys.next_event(kZone); ++step) sign(keys, now = *keys.next_event(kZone));

  policy_.insecure = true;
  plan = sign(keys, now += 10);
  EXPECT_TRUE(plan.keys.cds_delete) << "the parent is asked to remove every DS (RFC 8078 §4)";
  EXPECT_FALSE(plan.keys.serve_unsigned);
  EXPECT_EQ(tags(plan.keys.dnskeys), first_keys) << "the keys stay while the DS may be cached";
  EXPECT_FALSE(plan.keys.zone_signers.empty());
  EXPECT_THROW(keys.request_rollover(kZone, keystore::KeyRole::zsk, 0), std::invalid_argument);
  // Time alone does not take the keys away: the DS must be seen gone.
  plan = sign(keys, now += 100000);
  EXPECT_FALSE(plan.keys.serve_unsigned);
  EXPECT_FALSE(plan.keys.dnskeys.empty());
  keys.confirm_ds(kZone, ksk_tag, false, now);
  plan = sign(keys, now);  // as the daemon does after a DS fact
  EXPECT_FALSE(plan.keys.serve_unsigned) << "the DS may still be cached";
  ASSERT_TRUE(keys.next_event(kZone)) << "the DS TTL and propagation wait is a timed event";
  EXPECT_GE(*keys.next_event(kZone), now + policy_.parent_ds_ttl_s + policy_.parent_propagation_delay_s);
  plan = sign(keys, now = *keys.next_event(kZone));
  EXPECT_TRUE(plan.keys.serve_unsigned);
  EXPECT_TRUE(plan.keys.dnskeys.empty());
  EXPECT_TRUE(plan.keys.zone_signers.empty());
  EXPECT_TRUE(plan.keys.dnskey_signers.empty());
  EXPECT_FALSE(plan.keys.cds_delete);
  EXPECT_TRUE(keys.report(kZone).keys.empty());
  EXPECT_TRUE(keys.report(kZone).going_insecure);
  EXPECT_FALSE(keys.next_event(kZone));
  EXPECT_TRUE(keys.uses_unchanged(kZone, keys.plan(kZone, policy_, *store_, now + 1)))
      << "an unsigned zone stays as it is";

  // After a restart the zone is still unsigned.
  KeyManager restarted = manager();
  EXPECT_TRUE(restarted.plan(kZone, policy_, *store_, now + 2).keys.serve_unsigned);

  policy_.insecure = false;
  plan = sign(restarted, now += 10);
  EXPECT_FALSE(plan.keys.serve_unsigned);
  ASSERT_EQ(plan.keys.dnskeys.size(), 2u);
  for (uint16_t tag : tags(plan.keys.dnskeys)) EXPECT_FALSE(first_keys.count(tag)) << "signed again with new keys";
}

}  // namespace
}  // namespace wiresign::daemon

namespace wiresign::daemon {
namespace {

// share-keys: a second zone of the policy signs with the keys the first one
// made, each rolling them by its own states; a successor one zone makes is
// the one the other takes; an operator's rollover of a shared key reaches
// every zone that holds it; a restart finds the shared keys again.
TEST_F(KeyManagerTest, ZonesOfASharingPolicySignWithTheSameKeysAndRollThemTogether) {
  const std::string other = "other.test.";
  policy_.name = "shared";
  policy_.share_keys = true;
  policy_.ksk_lifetime_s = 0;
  KeyManager keys = manager();
  auto sign_zone = [&](KeyManager& manager, const std::string& zone, std::time_t at) {
    KeyPlan plan = manager.plan(zone, policy_, *store_, at);
    manager.commit(zone, plan, at);
    return plan;
  };
  std::time_t now = start_;
  KeyPlan first = sign_zone(keys, kZone, now);
  KeyPlan second = sign_zone(keys, other, now + 5);
  EXPECT_EQ(tags(second.keys.dnskeys), tags(first.keys.dnskeys));
  EXPECT_EQ(tags(second.keys.zone_signers), tags(first.keys.zone_signers));
  EXPECT_TRUE(store_->list_keys(other).empty()) << "no key was made for the second zone";
  EXPECT_EQ(tags(keys.keys_available(other, *store_)), tags(first.keys.dnskeys));
  EXPECT_TRUE(std::any_of(log_.begin(), log_.end(),
                          [](const std::string& line) { return line.find("(share-keys; first key)") != line.npos; }));

  // Through a ZSK roll (lifetime 1000 s), both zones end with the same new ZSK.
  const uint16_t old_zsk = first.keys.zone_signers[0].key_tag;
  for (int step = 0; step < 60; ++step) {
    std::time_t next = now + 3000;
    for (const std::string* zone : {&kZone, &other})
      if (auto at = keys.next_event(*zone)) next = std::min(next, *at);
    now = std::max(now + 1, next);
    first = sign_zone(keys, kZone, now);
    second = sign_zone(keys, other, now);
    if (!tags(first.keys.dnskeys).count(old_zsk) && !tags(second.keys.dnskeys).count(old_zsk)) break;
  }
  EXPECT_FALSE(tags(first.keys.zone_signers).count(old_zsk));
  EXPECT_EQ(tags(second.keys.zone_signers), tags(first.keys.zone_signers));
  EXPECT_EQ(store_->list_keys(kZone).size() + store_->list_keys(other).size(), 3u)
      << "one KSK and two ZSKs in all: the successor was made once";

  // After a restart (the daemon restores every zone's states first).
  KeyManager restarted = manager();
  restarted.restore(kZone, policy_, now);
  restarted.restore(other, policy_, now);
  KeyPlan again = sign_zone(restarted, other, now + 1);
  EXPECT_EQ(tags(again.keys.dnskeys), tags(second.keys.dnskeys));

  // An emergency rollover asked for one zone reaches the other.
  const uint16_t ksk = again.keys.dnskey_signers[0].key_tag;
  std::vector<std::string> sharing;
  std::string done = restarted.request_rollover(other, std::nullopt, ksk, true, &sharing);
  EXPECT_EQ(sharing, std::vector<std::string>{kZone});
  EXPECT_NE(done.find("also in " + kZone), std::string::npos) << done;
  for (const std::string* zone : {&kZone, &other})
    for (const KeyReport& key : restarted.report(*zone).keys)
      if (key.state.key_tag == ksk) {
        EXPECT_TRUE(key.state.compromised) << *zone;
      }
  // The first zone to plan makes the successor; the other takes it.
  KeyPlan a = sign_zone(restarted, kZone, now + 2);
  KeyPlan b = sign_zone(restarted, other, now + 3);
  EXPECT_EQ(tags(a.keys.dnskeys), tags(b.keys.dnskeys));
  EXPECT_EQ(tags(a.keys.dnskeys).size(), 3u) << "old and new KSK, and the ZSK";
  EXPECT_EQ(store_->list_keys(kZone).size() + store_->list_keys(other).size(), 4u) << "the new KSK was made once";
}

}  // namespace
}  // namespace wiresign::daemon
