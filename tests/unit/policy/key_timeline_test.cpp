// The dry run behind `wiresign timeline`: planned events in order, keys that
// do not exist yet named as planned, and the real states left untouched.
#include "policy/key_timeline.h"

#include <gtest/gtest.h>

#include "policy/key_state_file.h"
#include "rollover_world.h"

namespace wiresign::policy {
namespace {

constexpr UnixTime kDay = 86400;

TEST(KeyTimeline, PlansInitialSigningFromNothing) {
  SigningPolicy policy = test::test_policy();
  auto events = key_timeline({}, policy, test::World::kStart, test::World::kStart + 30 * kDay);
  std::string text = timeline_text(events);
  EXPECT_NE(text.find("2023-11-14T22:13:20Z  KSK (planned #1, ecdsap256sha256)  generated\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ZSK (planned #2, ecdsap256sha256)  ZRRSIG hidden -> rumoured"), std::string::npos) << text;
  EXPECT_NE(text.find("KSK (planned #1, ecdsap256sha256)  DS seen at the parent (assumed)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("KSK (planned #1, ecdsap256sha256)  DS rumoured -> omnipresent"), std::string::npos) << text;
  for (size_t i = 1; i < events.size(); ++i) EXPECT_LE(events[i - 1].when, events[i].when);
}

TEST(KeyTimeline, ShowsTheComingZskRollsOfASignedZoneWithoutChangingIt) {
  SigningPolicy policy = test::test_policy();
  policy.zsk_lifetime_s = 30 * kDay;
  test::World world(policy);
  world.run_for_days(20);
  std::string before = key_ring_to_text(world.ring);
  auto events = key_timeline(world.ring, policy, world.now, world.now + 120 * kDay);
  EXPECT_EQ(key_ring_to_text(world.ring), before);
  size_t generated = 0, removed = 0;
  for (const auto& event : events) {
    generated += event.what.rfind("generated (successor of", 0) == 0;
    removed += event.what == "removed";
    EXPECT_GE(event.when, world.now);
    EXPECT_LE(event.when, world.now + 120 * kDay);
  }
  EXPECT_EQ(generated, 4u) << timeline_text(events);
  EXPECT_GE(removed, 3u) << timeline_text(events);
  // The first successor is the one the real run makes next.
  world.run_for_days(120);
  auto first_generated = std::find_if(events.begin(), events.end(),
                                      [](const KeyEvent& e) { return e.what.rfind("generated", 0) == 0; });
  ASSERT_NE(first_generated, events.end());
  auto real = std::find_if(world.events.begin(), world.events.end(), [&](const KeyEvent& e) {
    return e.what == "retiring: lifetime ends";
  });
  ASSERT_NE(real, world.events.end());
  EXPECT_EQ(first_generated->when, real->when);
}

TEST(KeyTimeline, WaitsForTheParentAsAssumed) {
  SigningPolicy policy = test::test_policy();
  policy.ksk_lifetime_s = 100 * kDay;
  test::World world(policy);
  world.run_for_days(20);
  auto seen_after = [&](uint32_t delay) {
    auto events = key_timeline(world.ring, policy, world.now, world.now + 150 * kDay, {delay});
    for (const auto& e : events)
      if (e.what == "DS seen at the parent (assumed)") return e.when;
    return UnixTime{0};
  };
  EXPECT_EQ(seen_after(5 * kDay) - seen_after(kDay), 4 * kDay);
}

}  // namespace
}  // namespace wiresign::policy
