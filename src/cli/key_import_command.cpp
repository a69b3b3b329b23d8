// `wiresign key import`: brings a zone's existing keys (BIND key files, PEM
// files, or objects already in the PKCS#11 token) into a policy's keystore
// without a rollover: the same DNSKEYs and key tags, so the DS at the parent
// (RFC 4034 §5) stays valid. Checks everything before it changes anything.
#include <algorithm>
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/options.h"
#include "conf/config.h"
#include "dns/name.h"
#include "keystore/dnskey.h"
#include "keystore/key_import.h"
#include "keystore/open_keystore.h"
#include "policy/signing_policy.h"

namespace wiresign::cli {
namespace {

constexpr const char* kImportUsage =
    "usage: wiresign key import --zone ZONE [--keys DIR | --config FILE --policy NAME]\n"
    "         [--role ksk|zsk|csk] [--algorithm ALG] [--key-tag N] FILE...\n"
    "           FILE: BIND's Kzone+alg+tag.key or .private (both are read), or a PEM private key\n"
    "           (PKCS#8; needs --role and --algorithm)\n"
    "       wiresign key import --zone ZONE --config FILE --policy NAME\n"
    "         --pkcs11-label LABEL | --pkcs11-id HEX  --role ksk|zsk|csk [--key-tag N]\n"
    "           adopts a key object already in the policy's PKCS#11 token (no copy)\n";

const std::set<std::string> kValued{"zone", "origin", "keys", "config", "policy", "role", "algorithm", "key-tag",
                                    "pkcs11-label", "pkcs11-id"};

struct Target {
  std::unique_ptr<keystore::Keystore> keystore;
  std::optional<policy::SigningPolicy> policy;  // none with --keys DIR
};

Target open_target(const Options& options) {
  // Like every `wiresign key` command, this one may be handed the daemon's
  // --config (scripts and wrappers add it); with --keys DIR and no --policy
  // it names no keystore and is not read.
  bool policy_target = options.has("policy") || (options.has("config") && !options.has("keys"));
  if (options.has("keys") == policy_target)
    throw UsageError("give either --keys DIR or --config FILE --policy NAME");
  Target target;
  if (options.has("keys")) {
    target.keystore = keystore::open_file_keystore(options.require("keys"));
    return target;
  }
  conf::Config config = conf::load_config(options.require("config"));
  std::string name = options.require("policy");
  const conf::PolicyConfig* policy = config.find_policy(name);
  if (!policy) throw UsageError(config.path + ": no policy named \"" + name + "\"");
  const conf::KeystoreConfig* store = config.find_keystore(policy->keystore);
  if (!store) throw UsageError(config.path + ": policy \"" + name + "\" names an unknown keystore");
  target.policy = policy::policy_from_config(*policy);
  target.keystore = keystore::open_keystore(*store);
  return target;
}

std::optional<keystore::KeyRole> role_option(const Options& options) {
  auto text = options.get("role");
  if (!text) return std::nullopt;
  if (*text == "ksk") return keystore::KeyRole::ksk;
  if (*text == "zsk") return keystore::KeyRole::zsk;
  if (*text == "csk") return keystore::KeyRole::csk;
  throw UsageError("--role: '" + *text + "' is not ksk, zsk or csk");
}

// The policy signs only with keys of its algorithm and scheme (signer/zone_keys):
// a key outside them would sit unused while the signer made new keys, and the
// DS at the parent would match none of the keys that sign.
void check_fits_policy(const keystore::KeyInfo& key, const policy::SigningPolicy& policy, const std::string& where) {
  if (key.algorithm != policy.algorithm)
    throw keystore::KeystoreError(
        where + ": a key of algorithm " + std::string(dns::algorithm_name(key.algorithm)) + ", but policy \"" +
        policy.name + "\" signs with " + std::string(dns::algorithm_name(policy.algorithm)) +
        ": wiresign would not use it and would make new keys, so the DS at the parent would match no signing key. "
        "Import into a policy with algorithm: " + std::string(dns::algorithm_name(key.algorithm)) +
        " (change algorithm later with a rollover)");
  if (policy.csk && key.role == keystore::KeyRole::zsk)
    throw keystore::KeystoreError(where + ": a ZSK, but policy \"" + policy.name +
                                  "\" signs with one combined key (keys: csk), which would leave it unused");
  if (!policy.csk && key.role == keystore::KeyRole::csk)
    throw keystore::KeystoreError(where + ": a CSK, but policy \"" + policy.name +
                                  "\" has a separate KSK and ZSK; use keys: csk for a zone signed by one key");
}

void print_key(const keystore::KeyInfo& key, const std::string& how, const std::string& store) {
  std::cerr << key.zone << ": " << how << " " << keystore::key_role_name(key.role) << " " << key.key_tag << " ("
            << dns::algorithm_name(key.algorithm) << ") into " << store << "\n";
  if (key.flags & 1) std::cerr << key.zone << ": its DS: " << keystore::ds_text(key, dns::DigestType::sha256, 0, false) << "\n";
  // stdout as `wiresign keys list` prints keys, for scripts.
  std::cout << key.zone << " " << keystore::key_role_name(key.role) << " " << key.key_tag << " "
            << dns::algorithm_name(key.algorithm) << " " << key.locator << "\n";
}

int adopt(const Options& options, Target& target, const std::string& zone) {
  if (!target.policy) throw UsageError("--pkcs11-label/--pkcs11-id need --config FILE --policy NAME (a pkcs11 keystore)");
  if (options.has("pkcs11-label") == options.has("pkcs11-id"))
    throw UsageError("give one of --pkcs11-label LABEL and --pkcs11-id HEX");
  auto role = role_option(options);
  if (!role) throw UsageError("--role ksk|zsk|csk is required: a token object does not say what it was for");
  keystore::AdoptRequest request;
  request.zone = zone;
  request.role = *role;
  request.algorithm = target.policy->algorithm;
  if (auto alg = options.get("algorithm")) {
    auto parsed = dns::algorithm_from_name(*alg);
    if (!parsed) throw UsageError("--algorithm: unknown algorithm '" + *alg + "'");
    request.algorithm = *parsed;
  }
  if (options.has("key-tag")) request.key_tag = static_cast<uint16_t>(options.number("key-tag", 0, 0, 65535));
  if (auto label = options.get("pkcs11-label")) {
    if (label->empty()) throw UsageError("--pkcs11-label needs a label");
    request.label = *label;
  } else {
    auto id = keystore::parse_hex_id(*options.get("pkcs11-id"));
    if (!id) throw UsageError("--pkcs11-id: '" + *options.get("pkcs11-id") + "' is not hex octets (e.g. 0a1b2c)");
    request.id = *id;
  }
  keystore::KeyInfo probe;
  probe.zone = zone;
  probe.role = request.role;
  probe.algorithm = request.algorithm;
  check_fits_policy(probe, *target.policy, options.get("pkcs11-label").value_or(options.get("pkcs11-id").value_or("")));
  std::vector<std::string> notes;
  keystore::KeyInfo key = target.keystore->adopt_key(request, notes);
  for (const auto& note : notes) std::cerr << zone << ": " << note << "\n";
  print_key(key, "adopted", target.keystore->describe());
  return 0;
}

}  // namespace

int run_key_import(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kImportUsage;
    return 0;
  }
  // Options take "--name value"; everything else is a file to import.
  std::vector<std::string> option_args, files;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) != 0) {
      files.push_back(args[i]);
      continue;
    }
    option_args.push_back(args[i]);
    if (args[i].find('=') == std::string::npos && kValued.count(args[i].substr(2)) && i + 1 < args.size())
      option_args.push_back(args[++i]);
  }
  Options options(option_args, kValued, {});
  if (options.has("zone") && options.has("origin")) throw UsageError("--origin is another name for --zone: give one");
  std::string zone_text = options.has("origin") ? options.require("origin") : options.require("zone");
  std::string zone;
  try {
    zone = dns::Name::from_text(zone_text.back() == '.' ? zone_text : zone_text + ".").to_text();
  } catch (const dns::ParseError& e) {
    throw UsageError("--zone: " + std::string(e.what()));
  }
  bool adopting = options.has("pkcs11-label") || options.has("pkcs11-id");
  if (adopting && !files.empty()) throw UsageError("give key files or --pkcs11-label/--pkcs11-id, not both");
  if (!adopting && files.empty()) throw UsageError("no key file given\n" + std::string(kImportUsage));
  if (options.has("key-tag") && files.size() > 1) throw UsageError("--key-tag checks one key: give one file");

  Target target = open_target(options);
  if (adopting) return adopt(options, target, zone);

  keystore::ImportOptions import_options;
  import_options.zone = zone;
  import_options.role = role_option(options);
  if (auto alg = options.get("algorithm")) {
    import_options.algorithm = dns::algorithm_from_name(*alg);
    if (!import_options.algorithm)
      throw UsageError("--algorithm: unknown algorithm '" + *alg +
                       "' (ecdsap256sha256, ecdsap384sha384, ed25519, rsasha256)");
  }

  // Read and check every key before storing any, so a bad file changes nothing.
  std::vector<keystore::ImportedKey> keys;
  std::vector<keystore::KeyInfo> existing = target.keystore->list_keys(zone);
  for (const std::string& file : files) {
    keystore::ImportedKey imported = keystore::read_key_for_import(file, import_options);
    // A glob like K*.key K*.private names each BIND pair twice: import it once.
    if (std::any_of(keys.begin(), keys.end(), [&](const keystore::ImportedKey& other) {
          return other.key.algorithm == imported.key.algorithm && other.key.public_key == imported.key.public_key &&
                 other.key.locator == imported.key.locator;
        }))
      continue;
    if (target.policy && !import_options.role && imported.key.role == keystore::KeyRole::ksk && target.policy->csk)
      imported.key.role = keystore::KeyRole::csk;  // BIND's flags 257 say KSK or CSK; the policy tells which
    if (target.policy) check_fits_policy(imported.key, *target.policy, file);
    if (options.has("key-tag") && options.number("key-tag", 0, 0, 65535) != imported.key.key_tag)
      throw keystore::KeystoreError(file + ": the key has key tag " + std::to_string(imported.key.key_tag) + ", not " +
                                    *options.get("key-tag") + " (--key-tag)");
    keystore::check_key_tag_free(existing, imported.key);
    existing.push_back(imported.key);  // two files of one key, or two keys with one tag
    keys.push_back(std::move(imported));
  }
  for (const auto& imported : keys)
    for (const auto& warning : imported.warnings) std::cerr << "warning: " << warning << "\n";
  for (const auto& imported : keys) {
    keystore::KeyInfo key = target.keystore->import_key(imported);
    print_key(key, "imported", target.keystore->describe());
  }
  return 0;
}

}  // namespace wiresign::cli
