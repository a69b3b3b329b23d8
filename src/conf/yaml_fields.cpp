// Key-by-key reading of YAML mappings with problems collected per file:line;
// see yaml_fields.h. yaml-cpp's own conversions throw, so values are checked here.
#include "conf/yaml_fields.h"

#include <algorithm>

#include "conf/duration.h"

namespace wiresign::conf {
namespace {

// A short, human hint for a node that has the wrong shape.
std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "an undefined value";
  }
}

// Edits (insert, delete, replace, swap two neighbours) from a to b; swapped
// letters count once because "xrf" for "xfr" is the commonest typo.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

int Problems::line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

void Problems::add(int line, std::string_view context, std::string_view what) {
  std::string text = SourceLocation{file_, line}.str() + ": ";
  if (!context.empty()) text.append(context).append(": ");
  text.append(what);
  items_.emplace_back(line, std::move(text));
}

void Problems::raise() const {
  auto sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> lines;
  lines.reserve(sorted.size());
  for (auto& item : sorted) lines.push_back(std::move(item.second));
  throw ConfigError(std::move(lines));
}

std::optional<std::string_view> closest_match(std::string_view typo,
                                              const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 0;
  for (auto candidate : candidates) {
    size_t distance = edit_distance(typo, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // Up to a third of the word may be wrong; beyond that the hint is noise.
  if (best && best_distance <= std::max<size_t>(1, typo.size() / 3)) return best;
  return std::nullopt;
}

Fields::Fields(Problems& problems, const YAML::Node& map, std::string context)
    : problems_(problems), map_(map), context_(std::move(context)) {
  if (!map.IsMap()) {
    problem(std::string("expected a mapping of settings, found ").append(kind_of(map)));
    return;
  }
  for (const auto& item : map) {
    if (!item.first.IsScalar()) {
      problem(item.first, "a key must be a plain name");
      continue;
    }
    std::string key = item.first.Scalar();
    // yaml-cpp keeps both copies of a repeated key; the second would silently
    // lose to the first, so say so.
    auto earlier = std::find_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.key == key; });
    if (earlier != entries_.end()) {
      // Reported by allow_only, once the context names the zone or policy.
      repeated_.push_back({key, item.first, YAML::Node(earlier->key_node)});
      continue;
    }
    entries_.push_back({std::move(key), item.first, item.second});
  }
}

void Fields::allow_only(std::initializer_list<std::string_view> allowed) {
  for (const auto& entry : repeated_)
    problem(entry.key_node, "\"" + entry.key + "\" is given twice (first at line " +
                                std::to_string(Problems::line_of(entry.value)) + ")");
  for (const auto& entry : entries_) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    std::string what = "unknown key \"" + entry.key + "\"";
    if (auto hint = closest_match(entry.key, std::vector<std::string_view>(allowed)))
      what.append(" (did you mean \"").append(*hint).append("\"?)");
    problem(entry.key_node, what);
  }
}

const YAML::Node* Fields::find(std::string_view key) const {
  for (const auto& entry : entries_)
    if (entry.key == key) return &entry.value;
  return nullptr;
}

const YAML::Node* Fields::scalar(std::string_view key) {
  const YAML::Node* value = find(key);
  if (!value) return nullptr;
  if (value->IsScalar()) return value;
  // A null value is the usual slip ("primary-tsig:" with nothing after it).
  std::string what = std::string(key);
  if (value->IsNull())
    what += " has no value";
  else
    what.append(" must be a single value, not ").append(kind_of(*value));
  problem(value->IsNull() ? map_ : *value, what);
  return nullptr;
}

std::optional<std::string> Fields::string(std::string_view key, bool required) {
  if (required && !has(key)) {
    problem(std::string(key) + " is required");
    return std::nullopt;
  }
  const YAML::Node* value = scalar(key);
  if (!value) return std::nullopt;
  if (value->Scalar().empty()) {
    problem(*value, std::string(key) + " is empty");
    return std::nullopt;
  }
  return value->Scalar();
}

std::optional<uint32_t> Fields::duration(std::string_view key) {
  const YAML::Node* value = scalar(key);
  if (!value) return std::nullopt;
  auto seconds = parse_duration(value->Scalar());
  if (!seconds)
    problem(*value, std::string(key) + ": \"" + value->Scalar() +
                        "\" is not a duration (like 14d, 12h, 30m, 45s, 2w, 1d12h or seconds)");
  return seconds;
}

std::optional<unsigned> Fields::number(std::string_view key, unsigned min, unsigned max) {
  const YAML::Node* value = scalar(key);
  if (!value) return std::nullopt;
  const std::string& text = value->Scalar();
  unsigned long long parsed = 0;
  bool ok = !text.empty() && text.size() <= 10 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (ok) parsed = std::stoull(text);
  if (!ok || parsed < min || parsed > max) {
    problem(*value, std::string(key) + ": \"" + text + "\" is not a number from " +
                        std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return static_cast<unsigned>(parsed);
}

std::optional<bool> Fields::boolean(std::string_view key) {
  const YAML::Node* value = scalar(key);
  if (!value) return std::nullopt;
  const std::string& text = value->Scalar();
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  problem(*value, std::string(key) + ": \"" + text + "\" is not true or false");
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, YAML::Node>>> Fields::strings(std::string_view key) {
  const YAML::Node* value = find(key);
  if (!value) return std::nullopt;
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (value->IsScalar()) {
    out.emplace_back(value->Scalar(), *value);
    return out;
  }
  if (!value->IsSequence()) {
    problem(value->IsNull() ? map_ : *value,
            std::string(key) + " must be a list, not " + std::string(kind_of(*value)));
    return std::nullopt;
  }
  for (const auto& item : *value) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      problem(item, std::string(key) + ": each entry must be a single value");
      continue;
    }
    out.emplace_back(item.Scalar(), item);
  }
  return out;
}

}  // namespace wiresign::conf
