// Policy lint: each problem names the setting and says why, and a sound
// policy passes clean.
#include "policy/policy_lint.h"

#include <gtest/gtest.h>

namespace wiresign::policy {
namespace {

using Severity = LintProblem::Severity;

const LintProblem* find(const std::vector<LintProblem>& problems, const std::string& setting) {
  for (const auto& p : problems)
    if (p.setting == setting) return &p;
  return nullptr;
}

TEST(PolicyLint, TheDefaultPolicyIsClean) {
  SigningPolicy policy;
  EXPECT_TRUE(lint_policy(policy).empty()) << lint_text(policy, lint_policy(policy));
}

TEST(PolicyLint, RefusesARefreshShorterThanTheTimeSignaturesStayCached) {
  SigningPolicy policy;
  policy.refresh_s = 86400;  // = zone-max-ttl; plus propagation it is too short
  auto problems = lint_policy(policy);
  const LintProblem* p = find(problems, "signatures.refresh");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->severity, Severity::error);
  EXPECT_EQ(p->text,
            "refresh 1d is not more than zone-max-ttl 1d + propagation-delay 1h: a signature replaced that late can "
            "expire in a resolver's cache (RFC 6781 §4.4.2)");
}

TEST(PolicyLint, WarnsWhenSignaturesCanRunOutBeforeTheSoaExpire) {
  SigningPolicy policy;
  EXPECT_EQ(find(lint_policy(policy, {3 * 86400, {}, 86400}), "signatures.refresh"), nullptr);
  auto problems = lint_policy(policy, {14 * 86400, {}, 86400});
  const LintProblem* p = find(problems, "signatures.refresh");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->severity, Severity::warning);
  EXPECT_NE(p->text.find("refresh 5d is less than the SOA expire 14d + zone-max-ttl 1d + propagation-delay 1h"),
            std::string::npos)
      << p->text;
}

TEST(PolicyLint, RefusesKeyLifetimesShorterThanARollover) {
  SigningPolicy policy;
  // A ZSK roll takes ~10d8h: publish, the old signatures renewed as they come
  // due (validity 14d - refresh 5d) and out of caches, withdraw.
  policy.zsk_lifetime_s = 86400;
  policy.ksk_lifetime_s = 365 * 86400;
  auto problems = lint_policy(policy);
  const LintProblem* p = find(problems, "zsk-lifetime");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->severity, Severity::error);
  EXPECT_EQ(p->text,
            "zsk-lifetime 1d is shorter than a rollover: a rollover takes about 10d8h here (publish 3h, renew "
            "the old signatures as they come due and let them expire from caches 10d2h (validity - refresh, "
            "zone max TTL and margins)), so a new roll would start before the last one ended");
  EXPECT_EQ(find(problems, "ksk-lifetime"), nullptr);
  policy.zsk_lifetime_s = 15 * 86400;
  problems = lint_policy(policy);
  p = find(problems, "zsk-lifetime");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->severity, Severity::warning);
}

TEST(PolicyLint, ChecksKskLifetimeAgainstTheParentDelay) {
  SigningPolicy policy;
  policy.ksk_lifetime_s = 12 * 86400;
  auto quick_parent = lint_policy(policy, {{}, {}, 86400});
  EXPECT_EQ(find(quick_parent, "ksk-lifetime"), nullptr) << lint_text(policy, quick_parent);
  auto slow_parent = lint_policy(policy, {{}, {}, 5 * 86400});
  const LintProblem* p = find(slow_parent, "ksk-lifetime");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->severity, Severity::error);
  EXPECT_NE(p->text.find("each DS change 6d2h with 5d for the parent to act"), std::string::npos) << p->text;
}

TEST(PolicyLint, AppliesRfc9276ToNsec3Parameters) {
  SigningPolicy policy;
  policy.nsec3_iterations = 10;
  policy.nsec3_salt_length = 8;
  auto problems = lint_policy(policy);
  ASSERT_NE(find(problems, "denial.iterations"), nullptr);
  EXPECT_EQ(find(problems, "denial.iterations")->severity, Severity::warning);
  EXPECT_NE(find(problems, "denial.iterations")->text.find("RFC 9276 §3.1 requires 0"), std::string::npos);
  ASSERT_NE(find(problems, "denial.salt-length"), nullptr);
  EXPECT_EQ(find(problems, "denial.salt-length")->severity, Severity::warning);
  policy.nsec3_iterations = 150;
  problems = lint_policy(policy);
  ASSERT_NE(find(problems, "denial.iterations"), nullptr);
  EXPECT_EQ(find(problems, "denial.iterations")->severity, Severity::error);
  policy.nsec3 = false;
  problems = lint_policy(policy);
  EXPECT_EQ(find(problems, "denial.iterations"), nullptr) << "NSEC has no iterations";
}

TEST(PolicyLint, RefusesAnAlgorithmTheKeystoreCannotDo) {
  SigningPolicy policy;
  policy.algorithm = dns::Algorithm::ed25519;
  LintContext context;
  context.keystore_supports = [](dns::Algorithm alg) { return alg != dns::Algorithm::ed25519; };
  auto problems = lint_policy(policy, context);
  ASSERT_NE(find(problems, "algorithm"), nullptr);
  EXPECT_EQ(lint_text(policy, problems),
            "policy \"default\": error: algorithm: algorithm ed25519 cannot be generated or used by the policy's "
            "keystore\n");
}

}  // namespace
}  // namespace wiresign::policy
