// Key states to and from JSON (nlohmann::json), checked field by field so
// that a damaged file is reported precisely instead of half-loaded.
#include "policy/key_state_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace wiresign::policy {
namespace {

using nlohmann::json;

// Identifies the format; a later layout gets a new number and a converter.
constexpr std::string_view kFormat = "wiresign-key-states 1";

json record_to_json(const RecordStatus& status) {
  return {{"state", record_state_name(status.state)},
          {"since", status.since},
          {"from", record_state_name(status.from)}};
}

json key_to_json(const KeyState& key) {
  json out = {{"id", key.id},
              {"key-tag", key.key_tag},
              {"algorithm", dns::algorithm_name(key.algorithm)},
              {"role", keystore::key_role_name(key.role)},
              {"goal", record_state_name(key.goal)},
              {"standby", key.standby},
              {"compromised", key.compromised},
              {"roll-requested", key.roll_requested},
              {"predecessor", key.predecessor},
              {"created", key.created},
              {"in-service", key.in_service}};
  for (KeyRecord record : kKeyRecords)
    if (key.has(record)) out[std::string(key_record_name(record))] = record_to_json(key.record(record));
  out["ds-seen"] = key.ds_seen ? json(*key.ds_seen) : json(nullptr);
  out["ds-gone"] = key.ds_gone ? json(*key.ds_gone) : json(nullptr);
  if (!key.keystore_zone.empty()) out["keystore-zone"] = key.keystore_zone;
  return out;
}

// Reads the fields of one JSON object, naming each in errors.
class Reader {
 public:
  Reader(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail("", "expected an object");
  }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw KeyStateError(where_ + (field.empty() ? "" : ": \"" + field + "\"") + ": " + what);
  }

  const json& get(const std::string& field) const {
    auto it = object_.find(field);
    if (it == object_.end()) fail(field, "is missing");
    return *it;
  }
  std::string string(const std::string& field) const {
    const json& value = get(field);
    if (!value.is_string()) fail(field, "must be a string, not " + value.dump());
    return value.get<std::string>();
  }
  bool boolean(const std::string& field) const {
    const json& value = get(field);
    if (!value.is_boolean()) fail(field, "must be true or false, not " + value.dump());
    return value.get<bool>();
  }
  int64_t integer(const std::string& field, int64_t min, int64_t max) const {
    const json& value = get(field);
    if (!value.is_number_integer() || value.get<int64_t>() < min || value.get<int64_t>() > max)
      fail(field, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", not " +
                      value.dump());
    return value.get<int64_t>();
  }
  std::optional<UnixTime> optional_time(const std::string& field) const {
    auto it = object_.find(field);
    if (it == object_.end() || it->is_null()) return std::nullopt;
    return integer(field, 0, INT64_MAX);
  }
  RecordState state(const std::string& field) const {
    std::string name = string(field);
    auto state = record_state_from_name(name);
    if (!state) fail(field, "\"" + name + "\" is not one of hidden, rumoured, omnipresent, unretentive");
    return *state;
  }
  RecordStatus record(const std::string& field) const {
    Reader inner(get(field), where_ + ": \"" + field + "\"");
    RecordStatus status;
    status.state = inner.state("state");
    status.since = inner.integer("since", 0, INT64_MAX);
    status.from = inner.state("from");
    return status;
  }
  const std::string& where() const { return where_; }

 private:
  const json& object_;
  std::string where_;
};

KeyState key_from_json(const json& object, const std::string& where) {
  Reader fields(object, where);
  KeyState key;
  key.id = fields.string("id");
  Reader named(object, where + " (" + key.id + ")");
  key.key_tag = static_cast<uint16_t>(named.integer("key-tag", 0, 65535));
  std::string algorithm = named.string("algorithm");
  auto alg = dns::algorithm_from_name(algorithm);
  if (!alg) named.fail("algorithm", "\"" + algorithm + "\" is not an algorithm wiresign knows");
  key.algorithm = *alg;
  std::string role = named.string("role");
  if (role == "ksk") key.role = keystore::KeyRole::ksk;
  else if (role == "zsk") key.role = keystore::KeyRole::zsk;
  else if (role == "csk") key.role = keystore::KeyRole::csk;
  else named.fail("role", "\"" + role + "\" is not one of ksk, zsk, csk");
  key.goal = named.state("goal");
  if (key.goal != RecordState::hidden && key.goal != RecordState::omnipresent)
    named.fail("goal", "must be omnipresent or hidden");
  key.standby = named.boolean("standby");
  key.compromised = named.boolean("compromised");
  // Absent in files written before `wiresign key rollover` existed.
  key.roll_requested = object.contains("roll-requested") && named.boolean("roll-requested");
  key.predecessor = named.string("predecessor");
  key.created = named.integer("created", 0, INT64_MAX);
  key.in_service = named.integer("in-service", 0, INT64_MAX);
  // A record the role does not have is more telling than the one then missing.
  for (KeyRecord record : kKeyRecords)
    if (!key.has(record) && object.contains(std::string(key_record_name(record))))
      named.fail(std::string(key_record_name(record)), "a " + role + " has no such record");
  for (KeyRecord record : kKeyRecords)
    if (key.has(record)) key.record(record) = named.record(std::string(key_record_name(record)));
  key.ds_seen = named.optional_time("ds-seen");
  key.ds_gone = named.optional_time("ds-gone");
  // Only for a key shared from another zone (share-keys).
  if (object.contains("keystore-zone")) key.keystore_zone = named.string("keystore-zone");
  return key;
}

// "line 3, column 14" for a byte offset into `text`.
std::string text_position(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
  size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

std::string key_state_file_name(const std::string& zone) {
  std::string name = zone;
  for (char& c : name)
    if (c == '/') c = '_';  // classless reverse zones ("0/25.2.0.192.in-addr.arpa.")
  return name + "json";
}

std::string key_ring_to_text(const KeyRing& ring) {
  json keys = json::array();
  for (const auto& key : ring.keys) keys.push_back(key_to_json(key));
  json out = {{"format", kFormat}, {"going-insecure", ring.going_insecure}, {"keys", keys}};
  return out.dump(2) + "\n";
}

KeyRing key_ring_from_text(std::string_view text, const std::string& origin) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's message repeats the byte offset; a line and column is what an editor takes.
    std::string what = e.what();
    if (auto colon = what.rfind(": "); colon != std::string::npos) what = what.substr(colon + 2);
    throw KeyStateError(origin + ": " + text_position(text, e.byte == 0 ? 0 : e.byte - 1) + ": not valid JSON (" +
                        what + ")");
  }
  Reader top(root, origin);
  std::string format = top.string("format");
  if (format != kFormat) top.fail("format", "\"" + format + "\" is not \"" + std::string(kFormat) + "\"");
  KeyRing ring;
  ring.going_insecure = top.boolean("going-insecure");
  const json& keys = top.get("keys");
  if (!keys.is_array()) top.fail("keys", "must be a list");
  for (size_t i = 0; i < keys.size(); ++i) {
    KeyState key = key_from_json(keys[i], origin + ": keys[" + std::to_string(i) + "]");
    if (ring.find(key.id))
      throw KeyStateError(origin + ": keys[" + std::to_string(i) + "] (" + key.id + "): \"id\": given twice");
    ring.keys.push_back(std::move(key));
  }
  return ring;
}

}  // namespace wiresign::policy
