// Reading YAML mappings key by key while collecting every problem with its
// file:line, so one run of the loader reports all mistakes at once. Internal to conf/.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/config.h"

namespace wiresign::conf {

// The problems found so far; each becomes "file:line: context: what".
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void add(int line, std::string_view context, std::string_view what);
  void add(const YAML::Node& at, std::string_view context, std::string_view what) {
    add(line_of(at), context, what);
  }
  SourceLocation where(const YAML::Node& node) const { return {file_, line_of(node)}; }
  const std::string& file() const { return file_; }
  bool empty() const { return items_.empty(); }
  // Throws ConfigError with the problems in file order (stable for one line).
  [[noreturn]] void raise() const;

  // 1-based line of a node, 0 when yaml-cpp has no mark for it.
  static int line_of(const YAML::Node& node);

 private:
  std::string file_;
  std::vector<std::pair<int, std::string>> items_;
};

// One mapping's entries. Keys given twice and keys not allowed are problems;
// typed getters report a value that is present but wrong and return nullopt.
class Fields {
 public:
  Fields(Problems& problems, const YAML::Node& map, std::string context);

  // Reports every key outside `allowed`, with a did-you-mean for near misses,
  // and keys given twice. Call it once the context is final.
  void allow_only(std::initializer_list<std::string_view> allowed);
  // The value node, or nullptr when the key is absent.
  const YAML::Node* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  const YAML::Node& node() const { return map_; }
  const std::string& context() const { return context_; }
  // Names the thing once its name is known: `zone "example.com"`.
  void set_context(std::string context) { context_ = std::move(context); }
  Problems& problems() { return problems_; }

  void problem(const YAML::Node& at, std::string_view what) { problems_.add(at, context_, what); }
  void problem(std::string_view what) { problems_.add(map_, context_, what); }

  // A scalar; with `required`, absence is a problem too.
  std::optional<std::string> string(std::string_view key, bool required = false);
  std::optional<uint32_t> duration(std::string_view key);
  std::optional<unsigned> number(std::string_view key, unsigned min, unsigned max);
  std::optional<bool> boolean(std::string_view key);
  // A sequence of scalars (a single scalar counts as a list of one), each
  // with its node so that a bad entry can be reported on its own line.
  std::optional<std::vector<std::pair<std::string, YAML::Node>>> strings(std::string_view key);

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  // The value node if it is a scalar; otherwise reports and returns nullptr.
  const YAML::Node* scalar(std::string_view key);

  Problems& problems_;
  YAML::Node map_;
  std::string context_;
  std::vector<Entry> entries_;
  std::vector<Entry> repeated_;  // value = the key node of the first occurrence
};

// "unknown key" suggestions: the allowed key closest to `typo`, if close enough.
std::optional<std::string_view> closest_match(std::string_view typo,
                                              const std::vector<std::string_view>& candidates);

}  // namespace wiresign::conf
