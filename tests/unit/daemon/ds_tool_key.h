// KSKs made by BIND's dnssec-keygen, with the DS records dnssec-dsfromkey
// computes for them: DS vectors from tools we did not write, for the
// parent-side DS check tests.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "unit/keystore/keystore_test_support.h"

namespace wiresign::daemon::testing {

using keystore::testing::run;
using keystore::testing::TempDir;
using keystore::testing::words;

struct ToolKey {
  std::string owner_wire;  // as the key file writes the owner (case kept)
  std::vector<uint8_t> dnskey_rdata;
  uint16_t key_tag = 0;                         // from the file name BIND chose
  std::map<unsigned, std::vector<uint8_t>> ds;  // digest type -> DS RDATA
  std::map<unsigned, std::string> ds_line;      // digest type -> "owner IN DS ..." as printed
};

// "owner IN DS 12345 13 2 HEX" -> the DS RDATA.
inline std::vector<uint8_t> ds_rdata_from_line(const std::string& line) {
  std::vector<std::string> w = words(line);
  size_t at = 0;
  while (at < w.size() && w[at] != "DS") ++at;
  std::string hex;
  for (size_t i = at + 4; i < w.size(); ++i) hex += w[i];
  unsigned tag = std::stoul(w.at(at + 1));
  std::vector<uint8_t> rdata{static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag),
                             static_cast<uint8_t>(std::stoul(w.at(at + 2))),
                             static_cast<uint8_t>(std::stoul(w.at(at + 3)))};
  auto digest = dns::from_hex(hex);
  if (digest) rdata.insert(rdata.end(), digest->begin(), digest->end());
  return rdata;
}

// The DNSKEY RDATA of a BIND .key file's record.
inline std::vector<uint8_t> dnskey_rdata_from_file(const std::string& key_file) {
  std::istringstream in(keystore::testing::read_text(key_file));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> w = words(line);
    if (w.empty() || w[0].starts_with(";")) continue;
    size_t at = 0;
    while (at < w.size() && w[at] != "DNSKEY") ++at;
    if (at + 4 > w.size()) continue;
    unsigned flags = std::stoul(w[at + 1]);
    std::vector<uint8_t> rdata{static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags),
                               static_cast<uint8_t>(std::stoul(w[at + 2])),
                               static_cast<uint8_t>(std::stoul(w[at + 3]))};
    std::string key;
    for (size_t i = at + 4; i < w.size(); ++i) key += w[i];
    auto public_key = dns::from_base64(key);
    if (public_key) rdata.insert(rdata.end(), public_key->begin(), public_key->end());
    return rdata;
  }
  return {};
}

// "Example.TEST" -> "\x07Example\x04TEST\x00", case kept (Name::from_text lower-cases).
inline std::string wire_as_written(const std::string& zone) {
  std::string wire;
  std::istringstream labels(zone);
  for (std::string label; std::getline(labels, label, '.');) {
    wire.push_back(static_cast<char>(label.size()));
    wire += label;
  }
  wire.push_back('\0');
  return wire;
}

// A KSK for `zone` (written as given, e.g. "Example.TEST") by dnssec-keygen in
// `dir`, and its SHA-1, SHA-256 and SHA-384 DS by dnssec-dsfromkey.
inline ToolKey make_tool_key(const std::string& dir, const std::string& zone,
                             const std::string& algorithm = "ECDSAP256SHA256") {
  std::string size = algorithm == "RSASHA256" ? " -b 1024" : "";
  std::string base = words(run("dnssec-keygen -q -a " + algorithm + size + " -f KSK -K " + dir + " " + zone)).at(0);
  std::string key_file = dir + "/" + base + ".key";
  ToolKey key;
  key.owner_wire = wire_as_written(zone);
  key.dnskey_rdata = dnskey_rdata_from_file(key_file);
  key.key_tag = static_cast<uint16_t>(std::stoul(base.substr(base.size() - 5)));
  for (auto [type, option] : {std::pair{1u, "SHA-1"}, std::pair{2u, "SHA-256"}, std::pair{4u, "SHA-384"}}) {
    std::string line = run("dnssec-dsfromkey -a " + std::string(option) + " " + key_file);
    std::istringstream lines(line);  // after BIND's warning that SHA-1 is deprecated
    while (std::getline(lines, key.ds_line[type]) && key.ds_line[type].find(" IN DS ") == std::string::npos) {
    }
    key.ds[type] = ds_rdata_from_line(key.ds_line[type]);
  }
  return key;
}

}  // namespace wiresign::daemon::testing
