// A small command-line option parser: "--name value" and "--flag", with
// errors that say which option was wrong.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace wiresign::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Options {
 public:
  // `valued` options take an argument; `flags` do not. Throws UsageError.
  Options(const std::vector<std::string>& args, const std::set<std::string>& valued,
          const std::set<std::string>& flags);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  // A whole number in [min, max], or `fallback` when absent.
  long number(const std::string& name, long fallback, long min, long max) const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace wiresign::cli
