// Zone transfers counted by zone, direction (in/out), type (AXFR/IXFR) and
// outcome, for the metrics. Only configured zones are counted, so a client
// asking for arbitrary names cannot grow the table.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace wiresign::xfr {

class TransferCounters {
 public:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // zone, direction, type, outcome
  void count(const std::string& zone, const std::string& direction, const std::string& type,
             const std::string& outcome) {
    std::lock_guard lock(mutex_);
    ++counts_[{zone, direction, type, outcome}];
  }
  std::map<Key, uint64_t> snapshot() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<Key, uint64_t> counts_;
};

}  // namespace wiresign::xfr
