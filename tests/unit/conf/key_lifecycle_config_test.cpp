// The key lifecycle settings of a policy (lifetimes, RFC 7583 timings,
// standby keys, CDS) and a zone's parent servers: defaults, values, and
// mistakes reported with file:line.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "conf/config.h"

namespace wiresign::conf {
namespace {

const std::string kHead =
    "keystores: [{name: k, backend: files, directory: /keys}]\n"  // 1
    "policies:\n"                                                  // 2
    "  - name: p\n"                                                // 3
    "    keystore: k\n";                                           // 4

std::vector<std::string> problems(const std::string& text) {
  try {
    parse_config(text, "w.yaml");
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

TEST(KeyLifecycleConfig, DefaultsRollNothingAndUseRfc7583Timings) {
  Config config = parse_config(kHead, "w.yaml");
  const KeyLifecycleConfig& lifecycle = config.policies.at(0).lifecycle;
  EXPECT_EQ(lifecycle.ksk_lifetime_s, 0u);
  EXPECT_EQ(lifecycle.zsk_lifetime_s, 0u);
  EXPECT_EQ(lifecycle.csk_lifetime_s, 0u);
  EXPECT_EQ(lifecycle.zone_max_ttl_s, 86400u);
  EXPECT_EQ(lifecycle.propagation_delay_s, 3600u);
  EXPECT_EQ(lifecycle.parent_ds_ttl_s, 86400u);
  EXPECT_EQ(lifecycle.parent_propagation_delay_s, 3600u);
  EXPECT_EQ(lifecycle.publish_safety_s, 3600u);
  EXPECT_EQ(lifecycle.retire_safety_s, 3600u);
  EXPECT_EQ(lifecycle.standby_ksk, 0u);
  EXPECT_EQ(lifecycle.standby_zsk, 0u);
  EXPECT_FALSE(lifecycle.cds);
  EXPECT_EQ(lifecycle.ds_hook, "");
  EXPECT_EQ(lifecycle.ds_check_interval_s, 3600u);
}

TEST(KeyLifecycleConfig, ReadsLifetimesIncludingUnlimited) {
  Config config = parse_config(kHead +
                                   "    ksk-lifetime: unlimited\n"
                                   "    zsk-lifetime: 30d\n"
                                   "    cds: yes\n"
                                   "zones:\n"
                                   "  - {name: example.com, policy: p, file: /z,\n"
                                   "     parent-servers: [\"192.0.2.53\", \"[2001:db8::53]:5353\"]}\n",
                               "w.yaml");
  EXPECT_EQ(config.policies.at(0).lifecycle.ksk_lifetime_s, 0u);
  EXPECT_EQ(config.policies.at(0).lifecycle.zsk_lifetime_s, 30u * 86400);
  EXPECT_TRUE(config.policies.at(0).lifecycle.cds);
  EXPECT_EQ(config.zones.at(0).parent_servers, (std::vector<std::string>{"192.0.2.53:53", "[2001:db8::53]:5353"}));
}

TEST(KeyLifecycleConfig, ReportsMistakesWithFileAndLine) {
  auto found = problems(kHead +
                        "    zsk-lifetime: 0\n"           // 5
                        "    ksk-lifetime: forever\n"     // 6
                        "    csk-lifetime: 90d\n"         // 7
                        "    standby-zsk: 9\n"            // 8
                        "    propagation-delay: 1h1h\n"   // 9
                        "    cds: maybe\n"                // 10
                        "    ds-check-interval: 0\n"      // 11
                        "    publish-safty: 1h\n"         // 12
                        "zones:\n"                        // 13
                        "  - {name: example.com, policy: p, file: /z, parent-servers: [\"parent\"]}\n");  // 14
  EXPECT_EQ(found,
            (std::vector<std::string>{
                "w.yaml:5: policy \"p\": zsk-lifetime must be more than 0 (or \"unlimited\")",
                "w.yaml:6: policy \"p\": ksk-lifetime: \"forever\" is not a duration (like 14d, 12h, 30m, 45s, 2w, "
                "1d12h or seconds)",
                "w.yaml:7: policy \"p\": csk-lifetime applies only to keys: csk",
                "w.yaml:8: policy \"p\": standby-zsk: \"9\" is not a number from 0 to 4",
                "w.yaml:9: policy \"p\": propagation-delay: \"1h1h\" is not a duration (like 14d, 12h, 30m, 45s, "
                "2w, 1d12h or seconds)",
                "w.yaml:10: policy \"p\": cds: \"maybe\" is not true or false",
                "w.yaml:11: policy \"p\": ds-check-interval must be more than 0",
                "w.yaml:12: policy \"p\": unknown key \"publish-safty\" (did you mean \"publish-safety\"?)",
                "w.yaml:14: zone \"example.com\": parent-servers: \"parent\" is not an address (like 192.0.2.1:53 "
                "or [2001:db8::1]:53)",
            }));
}

TEST(KeyLifecycleConfig, RefusesKskAndZskSettingsUnderACskPolicy) {
  auto found = problems(kHead +
                        "    keys: csk\n"            // 5
                        "    zsk-lifetime: 30d\n");  // 6
  EXPECT_EQ(found, (std::vector<std::string>{"w.yaml:6: policy \"p\": zsk-lifetime applies only to keys: ksk-zsk "
                                             "(use csk-lifetime, standby-ksk)"}));
}

}  // namespace
}  // namespace wiresign::conf

namespace wiresign::conf {
namespace {

// The commented lifecycle settings in examples/wiresign.yaml stay valid:
// uncommented (all but csk-lifetime, which needs keys: csk), the example
// still loads with the values it documents.
TEST(KeyLifecycleConfig, TheExampleConfigsCommentedSettingsLoad) {
  std::ifstream in(std::string(WIRESIGN_SOURCE_DIR) + "/examples/wiresign.yaml");
  ASSERT_TRUE(in);
  std::string text, line;
  bool zones = false;
  while (std::getline(in, line)) {
    if (line == "# zones:") zones = true;
    // "    # zone-max-ttl: 1d   # ..." is a setting; prose has no "key: value" first.
    bool setting = line.rfind("    # ", 0) == 0 && line.find(':') != std::string::npos &&
                   line.find(' ', 6) > line.find(':') && line.rfind("    # csk-lifetime", 0) != 0;
    if (setting) line.erase(4, 2);
    if (zones && line.rfind("# ", 0) == 0) line.erase(0, 2);
    text += line + "\n";
  }
  Config config = parse_config(text, "wiresign.yaml");
  ASSERT_EQ(config.zones.size(), 1u);
  EXPECT_EQ(config.zones[0].parent_servers.size(), 2u);
  EXPECT_EQ(config.policies.at(0).lifecycle.ds_hook, "/usr/local/bin/ds-to-registrar");
  EXPECT_EQ(config.policies.at(0).lifecycle.zone_max_ttl_s, 86400u);
}

}  // namespace
}  // namespace wiresign::conf
