// Editing the zones list as lines of text, with yaml-cpp only to find where
// each entry starts and what it is called.
#include "cli/zone_config_edit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "conf/config.h"

namespace wiresign::cli {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

bool is_blank_or_comment(const std::string& line) {
  size_t first = line.find_first_not_of(" \t");
  return first == std::string::npos || line[first] == '#';
}

// Zone names compare without case and without the trailing dot.
std::string zone_key(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quoted(values[i]);
  return out + "]";
}

// Where the top-level zones list is in the text.
struct ZonesBlock {
  std::optional<size_t> key_line;  // "zones:" (none: no zones key)
  bool empty_flow = false;         // "zones: []"
  size_t end = 0;                  // one past its last non-blank line
  struct Item {
    size_t line;                   // where the entry's "- " is
    std::string name;
  };
  std::vector<Item> items;
  size_t indent = 2;               // column of the entries' "- "
};

ZonesBlock find_zones(const std::vector<std::string>& lines, const std::string& text) {
  ZonesBlock block;
  static const std::regex key(R"(^zones\s*:\s*(.*?)\s*(#.*)?$)");
  std::smatch match;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!std::regex_match(lines[i], match, key)) continue;
    block.key_line = i;
    std::string value = match[1];
    if (value == "[]") {
      block.empty_flow = true;
    } else if (!value.empty()) {
      throw std::runtime_error("the zones list is written in flow style (zones: [...]) at line " +
                               std::to_string(i + 1) + "; write it as a block list (one \"- \" entry per zone) or "
                               "edit it by hand");
    }
    break;
  }
  if (!block.key_line) return block;
  // The block ends at the next top-level key (or document marker).
  size_t end = *block.key_line + 1, last = *block.key_line + 1;
  for (; end < lines.size(); ++end) {
    const std::string& line = lines[end];
    if (is_blank_or_comment(line)) continue;
    bool top_level = line[0] != ' ' && line[0] != '\t' && (line[0] != '-' || line.rfind("---", 0) == 0);
    if (top_level) break;
    last = end + 1;
  }
  block.end = block.empty_flow ? *block.key_line + 1 : last;

  YAML::Node root = YAML::Load(text);
  YAML::Node zones = root["zones"];
  if (zones && zones.IsSequence()) {
    for (const auto& item : zones) {
      ZonesBlock::Item found{static_cast<size_t>(item.Mark().line), ""};
      if (item.IsMap() && item["name"] && item["name"].IsScalar()) found.name = item["name"].as<std::string>();
      block.items.push_back(found);
    }
  }
  if (!block.items.empty()) {
    const std::string& first = lines.at(block.items.front().line);
    size_t dash = first.find('-');
    if (dash != std::string::npos) block.indent = dash;
  }
  return block;
}

}  // namespace

std::string zone_entry_yaml(const ZoneEntry& entry) {
  std::string out = "- {name: " + quoted(entry.name) + ", policy: " + quoted(entry.policy);
  if (!entry.file.empty()) out += ", file: " + quoted(entry.file);
  if (!entry.primaries.empty()) out += ", primaries: " + quoted_list(entry.primaries);
  if (!entry.primary_tsig.empty()) out += ", primary-tsig: " + quoted(entry.primary_tsig);
  if (!entry.notify.empty()) out += ", notify: " + quoted_list(entry.notify);
  if (!entry.allow_transfer.empty()) out += ", allow-transfer: " + quoted_list(entry.allow_transfer);
  if (!entry.transfer_tsig.empty()) out += ", transfer-tsig: " + quoted(entry.transfer_tsig);
  return out + "}";
}

std::string add_zone_to_config(const std::string& config_text, const ZoneEntry& entry) {
  std::vector<std::string> lines = split_lines(config_text);
  ZonesBlock block = find_zones(lines, config_text);
  for (const auto& item : block.items)
    if (zone_key(item.name) == zone_key(entry.name))
      throw std::runtime_error("zone \"" + entry.name + "\" is configured already (line " +
                               std::to_string(item.line + 1) + ")");
  std::string item = std::string(block.indent, ' ') + zone_entry_yaml(entry);
  if (!block.key_line) {
    lines.push_back("zones:");
    lines.push_back(item);
  } else if (block.empty_flow) {
    lines[*block.key_line] = "zones:";
    lines.insert(lines.begin() + static_cast<long>(*block.key_line) + 1, item);
  } else {
    lines.insert(lines.begin() + static_cast<long>(block.end), item);
  }
  return join_lines(lines);
}

std::string remove_zone_from_config(const std::string& config_text, const std::string& zone) {
  std::vector<std::string> lines = split_lines(config_text);
  ZonesBlock block = find_zones(lines, config_text);
  for (size_t i = 0; i < block.items.size(); ++i) {
    if (zone_key(block.items[i].name) != zone_key(zone)) continue;
    size_t start = block.items[i].line;
    size_t end = i + 1 < block.items.size() ? block.items[i + 1].line : block.end;
    // Comment lines just before the next entry belong to it: they stay.
    while (end > start + 1 && is_blank_or_comment(lines[end - 1])) --end;
    lines.erase(lines.begin() + static_cast<long>(start), lines.begin() + static_cast<long>(end));
    return join_lines(lines);
  }
  throw std::runtime_error("zone \"" + zone + "\" is not in the configuration");
}

void replace_config_checked(const std::string& path, const std::string& text) {
  struct stat original{};
  if (::stat(path.c_str(), &original) != 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  std::string temp = path + ".wiresign-edit-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot write beside it: " + std::strerror(errno));
  struct Cleanup {
    std::string path;
    bool keep = false;
    ~Cleanup() {
      if (!keep) ::unlink(path.c_str());
    }
  } cleanup{temp};
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  // The configuration keeps its mode and owner (it may hold TSIG secrets).
  bool same_access = ::fchmod(fd, original.st_mode & 07777) == 0 &&
                     (::fchown(fd, original.st_uid, original.st_gid) == 0 || ::geteuid() != 0);
  ::close(fd);
  if (!written || !same_access) throw std::runtime_error(temp + ": " + std::strerror(errno));
  try {
    conf::load_config(temp);
  } catch (const conf::ConfigError& e) {
    // Say it of the file the operator knows.
    std::vector<std::string> problems;
    for (std::string problem : e.problems()) {
      if (problem.rfind(temp, 0) == 0) problem = path + problem.substr(temp.size());
      problems.push_back(problem);
    }
    throw conf::ConfigError(problems);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  cleanup.keep = true;
}

}  // namespace wiresign::cli
