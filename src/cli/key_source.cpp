// Choosing the policy and keys for a command, and creating keys on first use.
#include "cli/key_source.h"

#include "conf/config.h"
#include "keystore/open_keystore.h"
#include "signer/zone_keys.h"

namespace wiresign::cli {

ZoneKeySource open_zone_keys(const Options& options, const std::string& origin, const Log& log) {
  ZoneKeySource source;
  if (options.has("keys") == options.has("config"))
    throw UsageError("give either --keys DIR or --config FILE --policy NAME");
  if (options.has("keys")) {
    source.keystore = keystore::open_file_keystore(options.require("keys"));
    source.policy.nsec3 = false;  // plain NSEC unless --nsec3
  } else {
    conf::Config config = conf::load_config(options.require("config"));
    std::string name = options.require("policy");
    const conf::PolicyConfig* policy = config.find_policy(name);
    if (!policy) throw UsageError(config.path + ": no policy named \"" + name + "\"");
    source.policy = policy::policy_from_config(*policy);
    const conf::KeystoreConfig* store = config.find_keystore(policy->keystore);
    if (!store) throw UsageError(config.path + ": policy \"" + name + "\" names an unknown keystore");
    source.keystore = keystore::open_keystore(*store);
  }
  if (auto alg = options.get("algorithm")) {
    auto parsed = dns::algorithm_from_name(*alg);
    if (!parsed)
      throw UsageError("--algorithm: unknown algorithm '" + *alg +
                       "' (ecdsap256sha256, ecdsap384sha384, ed25519, rsasha256)");
    source.policy.algorithm = *parsed;
  }
  if (options.has("csk")) source.policy.csk = true;

  source.keys = signer::select_zone_keys(*source.keystore, origin, source.policy, log);
  return source;
}

}  // namespace wiresign::cli
