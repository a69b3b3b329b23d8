// Timing signatures as they are made.
#include "daemon/keystore_metrics.h"

#include <chrono>
#include <sstream>

namespace wiresign::daemon {
namespace {

class MeasuredContext : public keystore::SigningContext {
 public:
  MeasuredContext(std::unique_ptr<keystore::SigningContext> inner, SignLatency& latency)
      : inner_(std::move(inner)), latency_(latency) {}
  void sign(std::span<const uint8_t> data, std::vector<uint8_t>& out) override {
    auto start = std::chrono::steady_clock::now();
    try {
      inner_->sign(data, out);
    } catch (...) {
      latency_.errors.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    double seconds = static_cast<double>(ns) / 1e9;
    size_t bucket = 0;
    while (bucket < SignLatency::kBounds.size() && seconds > SignLatency::kBounds[bucket]) ++bucket;
    latency_.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    latency_.count.fetch_add(1, std::memory_order_relaxed);
    latency_.total_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  }

 private:
  std::unique_ptr<keystore::SigningContext> inner_;
  SignLatency& latency_;
};

class MeasuredKeystore : public keystore::Keystore {
 public:
  MeasuredKeystore(std::unique_ptr<keystore::Keystore> inner, SignLatency& latency)
      : inner_(std::move(inner)), latency_(latency) {}
  std::vector<keystore::KeyInfo> list_keys(const std::string& zone) override { return inner_->list_keys(zone); }
  keystore::KeyInfo generate_key(const keystore::KeyRequest& request) override {
    return inner_->generate_key(request);
  }
  std::unique_ptr<keystore::SigningContext> open_signer(const keystore::KeyInfo& key) override {
    try {
      return std::make_unique<MeasuredContext>(inner_->open_signer(key), latency_);
    } catch (...) {
      latency_.errors.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
  }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<keystore::Keystore> inner_;
  SignLatency& latency_;
};

}  // namespace

SignLatency& KeystoreMetrics::for_keystore(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = latencies_[name];
  if (!slot) slot = std::make_unique<SignLatency>();
  return *slot;
}

void KeystoreMetrics::record_failure(const std::string& name, const std::string& error, std::time_t now) {
  std::lock_guard lock(mutex_);
  KeystoreHealth& health = health_[name];
  if (health.up) health.down_since = now;
  health.up = false;
  health.last_error = error;
  health.last_error_at = now;
}

void KeystoreMetrics::record_success(const std::string& name) {
  std::lock_guard lock(mutex_);
  KeystoreHealth& health = health_[name];
  health.up = true;
  health.down_since = 0;
}

std::map<std::string, KeystoreHealth> KeystoreMetrics::health() const {
  std::lock_guard lock(mutex_);
  return health_;
}

std::string KeystoreMetrics::render() const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP wiresign_keystore_sign_seconds time to make one signature, by keystore\n"
         "# TYPE wiresign_keystore_sign_seconds histogram\n";
  for (const auto& [name, latency] : latencies_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < SignLatency::kBounds.size(); ++i) {
      cumulative += latency->buckets[i].load();
      out << "wiresign_keystore_sign_seconds_bucket{keystore=\"" << name << "\",le=\"" << SignLatency::kBounds[i]
          << "\"} " << cumulative << "\n";
    }
    out << "wiresign_keystore_sign_seconds_bucket{keystore=\"" << name << "\",le=\"+Inf\"} " << latency->count.load()
        << "\n";
    out << "wiresign_keystore_sign_seconds_sum{keystore=\"" << name << "\"} "
        << static_cast<double>(latency->total_ns.load()) / 1e9 << "\n";
    out << "wiresign_keystore_sign_seconds_count{keystore=\"" << name << "\"} " << latency->count.load() << "\n";
  }
  out << "# HELP wiresign_keystore_errors_total signing and session errors, by keystore\n"
         "# TYPE wiresign_keystore_errors_total counter\n";
  for (const auto& [name, latency] : latencies_)
    out << "wiresign_keystore_errors_total{keystore=\"" << name << "\"} " << latency->errors.load() << "\n";
  out << "# HELP wiresign_keystore_up 1 when the keystore's last use worked, 0 while it fails (signing retried)\n"
         "# TYPE wiresign_keystore_up gauge\n";
  for (const auto& [name, health] : health_)
    out << "wiresign_keystore_up{keystore=\"" << name << "\"} " << (health.up ? 1 : 0) << "\n";
  return out.str();
}

std::unique_ptr<keystore::Keystore> measured(std::unique_ptr<keystore::Keystore> inner, SignLatency& latency) {
  return std::make_unique<MeasuredKeystore>(std::move(inner), latency);
}

}  // namespace wiresign::daemon
