// Choosing the policy and keys for a command, and creating keys on first use.
#include "cli/key_source.h"

#include "conf/config.h"
#include "keystore/open_keystore.h"

namespace wiresign::cli {
namespace {

std::vector<keystore::KeyInfo> keys_of(const std::vector<keystore::KeyInfo>& all, dns::Algorithm alg,
                                       uint16_t flags) {
  std::vector<keystore::KeyInfo> chosen;
  for (const auto& key : all)
    if (key.algorithm == alg && key.flags == flags) chosen.push_back(key);
  return chosen;
}

keystore::KeyInfo create_key(keystore::Keystore& store, const std::string& origin, keystore::KeyRole role,
                             const policy::SigningPolicy& policy, const Log& log) {
  keystore::KeyRequest request{origin, role, policy.algorithm, policy.rsa_bits};
  keystore::KeyInfo key = store.generate_key(request);
  log(origin + ": created " + std::string(keystore::key_role_name(role)) + " " +
      std::to_string(key.key_tag) + " (" + std::string(dns::algorithm_name(key.algorithm)) + ") in " +
      store.describe());
  return key;
}

}  // namespace

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

  auto existing = source.keystore->list_keys(origin);
  auto ksks = keys_of(existing, source.policy.algorithm, 257);
  auto zsks = keys_of(existing, source.policy.algorithm, 256);
  if (source.policy.csk) {
    if (ksks.empty()) ksks.push_back(create_key(*source.keystore, origin, keystore::KeyRole::csk, source.policy, log));
    source.keys.dnskey_signers = ksks;
    source.keys.zone_signers = ksks;
  } else {
    if (ksks.empty()) ksks.push_back(create_key(*source.keystore, origin, keystore::KeyRole::ksk, source.policy, log));
    if (zsks.empty()) zsks.push_back(create_key(*source.keystore, origin, keystore::KeyRole::zsk, source.policy, log));
    source.keys.dnskey_signers = ksks;
    source.keys.zone_signers = zsks;
  }
  source.keys.keystore = source.keystore.get();
  return source;
}

}  // namespace wiresign::cli
