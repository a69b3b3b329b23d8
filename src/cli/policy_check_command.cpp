// `wiresign policy check FILE`: the configuration as wiresignd reads it at
// start (every problem with file:line), then each policy's lint: timings that
// let cached signatures expire (RFC 6781 §4.4), lifetimes shorter than a
// rollover (RFC 7583), NSEC3 parameters against RFC 9276.
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "conf/config.h"
#include "policy/policy_lint.h"
#include "policy/signing_policy.h"

namespace wiresign::cli {

int run_policy_check(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].rfind("--", 0) == 0) throw UsageError("expected: policy check FILE");
  conf::Config config = conf::load_config(args[0]);
  size_t errors = 0, warnings = 0;
  for (const conf::PolicyConfig& policy_config : config.policies) {
    policy::SigningPolicy policy = policy::policy_from_config(policy_config);
    std::vector<policy::LintProblem> problems = policy::lint_policy(policy);
    for (const auto& problem : problems)
      (problem.severity == policy::LintProblem::Severity::error ? errors : warnings)++;
    // Each line: file:line of the policy, then "policy "NAME": error|warning: SETTING: why".
    std::string where = policy_config.where.str();
    std::string text = policy::lint_text(policy, problems);
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      std::cout << (where.empty() ? args[0] : where) << ": " << text.substr(start, end - start) << "\n";
      start = end == std::string::npos ? text.size() : end + 1;
    }
  }
  if (errors > 0) {
    std::cout << args[0] << ": " << errors << " error" << (errors == 1 ? "" : "s") << " in the policies\n";
    return 1;
  }
  std::cout << args[0] << ": OK (" << config.zones.size() << " zones, " << config.policies.size() << " policies, "
            << config.keystores.size() << " keystores" << (warnings ? ", " + std::to_string(warnings) + " warnings" : "")
            << ")\n";
  return 0;
}

}  // namespace wiresign::cli
