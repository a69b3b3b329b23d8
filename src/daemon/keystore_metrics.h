// Per-keystore signing metrics: a latency histogram of every signature made
// and the errors, by wrapping a keystore's signing contexts. Cheap enough to
// stay on for millions of signatures (a clock read and two atomic adds).
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "keystore/keystore.h"

namespace wiresign::daemon {

struct SignLatency {
  // Upper bounds of the histogram buckets, in seconds (Prometheus "le").
  static constexpr std::array<double, 8> kBounds{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1.0};
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets{};  // the last: above every bound
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> total_ns{0};
  std::atomic<uint64_t> errors{0};
};

// Whether a keystore's last use worked, for status and alerts.
struct KeystoreHealth {
  bool up = true;
  std::string last_error;   // the last failure, kept after recovery
  std::time_t last_error_at = 0;
  std::time_t down_since = 0;  // 0 while up
};

// The latencies of all keystores, by keystore name; entries live as long as
// the registry (keystores may be re-opened on reload, their counts go on).
class KeystoreMetrics {
 public:
  SignLatency& for_keystore(const std::string& name);
  void record_failure(const std::string& name, const std::string& error, std::time_t now);
  void record_success(const std::string& name);
  std::map<std::string, KeystoreHealth> health() const;
  // Prometheus text for every keystore seen so far.
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<SignLatency>> latencies_;
  std::map<std::string, KeystoreHealth> health_;
};

// `inner` with every signature timed into `latency`.
std::unique_ptr<keystore::Keystore> measured(std::unique_ptr<keystore::Keystore> inner, SignLatency& latency);

}  // namespace wiresign::daemon
