// BIND's K<zone>+<alg>+<tag>.key files: names, the DNSKEY record they hold
// (RFC 4034 §2.2) and the Created/Publish/Activate comments BIND writes.
#include "keystore/bind_key_file.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <vector>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "dns/zone_writer.h"
#include "keystore/dnskey.h"

namespace wiresign::keystore {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// "Kexample.test.+013+12345" (zone with its trailing dot, as BIND names files).
std::string key_file_base(const std::string& zone, dns::Algorithm alg, uint16_t key_tag) {
  char numbers[16];
  std::snprintf(numbers, sizeof numbers, "+%03u+%05u", static_cast<unsigned>(alg), unsigned{key_tag});
  return "K" + zone + numbers;
}

// "20261123000000": the UTC timestamp BIND writes for Created/Publish/Activate.
std::string bind_timestamp(std::time_t when) {
  std::string text;
  dns::append_timestamp(text, static_cast<uint32_t>(when));
  return text;
}

// The .key file: comment lines (what the key is, Created/Publish/Activate)
// then "<zone> IN DNSKEY <flags> 3 <alg> <base64>".
std::string format_public_key_file(const KeyInfo& key, std::time_t created) {
  std::tm utc{};
  gmtime_r(&created, &utc);
  char readable[64];
  std::strftime(readable, sizeof readable, "%a %b %e %H:%M:%S %Y", &utc);
  std::string stamp = bind_timestamp(created) + " (" + readable + ")\n";
  std::string text = "; This is a ";
  text += (key.flags & 1) ? "key-signing key" : "zone-signing key";
  text += ", keyid " + std::to_string(key.key_tag) + ", for " + key.zone + "\n";
  // BIND's dnssec-signzone -S reads these to decide which keys are live.
  text += "; Created: " + stamp + "; Publish: " + stamp + "; Activate: " + stamp;
  text += dnskey_text(key, 0, false) + "\n";
  return text;
}

// Reads the DNSKEY RR of a .key file (any TTL/class, multi-line or BIND's
// split base64); role from the SEP flag (257: ksk, 256: zsk). Errors name `path`.
KeyInfo parse_public_key_file(std::string_view text, const std::string& path) {
  // Join the record's lines: drop comments and the parentheses of multi-line form.
  std::string record;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(0, line.find(';'));
    std::replace_if(line.begin(), line.end(), [](char c) { return c == '(' || c == ')'; }, ' ');
    record += line + " ";
  }
  std::istringstream fields(record);
  std::vector<std::string> tokens;
  for (std::string token; fields >> token;) tokens.push_back(token);

  // owner [ttl] [class] DNSKEY flags protocol algorithm key...
  size_t type_at = 1;
  while (type_at < tokens.size() && type_at <= 2 && lower(tokens[type_at]) != "dnskey") ++type_at;
  if (tokens.empty() || type_at >= tokens.size() || lower(tokens[type_at]) != "dnskey" ||
      tokens.size() < type_at + 5)
    throw KeystoreError(path + ": no DNSKEY record");
  for (size_t i = 1; i < type_at; ++i)
    if (!all_digits(tokens[i]) && lower(tokens[i]) != "in")
      throw KeystoreError(path + ": unexpected '" + tokens[i] + "' before DNSKEY");
  const std::string& flags = tokens[type_at + 1];
  const std::string& protocol = tokens[type_at + 2];
  const std::string& algorithm = tokens[type_at + 3];
  if (!all_digits(flags) || std::stoul(flags) > 0xFFFF || protocol != "3" || !all_digits(algorithm))
    throw KeystoreError(path + ": malformed DNSKEY flags, protocol or algorithm");

  KeyInfo key;
  std::string owner = tokens[0];
  if (owner.back() != '.') owner += '.';
  try {
    key.zone = dns::Name::from_text(owner).to_text();
  } catch (const dns::ParseError& e) {
    throw KeystoreError(path + ": bad owner name: " + e.what());
  }
  auto alg = dns::algorithm_from_name(algorithm);
  if (!alg) throw KeystoreError(path + ": unsupported DNSSEC algorithm " + algorithm);
  key.algorithm = *alg;
  key.flags = static_cast<uint16_t>(std::stoul(flags));
  key.role = (key.flags & 1) ? KeyRole::ksk : KeyRole::zsk;
  std::string base64;
  for (size_t i = type_at + 4; i < tokens.size(); ++i) base64 += tokens[i];
  auto public_key = dns::from_base64(base64);
  if (!public_key || public_key->empty()) throw KeystoreError(path + ": bad base64 in the public key");
  key.public_key = std::move(*public_key);
  key.key_tag = compute_key_tag(dnskey_rdata(key));
  return key;
}

}  // namespace wiresign::keystore
