// The policy the signer and the key lifecycle follow, built from the config.
#include "policy/signing_policy.h"

#include <gtest/gtest.h>

namespace wiresign::policy {
namespace {

TEST(PolicyFromConfig, CarriesTheKeyLifecycleSettings) {
  conf::Config config = conf::parse_config(
      "keystores: [{name: k, backend: files, directory: /keys}]\n"
      "policies:\n"
      "  - name: p\n"
      "    keystore: k\n"
      "    ksk-lifetime: 365d\n"
      "    zsk-lifetime: 90d\n"
      "    zone-max-ttl: 2d\n"
      "    propagation-delay: 30m\n"
      "    parent-ds-ttl: 2h\n"
      "    parent-propagation-delay: 4h\n"
      "    publish-safety: 10m\n"
      "    retire-safety: 20m\n"
      "    standby-ksk: 1\n"
      "    standby-zsk: 2\n"
      "    cds: true\n"
      "    ds-hook: /usr/local/bin/ds-to-registrar\n"
      "    ds-check-interval: 15m\n"
      "    signatures: {slice-share: 5%}\n",
      "wiresign.yaml");
  SigningPolicy policy = policy_from_config(config.policies.at(0));
  EXPECT_EQ(policy.ksk_lifetime_s, 365u * 86400);
  EXPECT_EQ(policy.zsk_lifetime_s, 90u * 86400);
  EXPECT_EQ(policy.csk_lifetime_s, 0u);
  EXPECT_EQ(policy.zone_max_ttl_s, 2u * 86400);
  EXPECT_EQ(policy.propagation_delay_s, 1800u);
  EXPECT_EQ(policy.parent_ds_ttl_s, 7200u);
  EXPECT_EQ(policy.parent_propagation_delay_s, 4u * 3600);
  EXPECT_EQ(policy.publish_safety_s, 600u);
  EXPECT_EQ(policy.retire_safety_s, 1200u);
  EXPECT_EQ(policy.standby_ksk, 1u);
  EXPECT_EQ(policy.standby_zsk, 2u);
  EXPECT_TRUE(policy.cds);
  EXPECT_EQ(policy.ds_hook, "/usr/local/bin/ds-to-registrar");
  EXPECT_EQ(policy.ds_check_interval_s, 900u);
  EXPECT_DOUBLE_EQ(policy.resign_slice_share, 0.05);
}

}  // namespace
}  // namespace wiresign::policy
