// Policy lint: each check explains the rule it applies, so an operator can
// judge the trade-off instead of guessing at a number.
#include "policy/policy_lint.h"

#include "conf/duration.h"
#include "policy/key_timing.h"

namespace wiresign::policy {
namespace {

using Severity = LintProblem::Severity;

using conf::duration_text;

class Linter {
 public:
  Linter(const SigningPolicy& policy, const LintContext& context) : p_(policy), c_(context) {}
  uint32_t parent_delay() const { return c_.parent_delay_s.value_or(p_.parent_registration_delay_s); }

  std::vector<LintProblem> run() {
    signature_timings();
    key_lifetimes();
    denial();
    algorithm();
    return std::move(problems_);
  }

 private:
  void add(Severity severity, std::string setting, std::string text) {
    problems_.push_back({severity, std::move(setting), std::move(text)});
  }

  void signature_timings() {
    // A signature is replaced `refresh` before it expires; the old copy can
    // still sit in secondaries for the propagation delay and then in caches
    // for the highest TTL. If that is longer than the refresh, a validator
    // holds an expired signature: the zone is bogus there.
    uint64_t in_flight = uint64_t(p_.zone_max_ttl_s) + p_.propagation_delay_s;
    if (p_.refresh_s <= in_flight)
      add(Severity::error, "signatures.refresh",
          "refresh " + duration_text(p_.refresh_s) + " is not more than zone-max-ttl " +
              duration_text(p_.zone_max_ttl_s) + " + propagation-delay " + duration_text(p_.propagation_delay_s) +
              ": a signature replaced that late can expire in a resolver's cache (RFC 6781 §4.4.2)");
    if (c_.soa_expire_s) {
      // Secondaries that lose us serve the zone until SOA expire; the
      // signatures they hold must outlast that, plus caching, plus a margin.
      uint64_t needed = uint64_t(*c_.soa_expire_s) + p_.zone_max_ttl_s + p_.propagation_delay_s;
      if (p_.refresh_s < needed)
        add(Severity::warning, "signatures.refresh",
            "refresh " + duration_text(p_.refresh_s) + " is less than the SOA expire " +
                duration_text(*c_.soa_expire_s) + " + zone-max-ttl " + duration_text(p_.zone_max_ttl_s) +
                " + propagation-delay " + duration_text(p_.propagation_delay_s) +
                ": a secondary cut off from the signer keeps serving until expire, and its signatures can run "
                "out first (lower the SOA expire or raise validity and refresh)");
    }
  }

  void key_lifetimes() {
    struct Lifetime {
      const char* setting;
      uint32_t seconds;
      keystore::KeyRole role;
      bool used;
    };
    const Lifetime lifetimes[] = {{"ksk-lifetime", p_.ksk_lifetime_s, keystore::KeyRole::ksk, !p_.csk},
                                  {"zsk-lifetime", p_.zsk_lifetime_s, keystore::KeyRole::zsk, !p_.csk},
                                  {"csk-lifetime", p_.csk_lifetime_s, keystore::KeyRole::csk, p_.csk}};
    for (const auto& lifetime : lifetimes) {
      if (!lifetime.used || lifetime.seconds == 0) continue;
      uint64_t roll = rollover_duration_s(p_, lifetime.role, parent_delay());
      std::string why = "a rollover takes about " + duration_text(roll) + " here (" + explain(lifetime.role) + ")";
      if (lifetime.seconds < roll)
        add(Severity::error, lifetime.setting,
            std::string(lifetime.setting) + " " + duration_text(lifetime.seconds) +
                " is shorter than a rollover: " + why + ", so a new roll would start before the last one ended");
      else if (lifetime.seconds < 2 * roll)
        add(Severity::warning, lifetime.setting,
            std::string(lifetime.setting) + " " + duration_text(lifetime.seconds) +
                " leaves the zone rolling most of the time: " + why);
    }
  }

  std::string explain(keystore::KeyRole role) const {
    std::string publish = "publish " + duration_text(dnskey_publish_interval_s(p_));
    std::string signatures = "renew the old signatures as they come due and let them expire from caches " +
                             duration_text(signature_interval_s(p_, true)) +
                             " (validity - refresh, zone max TTL and margins)";
    std::string ds = "each DS change " + duration_text(uint64_t(parent_delay()) + ds_interval_s(p_)) +
                     " with " + duration_text(parent_delay()) + " for the parent to act (parent-registration-delay)";
    if (role == keystore::KeyRole::zsk) return publish + ", " + signatures;
    if (role == keystore::KeyRole::ksk) return publish + ", " + ds;
    return publish + ", " + signatures + ", " + ds;
  }

  void denial() {
    if (!p_.nsec3) return;
    // RFC 9276 §3.1: zone publishers MUST use 0 extra iterations and SHOULD
    // NOT use a salt; §3.2 lets validators treat higher counts as insecure or
    // bogus, and deployed ones do (limits of 50 to 150; 100 in systemd-resolved).
    if (p_.nsec3_iterations > 100)
      add(Severity::error, "denial.iterations",
          "iterations " + std::to_string(p_.nsec3_iterations) +
              ": validators give up above 50 to 150 (RFC 9276 §3.2), so denials of existence "
              "turn insecure or bogus; RFC 9276 §3.1 requires 0");
    else if (p_.nsec3_iterations > 0)
      add(Severity::warning, "denial.iterations",
          "iterations " + std::to_string(p_.nsec3_iterations) +
              ": RFC 9276 §3.1 requires 0; extra iterations cost every resolver CPU and do not stop zone walking");
    if (p_.nsec3_salt_length > 0)
      add(Severity::warning, "denial.salt-length",
          "salt-length " + std::to_string(p_.nsec3_salt_length) +
              ": RFC 9276 §3.1 says not to use a salt; it does not protect the zone and bloats every NSEC3");
  }

  void algorithm() {
    if (c_.keystore_supports && !c_.keystore_supports(p_.algorithm))
      add(Severity::error, "algorithm",
          "algorithm " + std::string(dns::algorithm_name(p_.algorithm)) +
              " cannot be generated or used by the policy's keystore");
    if (p_.algorithm == dns::Algorithm::rsasha256 && p_.rsa_bits < 2048)
      add(Severity::warning, "key-size",
          "key-size " + std::to_string(p_.rsa_bits) + " is below the 2048 bits RFC 8624 §3.1 expects for RSA");
  }

  const SigningPolicy& p_;
  const LintContext& c_;
  std::vector<LintProblem> problems_;
};

}  // namespace

std::vector<LintProblem> lint_policy(const SigningPolicy& policy, const LintContext& context) {
  return Linter(policy, context).run();
}

std::string lint_text(const SigningPolicy& policy, const std::vector<LintProblem>& problems) {
  std::string text;
  for (const auto& problem : problems)
    text += "policy \"" + policy.name + "\": " +
            (problem.severity == Severity::error ? "error: " : "warning: ") + problem.setting + ": " + problem.text +
            "\n";
  return text;
}

}  // namespace wiresign::policy
