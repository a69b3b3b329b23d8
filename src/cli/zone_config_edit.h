// `wiresign zone add|remove`: one zone entry added to or removed from the
// YAML configuration as text, so the operator's comments, order and layout
// stay as they were; the result is checked by the configuration reader
// before it replaces the file.
#pragma once
#include <string>
#include <vector>

namespace wiresign::cli {

struct ZoneEntry {
  std::string name;
  std::string policy;
  std::string file;                     // a zone file, or
  std::vector<std::string> primaries;   // primaries to follow
  std::vector<std::string> notify;
  std::vector<std::string> allow_transfer;
  std::string primary_tsig, transfer_tsig;
};

// The entry as one flow-style YAML line item ("- {name: ..., ...}").
std::string zone_entry_yaml(const ZoneEntry& entry);

// `config_text` with `entry` appended to its zones list (a zones list is
// made when there is none). Throws std::runtime_error when the zone is
// there already or the zones list is written in flow style.
std::string add_zone_to_config(const std::string& config_text, const ZoneEntry& entry);

// `config_text` without the zone's entry (its lines up to the next entry or
// the end of the list). Throws std::runtime_error when it is not there.
std::string remove_zone_from_config(const std::string& config_text, const std::string& zone);

// Checks `text` with the configuration reader as if it were `path` (a
// temporary file beside it), then replaces `path` atomically, keeping its
// mode and owner. Throws conf::ConfigError (file:line problems) or
// std::runtime_error; on any error `path` is untouched.
void replace_config_checked(const std::string& path, const std::string& text);

}  // namespace wiresign::cli
