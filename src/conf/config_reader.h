// The state shared by the section readers (server, keystores, TSIG keys,
// policies, zones) while one config file is loaded. Internal to conf/.
#pragma once
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "conf/yaml_fields.h"

namespace wiresign::conf {

struct ConfigReader {
  Problems problems;
  std::filesystem::path base_dir;  // the config file's directory, absolute
  Config config;

  // Relative paths in the config mean "next to the config file", not "next to
  // wherever the daemon was started".
  std::string resolve_path(const std::string& path) const;
};

// "50%" (or "50") as 0.5; nullopt unless within 0%..100%.
std::optional<double> parse_percentage(const std::string& text);

// Calls `read_entry(node, index)` for each entry of a list section such as
// "zones"; reports a section that is not a list.
void for_each_entry(ConfigReader& reader, const YAML::Node& section, std::string_view section_name,
                    const std::function<void(const YAML::Node&, size_t)>& read_entry);

// True when no earlier entry in `existing` has `name`; otherwise reports the
// duplicate, naming where the first one is.
template <class Entry>
bool check_unique(Fields& fields, const std::vector<Entry>& existing, const std::string& name,
                  std::string_view what) {
  for (const auto& entry : existing) {
    if (entry.name != name) continue;
    // No context prefix: `zone "x": zone "x" is defined twice` would stutter.
    fields.problems().add(fields.node(), "",
                          std::string(what) + " \"" + name + "\" is defined twice (first at " +
                              entry.where.str() + ")");
    return false;
  }
  return true;
}

// `what "name" is not defined`, with a did-you-mean among the defined names.
template <class Entry>
std::string not_defined(std::string_view what, const std::string& name,
                        const std::vector<Entry>& defined) {
  std::string text = std::string(what) + " \"" + name + "\" is not defined";
  std::vector<std::string_view> names;
  for (const auto& entry : defined) names.push_back(entry.name);
  if (auto hint = closest_match(name, names)) text.append(" (did you mean \"").append(*hint).append("\"?)");
  return text;
}

void read_server(ConfigReader& reader, const YAML::Node& node);
void read_keystores(ConfigReader& reader, const YAML::Node& section);
void read_tsig_keys(ConfigReader& reader, const YAML::Node& section);
void read_policies(ConfigReader& reader, const YAML::Node& section);  // after keystores
void read_zones(ConfigReader& reader, const YAML::Node& section);     // after policies, TSIG keys

}  // namespace wiresign::conf
