// Key selection shared by `wiresign sign` and wiresignd.
#include "signer/zone_keys.h"

namespace wiresign::signer {
namespace {

std::vector<keystore::KeyInfo> keys_of(const std::vector<keystore::KeyInfo>& all, dns::Algorithm alg,
                                       uint16_t flags) {
  std::vector<keystore::KeyInfo> chosen;
  for (const auto& key : all)
    if (key.algorithm == alg && key.flags == flags) chosen.push_back(key);
  return chosen;
}

keystore::KeyInfo create_key(keystore::Keystore& store, const std::string& origin, keystore::KeyRole role,
                             const policy::SigningPolicy& policy, const std::function<void(const std::string&)>& log) {
  keystore::KeyInfo key = store.generate_key({origin, role, policy.algorithm, policy.rsa_bits});
  if (log)
    log(origin + ": created " + std::string(keystore::key_role_name(role)) + " " + std::to_string(key.key_tag) +
        " (" + std::string(dns::algorithm_name(key.algorithm)) + ") in " + store.describe());
  return key;
}

}  // namespace

ZoneKeys select_zone_keys(keystore::Keystore& store, const std::string& origin,
                          const policy::SigningPolicy& policy, const std::function<void(const std::string&)>& log) {
  auto existing = store.list_keys(origin);
  auto ksks = keys_of(existing, policy.algorithm, 257);
  auto zsks = keys_of(existing, policy.algorithm, 256);
  ZoneKeys keys;
  keys.keystore = &store;
  if (policy.csk) {
    if (ksks.empty()) ksks.push_back(create_key(store, origin, keystore::KeyRole::csk, policy, log));
    keys.dnskey_signers = ksks;
    keys.zone_signers = ksks;
  } else {
    if (ksks.empty()) ksks.push_back(create_key(store, origin, keystore::KeyRole::ksk, policy, log));
    if (zsks.empty()) zsks.push_back(create_key(store, origin, keystore::KeyRole::zsk, policy, log));
    keys.dnskey_signers = ksks;
    keys.zone_signers = zsks;
  }
  return keys;
}

}  // namespace wiresign::signer
