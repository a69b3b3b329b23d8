// `wiresign keys ds|list`: the DS and DNSKEY records of a zone's KSK in the
// forms registrars ask for, and the zone's keys. Keys are created on first
// use, so the DS can be registered before the zone is first signed.
#include <iostream>

#include "cli/commands.h"
#include "cli/key_source.h"
#include "dns/name.h"
#include "keystore/dnskey.h"

namespace wiresign::cli {
namespace {

constexpr const char* kKeysUsage =
    "usage: wiresign keys ds --origin ZONE [--keys DIR | --config FILE --policy NAME]\n"
    "         [--algorithm ALG] [--csk] [--digest sha256|sha384|all] [--format zone|no-ttl|plain] [--ttl SECONDS]\n"
    "       wiresign keys list --origin ZONE [--keys DIR | --config FILE --policy NAME] [--algorithm ALG] [--csk]\n";

std::string normalise_origin(const std::string& text) {
  try {
    return dns::Name::from_text(text.back() == '.' ? text : text + ".").to_text();
  } catch (const dns::ParseError& e) {
    throw UsageError("--origin: " + std::string(e.what()));
  }
}

void log_line(const std::string& line) { std::cerr << line << '\n'; }

int keys_ds(const std::vector<std::string>& args) {
  auto valued = kKeyValueOptions;
  valued.insert({"origin", "digest", "format", "ttl"});
  Options options(args, valued, {"csk"});
  std::string origin = normalise_origin(options.require("origin"));
  std::string digest = options.get("digest").value_or("sha256");
  std::string format = options.get("format").value_or("zone");
  if (digest != "sha256" && digest != "sha384" && digest != "all")
    throw UsageError("--digest: '" + digest + "' is not sha256, sha384 or all");
  if (format != "zone" && format != "no-ttl" && format != "plain")
    throw UsageError("--format: '" + format + "' is not zone, no-ttl or plain");
  ZoneKeySource source = open_zone_keys(options, origin, log_line);
  auto ttl = static_cast<uint32_t>(options.number("ttl", source.policy.dnskey_ttl_s, 0, 0x7fffffffL));

  std::vector<dns::DigestType> digests;
  if (digest != "sha384") digests.push_back(dns::DigestType::sha256);
  if (digest != "sha256") digests.push_back(dns::DigestType::sha384);
  for (const auto& key : source.keys.dnskey_signers) {
    std::cout << "; " << keystore::key_role_name(key.role) << " " << key.key_tag << " ("
              << dns::algorithm_name(key.algorithm) << ") in " << source.keystore->describe() << "\n";
    for (auto type : digests) {
      if (format == "plain") {
        // Registrar web forms ask for the four DS fields one by one.
        std::string text = keystore::ds_text(key, type, 0, false);
        std::cout << text.substr(text.find("DS ") + 3) << "\n";
      } else {
        std::cout << keystore::ds_text(key, type, ttl, format == "zone") << "\n";
      }
    }
    if (format == "plain") {
      std::string text = keystore::dnskey_text(key, 0, false);
      std::cout << text.substr(text.find("DNSKEY ") + 7) << "\n";
    } else {
      std::cout << keystore::dnskey_text(key, ttl, format == "zone") << "\n";
    }
  }
  return 0;
}

int keys_list(const std::vector<std::string>& args) {
  auto valued = kKeyValueOptions;
  valued.insert("origin");
  Options options(args, valued, {"csk"});
  std::string origin = normalise_origin(options.require("origin"));
  ZoneKeySource source = open_zone_keys(options, origin, log_line);
  for (const auto& key : source.keystore->list_keys(origin))
    std::cout << origin << " " << keystore::key_role_name(key.role) << " " << key.key_tag << " "
              << dns::algorithm_name(key.algorithm) << " " << key.locator << "\n";
  return 0;
}

}  // namespace

int run_keys(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError(kKeysUsage);
  if (args[0] == "--help") {
    std::cout << kKeysUsage;
    return 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "ds") return keys_ds(rest);
  if (args[0] == "list") return keys_list(rest);
  throw UsageError("unknown 'keys' command '" + args[0] + "'\n" + kKeysUsage);
}

}  // namespace wiresign::cli
