// The "zones" section: each zone's name, policy, where its unsigned version
// comes from (primaries or a file), and who may NOTIFY us or transfer from us.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "conf/address.h"
#include "conf/config_reader.h"
#include "dns/name.h"

namespace wiresign::conf {
namespace {

// The zone name in its stored form (lower case, trailing dot); on failure
// nullopt and `error` says why. DNS allows any octet in a label, but in a
// config file a space or a quote is a typo, so only host-name characters are
// taken, plus "/" for RFC 2317 classless reverse zones.
std::optional<std::string> normalize_zone_name(const std::string& text, std::string& error) {
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == '/';
    if (!ok) {
      error = "\"" + text + "\" is not a valid zone name (character '" + std::string(1, c) + "')";
      return std::nullopt;
    }
  }
  try {
    return dns::Name::from_text(text.back() == '.' ? text : text + ".").to_text();
  } catch (const dns::ParseError& e) {
    error = "\"" + text + "\" is not a valid zone name (" + e.what() + ")";
    return std::nullopt;
  }
}

// "64M", "1G", "512K" or plain octets.
std::optional<uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': unit = 1ull << 10; break;
    case 'M': case 'm': unit = 1ull << 20; break;
    case 'G': case 'g': unit = 1ull << 30; break;
    default: break;
  }
  if (unit != 1) digits.pop_back();
  if (digits.empty() || digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  uint64_t value = std::stoull(digits) * unit;
  return value > 0 ? std::optional(value) : std::nullopt;
}

// Peers we send to or fetch from: "ip:port", port 53 when left out.
std::vector<std::string> read_peers(Fields& fields, std::string_view key) {
  std::vector<std::string> out;
  auto entries = fields.strings(key);
  if (!entries) return out;
  for (const auto& [text, at] : *entries) {
    if (auto address = parse_socket_address(text, 53))
      out.push_back(address->str());
    else
      fields.problem(at, std::string(key) + ": \"" + text +
                             "\" is not an address (like 192.0.2.1:53 or [2001:db8::1]:53)");
  }
  return out;
}

// ACL entries: addresses or prefixes, kept as written.
std::vector<std::string> read_acl(Fields& fields, std::string_view key) {
  std::vector<std::string> out;
  auto entries = fields.strings(key);
  if (!entries) return out;
  for (const auto& [text, at] : *entries) {
    if (parse_address_prefix(text))
      out.push_back(text);
    else
      fields.problem(at, std::string(key) + ": \"" + text +
                             "\" is not an address or prefix (like 192.0.2.1, 198.51.100.0/24, 2001:db8::/32)");
  }
  return out;
}

// A TSIG key reference must name a key from "tsig-keys".
std::string read_tsig_reference(ConfigReader& reader, Fields& fields, std::string_view key) {
  auto name = fields.string(key);
  if (!name) return "";
  if (!reader.config.find_tsig_key(*name))
    fields.problem(*fields.find(key), std::string(key) + ": " +
                                          not_defined("tsig-key", *name, reader.config.tsig_keys));
  return *name;
}

void read_zone(ConfigReader& reader, const YAML::Node& node, size_t index) {
  Fields fields(reader.problems, node, "zone #" + std::to_string(index + 1));
  ZoneConfig zone;
  zone.where = reader.problems.where(node);
  auto name = fields.string("name", true);
  if (name) {
    // Messages name the zone as the operator wrote it, so it can be found in the file.
    fields.set_context("zone \"" + *name + "\"");
    std::string error;
    if (auto normalized = normalize_zone_name(*name, error))
      zone.name = *normalized;
    else
      fields.problem(*fields.find("name"), error);
  }
  fields.allow_only({"name", "policy", "primaries", "file", "primary-tsig", "allow-notify", "notify",
                     "allow-transfer", "transfer-tsig", "max-removed-share", "journal-max-entries",
                     "journal-max-size", "max-records", "parent-servers", "transfer-timeout",
                     "max-transfer-size", "insecure"});

  if (auto policy = fields.string("policy", true)) {
    zone.policy = *policy;
    if (!reader.config.find_policy(*policy))
      fields.problem(*fields.find("policy"), not_defined("policy", *policy, reader.config.policies));
  }

  // The unsigned zone comes from exactly one place.
  bool has_primaries = fields.has("primaries");
  bool has_file = fields.has("file");
  if (has_primaries && has_file)
    fields.problem(*fields.find("file"), "give either primaries or file, not both");
  else if (!has_primaries && !has_file)
    fields.problem("primaries or file is required (where the unsigned zone comes from)");
  if (has_primaries) {
    const YAML::Node& primaries = *fields.find("primaries");
    if (primaries.IsSequence() && primaries.size() == 0)
      fields.problem(primaries, "primaries is an empty list");
    zone.primaries = read_peers(fields, "primaries");
  }
  if (auto file = fields.string("file")) zone.file = reader.resolve_path(*file);

  zone.primary_tsig = read_tsig_reference(reader, fields, "primary-tsig");
  if (!zone.primary_tsig.empty() && has_file && !has_primaries)
    fields.problem(*fields.find("primary-tsig"), "primary-tsig needs primaries to sign transfers with");
  zone.transfer_tsig = read_tsig_reference(reader, fields, "transfer-tsig");

  if (fields.has("allow-notify")) {
    zone.allow_notify = read_acl(fields, "allow-notify");
  } else {
    // Whoever we transfer from is who tells us about changes.
    for (const auto& primary : zone.primaries)
      if (auto address = parse_socket_address(primary)) zone.allow_notify.push_back(address->ip);
  }
  zone.notify = read_peers(fields, "notify");
  zone.parent_servers = read_peers(fields, "parent-servers");
  if (auto insecure = fields.boolean("insecure")) zone.insecure = *insecure;
  zone.allow_transfer = read_acl(fields, "allow-transfer");
  if (auto share = fields.string("max-removed-share")) {
    if (auto value = parse_percentage(*share))
      zone.max_removed_share = *value;
    else
      fields.problem(*fields.find("max-removed-share"),
                     "max-removed-share: \"" + *share + "\" is not a percentage from 0% to 100% (like 50%)");
  }
  if (auto entries = fields.number("journal-max-entries", 1, 1'000'000)) zone.journal_max_entries = *entries;
  if (auto records = fields.number("max-records", 1, 1'000'000'000)) zone.max_records = *records;
  for (auto [key, slot] : {std::pair{"journal-max-size", &zone.journal_max_bytes},
                           std::pair{"max-transfer-size", &zone.max_transfer_bytes}}) {
    if (auto size = fields.string(key)) {
      if (auto bytes = parse_size(*size))
        *slot = *bytes;
      else
        fields.problem(*fields.find(key),
                       std::string(key) + ": \"" + *size + "\" is not a size (like 64M, 1G or 500000)");
    }
  }
  if (auto seconds = fields.duration("transfer-timeout")) zone.transfer_timeout_s = *seconds;

  if (!name || zone.name.empty()) return;
  for (const auto& other : reader.config.zones) {
    if (other.name != zone.name) continue;
    reader.problems.add(node, "", "zone \"" + *name + "\" is defined twice (first at " + other.where.str() + ")");
    return;
  }
  reader.config.zones.push_back(std::move(zone));
}

}  // namespace

void read_zones(ConfigReader& reader, const YAML::Node& section) {
  for_each_entry(reader, section, "zones",
                 [&](const YAML::Node& node, size_t index) { read_zone(reader, node, index); });
}

}  // namespace wiresign::conf
