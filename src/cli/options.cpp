// Parsing "--name value" options for the wiresign commands.
#include "cli/options.h"

#include <charconv>

namespace wiresign::cli {

Options::Options(const std::vector<std::string>& args, const std::set<std::string>& valued,
                 const std::set<std::string>& flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_inline_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2);
    if (flags.count(name)) {
      if (has_inline_value) throw UsageError("--" + name + " takes no value");
      values_[name] = "";
    } else if (valued.count(name)) {
      if (!has_inline_value) {
        if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
        value = args[++i];
      }
      values_[name] = value;
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

std::optional<std::string> Options::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Options::require(const std::string& name) const {
  auto value = get(name);
  if (!value || value->empty()) throw UsageError("--" + name + " is required");
  return *value;
}

long Options::number(const std::string& name, long fallback, long min, long max) const {
  auto value = get(name);
  if (!value) return fallback;
  long result = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), result);
  if (ec != std::errc() || ptr != value->data() + value->size() || result < min || result > max)
    throw UsageError("--" + name + " wants a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not '" + *value + "'");
  return result;
}

}  // namespace wiresign::cli
