// Key states survive a round trip through their file, and a damaged file is
// refused with the field (or line and column) that is wrong.
#include "policy/key_state_file.h"

#include <gtest/gtest.h>

#include "rollover_world.h"

namespace wiresign::policy {
namespace {

std::string error_of(const std::string& text) {
  try {
    key_ring_from_text(text, "keys.json");
  } catch (const KeyStateError& e) {
    return e.what();
  }
  return "no error";
}

// A ring in the middle of a KSK roll, with every kind of field set.
KeyRing ring_mid_roll() {
  SigningPolicy policy = test::test_policy();
  policy.ksk_lifetime_s = 60 * 86400;
  policy.standby_zsk = 1;
  test::World world(policy);
  world.run_for_days(62);
  mark_compromised(world.ring, "zsk2");
  return world.ring;
}

void expect_same(const KeyRing& a, const KeyRing& b) {
  ASSERT_EQ(a.keys.size(), b.keys.size());
  EXPECT_EQ(a.going_insecure, b.going_insecure);
  for (size_t i = 0; i < a.keys.size(); ++i) {
    const KeyState& x = a.keys[i];
    const KeyState& y = b.keys[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.key_tag, y.key_tag);
    EXPECT_EQ(x.algorithm, y.algorithm);
    EXPECT_EQ(x.role, y.role);
    EXPECT_EQ(x.goal, y.goal);
    EXPECT_EQ(x.standby, y.standby);
    EXPECT_EQ(x.compromised, y.compromised);
    EXPECT_EQ(x.predecessor, y.predecessor);
    EXPECT_EQ(x.keystore_zone, y.keystore_zone);
    EXPECT_EQ(x.created, y.created);
    EXPECT_EQ(x.in_service, y.in_service);
    for (KeyRecord record : kKeyRecords) {
      EXPECT_EQ(x.record(record).state, y.record(record).state) << x.id << " " << key_record_name(record);
      EXPECT_EQ(x.record(record).since, y.record(record).since) << x.id << " " << key_record_name(record);
      EXPECT_EQ(x.record(record).from, y.record(record).from) << x.id << " " << key_record_name(record);
    }
    EXPECT_EQ(x.ds_seen, y.ds_seen);
    EXPECT_EQ(x.ds_gone, y.ds_gone);
  }
}

TEST(KeyStateFile, RoundTripsAKeyRingMidRollover) {
  KeyRing ring = ring_mid_roll();
  ASSERT_GE(ring.keys.size(), 4u);
  ring.keys[1].keystore_zone = "other.example.";  // a key shared from another zone
  std::string text = key_ring_to_text(ring);
  KeyRing back = key_ring_from_text(text, "keys.json");
  expect_same(ring, back);
  EXPECT_EQ(key_ring_to_text(back), text);
}

TEST(KeyStateFile, RoundTripsAnEmptyRingGoingInsecure) {
  KeyRing ring;
  ring.going_insecure = true;
  KeyRing back = key_ring_from_text(key_ring_to_text(ring), "keys.json");
  EXPECT_TRUE(back.going_insecure);
  EXPECT_TRUE(back.keys.empty());
}

TEST(KeyStateFile, ContinuesTheRollAfterARestart) {
  // What the daemon does after kill -9: the ring read back decides the same.
  KeyRing ring = ring_mid_roll();
  SigningPolicy policy = test::test_policy();
  policy.ksk_lifetime_s = 60 * 86400;
  UnixTime later = test::World::kStart + 70 * 86400;
  RolloverStep direct = advance_rollover(ring, policy, later);
  RolloverStep restarted = advance_rollover(key_ring_from_text(key_ring_to_text(ring), "k"), policy, later);
  EXPECT_EQ(key_ring_to_text(direct.ring), key_ring_to_text(restarted.ring));
}

TEST(KeyStateFile, NamesTheKeyAndFieldThatIsWrong) {
  std::string text = key_ring_to_text(ring_mid_roll());
  const std::string good = "\"state\": \"omnipresent\"";
  auto pos = text.find(good);
  ASSERT_NE(pos, std::string::npos);
  std::string bad = text;
  bad.replace(pos, good.size(), "\"state\": \"omnipresnt\"");
  std::string error = error_of(bad);
  EXPECT_NE(error.find("keys.json: keys[1] (zsk2): \"dnskey\": \"state\": \"omnipresnt\" is not one of hidden, "
                       "rumoured, omnipresent, unretentive"),
            std::string::npos)
      << error;
}

TEST(KeyStateFile, RefusesMissingAndMistypedFields) {
  const std::string key =
      R"({"id": "k1", "key-tag": 1, "algorithm": "ed25519", "role": "zsk", "goal": "omnipresent",
          "standby": false, "compromised": false, "predecessor": "", "created": 5, "in-service": 0,
          "dnskey": {"state": "hidden", "since": 5, "from": "hidden"},
          "zrrsig": {"state": "hidden", "since": 5, "from": "hidden"}})";
  auto file = [](const std::string& keys) {
    return R"({"format": "wiresign-key-states 1", "going-insecure": false, "keys": [)" + keys + "]}";
  };
  EXPECT_EQ(error_of(file(key)), "no error");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = key;
    text.replace(text.find(from), from.size(), to);
    return error_of(file(text));
  };
  EXPECT_EQ(with("\"key-tag\": 1", "\"key-tag\": 70000"),
            "keys.json: keys[0] (k1): \"key-tag\": must be a whole number from 0 to 65535, not 70000");
  EXPECT_EQ(with("\"role\": \"zsk\"", "\"role\": \"ksz\""),
            "keys.json: keys[0] (k1): \"role\": \"ksz\" is not one of ksk, zsk, csk");
  EXPECT_EQ(with("\"standby\": false", "\"standby\": 0"),
            "keys.json: keys[0] (k1): \"standby\": must be true or false, not 0");
  EXPECT_EQ(with(",\n          \"zrrsig\": {\"state\": \"hidden\", \"since\": 5, \"from\": \"hidden\"}", ""),
            "keys.json: keys[0] (k1): \"zrrsig\": is missing");
  EXPECT_EQ(with("\"zrrsig\"", "\"ds\""), "keys.json: keys[0] (k1): \"ds\": a zsk has no such record");
  EXPECT_EQ(error_of(file(key + ", " + key)), "keys.json: keys[1] (k1): \"id\": given twice");
  EXPECT_EQ(error_of(R"({"format": "something else", "going-insecure": false, "keys": []})"),
            "keys.json: \"format\": \"something else\" is not \"wiresign-key-states 1\"");
}

TEST(KeyStateFile, ReportsJsonSyntaxErrorsWithLineAndColumn) {
  std::string error = error_of("{\n  \"format\": \"wiresign-key-states 1\",\n  \"keys\": [,]\n}\n");
  EXPECT_EQ(error.rfind("keys.json: line 3, column 12: not valid JSON", 0), 0u) << error;
}

}  // namespace
}  // namespace wiresign::policy
