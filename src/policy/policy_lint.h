// Checks of a signing policy at load time that the config reader cannot make
// on its own: timings that would let cached signatures expire (RFC 6781
// §4.4), key lifetimes shorter than a rollover (RFC 7583), NSEC3 parameters
// against RFC 9276, and algorithms the keystore cannot do.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policy/signing_policy.h"

namespace wiresign::policy {

struct LintProblem {
  enum class Severity { warning, error };
  Severity severity = Severity::warning;
  std::string setting;  // the config key at fault: "zsk-lifetime", "signatures.refresh"
  std::string text;     // what is wrong and why, in a sentence or two
};

struct LintContext {
  // The zone's SOA expire, when the daemon has the zone: secondaries keep
  // serving that long after losing us, so signatures must outlive it.
  std::optional<uint32_t> soa_expire_s;
  // Whether the policy's keystore can make keys of an algorithm; unset: not checked.
  std::function<bool(dns::Algorithm)> keystore_supports;
  // Expected time for the parent to act on a DS change, for rollover
  // durations; unset: the policy's parent-registration-delay.
  std::optional<uint32_t> parent_delay_s;
};

std::vector<LintProblem> lint_policy(const SigningPolicy& policy, const LintContext& context = {});

// "policy "default": error: zsk-lifetime: ..." lines for logs and `wiresign policy check`.
std::string lint_text(const SigningPolicy& policy, const std::vector<LintProblem>& problems);

}  // namespace wiresign::policy
