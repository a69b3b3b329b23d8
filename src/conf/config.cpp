// Loading the YAML config: the file and its top level, the server section,
// TSIG keys, and the lookups the rest of wiresign uses. Keystores, policies and
// zones have their own readers (keystore_config.cpp, policy_config.cpp, zone_config.cpp).
#include "conf/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "conf/address.h"
#include "conf/config_reader.h"
#include "dns/base_encoding.h"

namespace wiresign::conf {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) {
    if (!text.empty()) text.push_back('\n');
    text += line;
  }
  return text;
}

// RFC 8945 §6: HMAC-MD5 is deprecated; the SHA family is what peers speak.
constexpr std::string_view kTsigAlgorithms[] = {"hmac-sha1", "hmac-sha224", "hmac-sha256",
                                                "hmac-sha384", "hmac-sha512"};

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void read_tsig_key(ConfigReader& reader, const YAML::Node& node, size_t index) {
  Fields fields(reader.problems, node, "tsig-key #" + std::to_string(index + 1));
  TsigKeyConfig key;
  key.where = reader.problems.where(node);
  auto name = fields.string("name", true);
  if (name) fields.set_context("tsig-key \"" + *name + "\"");
  fields.allow_only({"name", "algorithm", "secret"});

  if (auto algorithm = fields.string("algorithm", true)) {
    key.algorithm = lower(*algorithm);
    if (std::find(std::begin(kTsigAlgorithms), std::end(kTsigAlgorithms), key.algorithm) ==
        std::end(kTsigAlgorithms))
      fields.problem(*fields.find("algorithm"),
                     "algorithm \"" + *algorithm +
                         "\" is not one of hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512");
  }
  if (auto secret = fields.string("secret", true)) {
    auto bytes = dns::from_base64(*secret);
    if (!bytes || bytes->empty())
      fields.problem(*fields.find("secret"), "secret is not valid base64");
    else
      key.secret = std::move(*bytes);
  }
  if (!name || !check_unique(fields, reader.config.tsig_keys, *name, "tsig-key")) return;
  key.name = *name;
  reader.config.tsig_keys.push_back(std::move(key));
}

// Reads a whole config from parsed YAML; every problem lands in reader.problems.
void read_top_level(ConfigReader& reader, const YAML::Node& root) {
  if (root.IsNull()) return;  // an empty file: nothing configured, nothing wrong
  Fields top(reader.problems, root, "");
  top.allow_only({"server", "keystores", "tsig-keys", "policies", "zones"});
  // Sections are read in dependency order, whatever order the file has them
  // in, so that references can be checked as each entry is read.
  if (auto* server = top.find("server")) read_server(reader, *server);
  if (auto* keystores = top.find("keystores")) read_keystores(reader, *keystores);
  if (auto* tsig_keys = top.find("tsig-keys")) read_tsig_keys(reader, *tsig_keys);
  if (auto* policies = top.find("policies")) read_policies(reader, *policies);
  if (auto* zones = top.find("zones")) read_zones(reader, *zones);
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::optional<SerialPolicy> serial_policy_from_name(std::string_view name) {
  if (name == "keep") return SerialPolicy::keep;
  if (name == "increment") return SerialPolicy::increment;
  if (name == "unixtime") return SerialPolicy::unixtime;
  if (name == "datecounter") return SerialPolicy::datecounter;
  return std::nullopt;
}

// "50%" (or "50") as 0.5; nullopt unless within 0%..100%.
std::optional<double> parse_percentage(const std::string& text) {
  std::string digits = !text.empty() && text.back() == '%' ? text.substr(0, text.size() - 1) : text;
  if (digits.empty() || digits.find_first_not_of("0123456789.") != std::string::npos ||
      digits.find_first_of("0123456789") == std::string::npos || std::count(digits.begin(), digits.end(), '.') > 1)
    return std::nullopt;
  double value = std::stod(digits);
  if (value > 100) return std::nullopt;
  return value / 100;
}

std::string ConfigReader::resolve_path(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (base_dir / p).lexically_normal().string();
}

void for_each_entry(ConfigReader& reader, const YAML::Node& section, std::string_view section_name,
                    const std::function<void(const YAML::Node&, size_t)>& read_entry) {
  if (section.IsNull()) return;  // "zones:" with nothing under it
  if (!section.IsSequence()) {
    reader.problems.add(section, "", std::string(section_name) + " must be a list (entries start with \"- \")");
    return;
  }
  size_t index = 0;
  for (const auto& entry : section) read_entry(entry, index++);
}

void read_server(ConfigReader& reader, const YAML::Node& node) {
  Fields fields(reader.problems, node, "server");
  fields.allow_only({"listen", "state-dir", "control", "control-tcp", "control-token-file", "metrics",
                     "tcp-idle-timeout", "tcp-io-timeout", "max-tcp-clients", "max-concurrent-zones",
                     "user", "log-level"});
  for (auto [key, slot] : {std::pair{"tcp-idle-timeout", &reader.config.server.tcp_idle_timeout_s},
                           std::pair{"tcp-io-timeout", &reader.config.server.tcp_io_timeout_s}}) {
    if (auto seconds = fields.duration(key)) {
      if (*seconds == 0)
        fields.problem(*fields.find(key), std::string(key) + " must be more than 0");
      else
        *slot = *seconds;
    }
  }
  if (auto clients = fields.number("max-tcp-clients", 1, 100000)) reader.config.server.max_tcp_clients = *clients;
  if (auto zones = fields.number("max-concurrent-zones", 1, 256)) reader.config.server.max_concurrent_zones = *zones;
  reader.config.server.where = reader.problems.where(node);
  if (auto listen = fields.strings("listen")) {
    for (const auto& [text, at] : *listen) {
      if (auto address = parse_socket_address(text, 53))
        reader.config.server.listen.push_back(address->str());
      else
        fields.problem(at, "listen: \"" + text + "\" is not an address (like 127.0.0.1:53 or [::1]:53)");
    }
  }
  if (auto state_dir = fields.string("state-dir")) reader.config.server.state_dir = reader.resolve_path(*state_dir);
  if (auto control = fields.string("control")) reader.config.server.control = reader.resolve_path(*control);
  if (auto level = fields.string("log-level")) {
    if (*level == "error" || *level == "warning" || *level == "info")
      reader.config.server.log_level = *level;
    else
      fields.problem(*fields.find("log-level"), "log-level: \"" + *level + "\" is not one of error, warning, info");
  }
  if (auto user = fields.string("user")) {
    if (user->empty() || user->find_first_of(" \t/") != std::string::npos)
      fields.problem(*fields.find("user"), "user: \"" + *user + "\" is not a user name (like wiresign or wiresign:wiresign)");
    else
      reader.config.server.user = *user;
  }
  // Loopback addresses only: the control API and the metrics are not for
  // other hosts (a TCP control port also needs a token).
  auto loopback = [&](std::string_view key) -> std::string {
    auto text = fields.string(key);
    if (!text) return "";
    auto address = parse_socket_address(*text);
    if (!address || !(address->ip == "127.0.0.1" || address->ip == "::1")) {
      fields.problem(*fields.find(key), std::string(key) + ": \"" + *text +
                                            "\" is not a loopback address with a port (like 127.0.0.1:8953)");
      return "";
    }
    return address->str();
  };
  reader.config.server.control_tcp = loopback("control-tcp");
  reader.config.server.metrics = loopback("metrics");
  if (auto token = fields.string("control-token-file"))
    reader.config.server.control_token_file = reader.resolve_path(*token);
  if (!reader.config.server.control_tcp.empty() && reader.config.server.control_token_file.empty())
    fields.problem(*fields.find("control-tcp"), "control-tcp needs control-token-file (the token clients must send)");
}

void read_tsig_keys(ConfigReader& reader, const YAML::Node& section) {
  for_each_entry(reader, section, "tsig-keys",
                 [&](const YAML::Node& node, size_t index) { read_tsig_key(reader, node, index); });
}

const KeystoreConfig* Config::find_keystore(std::string_view name) const {
  for (const auto& keystore : keystores)
    if (keystore.name == name) return &keystore;
  return nullptr;
}

const PolicyConfig* Config::find_policy(std::string_view name) const {
  for (const auto& policy : policies)
    if (policy.name == name) return &policy;
  return nullptr;
}

const TsigKeyConfig* Config::find_tsig_key(std::string_view name) const {
  for (const auto& key : tsig_keys)
    if (key.name == name) return &key;
  return nullptr;
}

const ZoneConfig* Config::find_zone(std::string_view name) const {
  // Zone names are stored lower-case with a trailing dot; accept either spelling.
  std::string wanted = lower(std::string(name));
  if (wanted.empty() || wanted.back() != '.') wanted.push_back('.');
  for (const auto& zone : zones)
    if (zone.name == wanted) return &zone;
  return nullptr;
}

Config parse_config(const std::string& text, const std::string& path) {
  auto base_dir = path.empty() ? std::filesystem::current_path()
                               : std::filesystem::absolute(path).parent_path();
  ConfigReader reader{Problems(path), base_dir, Config{}};
  reader.config.path = path;
  reader.config.server.state_dir = "/var/lib/wiresign";
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // A syntax error leaves nothing to check further; report it where it is.
    reader.problems.add(e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    reader.problems.raise();
  }
  read_top_level(reader, root);
  if (!reader.problems.empty()) reader.problems.raise();
  return std::move(reader.config);
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path + ": cannot read: " + std::strerror(errno)});
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace wiresign::conf
