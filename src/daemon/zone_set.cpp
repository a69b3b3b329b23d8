// Starting, stopping and reconfiguring zones while the daemon runs.
#include "daemon/zone_set.h"

#include <unistd.h>

#include <cctype>
#include <sstream>

#include "dns/name.h"
#include "xfr/acl.h"
#include "xfr/tsig.h"

namespace wiresign::daemon {
namespace {

// Everything in a configuration that decides how one zone is followed,
// signed and served; two zones with equal fingerprints need no restart.
std::string fingerprint(const conf::ZoneConfig& zone, const conf::Config& config) {
  std::ostringstream out;
  auto list = [&](const std::vector<std::string>& items) {
    for (const auto& item : items) out << item << ",";
    out << "|";
  };
  out << zone.policy << "|" << zone.file << "|" << zone.primary_tsig << "|" << zone.transfer_tsig << "|"
      << zone.max_removed_share << "|" << zone.journal_max_entries << "|" << zone.journal_max_bytes << "|" << zone.insecure << "|";
  list(zone.primaries);
  list(zone.allow_notify);
  list(zone.notify);
  list(zone.allow_transfer);
  if (const conf::PolicyConfig* p = config.find_policy(zone.policy)) {
    out << static_cast<int>(p->algorithm) << "|" << p->rsa_bits << "|" << static_cast<int>(p->key_scheme) << "|"
        << p->dnskey_ttl_s << "|" << p->signatures.validity_s << "|" << p->signatures.refresh_s << "|"
        << p->signatures.jitter_s << "|" << p->signatures.inception_offset_s << "|"
        << static_cast<int>(p->denial.type) << "|" << p->denial.iterations << "|" << int{p->denial.salt_length}
        << "|" << p->denial.opt_out << "|" << static_cast<int>(p->serial) << "|" << p->resign_bump << "|";
    if (const conf::KeystoreConfig* k = config.find_keystore(p->keystore))
      out << static_cast<int>(k->backend) << "|" << k->directory << "|" << k->module << "|" << k->token_label << "|"
          << k->pin << "|";
  }
  for (const std::string* key : {&zone.primary_tsig, &zone.transfer_tsig})
    if (const conf::TsigKeyConfig* k = config.find_tsig_key(*key))
      out << k->algorithm << "|" << std::string(k->secret.begin(), k->secret.end()) << "|";
  return out.str();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

}  // namespace

ZoneSet::ZoneSet(std::unique_ptr<conf::Config> config, ZoneLoader& loader, const StateDir* state,
                 xfr::TransferCounters* counters, xfr::LogSink log)
    : loader_(loader), state_(state), counters_(counters), log_(std::move(log)) {
  for (const auto& zone : config->zones) zones_[zone.name] = &zone;
  scheduler_ = std::make_unique<ZoneScheduler>(config->server.max_concurrent_zones,
                                               [this](const std::string& zone, ZoneJob job) { run_job(zone, job); });
  versions_.push_back(std::move(config));
  poller_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_polling_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
      lock.unlock();
      poll();
      lock.lock();
    }
  });
}

ZoneSet::~ZoneSet() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_polling_.notify_all();
  poller_.join();
  // Its workers finish their running jobs first, which still reach it
  // through scheduler_: reset() would clear the pointer before they end.
  scheduler_->stop();
  scheduler_.reset();
  std::map<std::string, std::shared_ptr<ZoneFollower>> followers;
  std::unique_ptr<FileWatcher> watcher;
  {
    std::lock_guard lock(mutex_);
    followers.swap(followers_);
    watcher.swap(watcher_);
  }
  // Destroyed outside the lock: the watcher joins its thread.
}

const conf::Config& ZoneSet::config() const {
  std::lock_guard lock(mutex_);
  return *versions_.back();
}

const conf::ZoneConfig* ZoneSet::find_zone(const std::string& zone) const {
  std::lock_guard lock(mutex_);
  auto it = zones_.find(zone);
  return it == zones_.end() ? nullptr : it->second;
}

void ZoneSet::start_zone(const conf::ZoneConfig& zone) {
  if (!zone.file.empty()) return;  // the file watcher signs it
  // Cheap: the saved version is signed by the zone's first refresh job.
  auto follower = std::make_shared<ZoneFollower>(zone, config(), loader_, log_, state_, counters_);
  std::lock_guard lock(mutex_);
  followers_[zone.name] = std::move(follower);
}

void ZoneSet::schedule_zone(const conf::ZoneConfig& zone) {
  if (zone.file.empty()) scheduler_->refresh_now(zone.name);
}

void ZoneSet::run_job(const std::string& name, ZoneJob job) {
  try {
    if (job == ZoneJob::resign) {
      // Also re-signs file zones; their inputs are read by the file watcher.
      if (const conf::ZoneConfig* zone = find_zone(name)) loader_.run_due_work(*zone, std::time(nullptr));
      return;
    }
    std::shared_ptr<ZoneFollower> follower;
    {
      std::lock_guard lock(mutex_);
      if (auto it = followers_.find(name); it != followers_.end()) follower = it->second;
    }
    if (!follower) return;  // stopped by a reload meanwhile
    uint32_t wait_s = follower->refresh();
    // A NOTIFY that came while this check ran stays queued: it is earlier.
    scheduler_->set_refresh(name, ZoneScheduler::Clock::now() + std::chrono::seconds(wait_s));
  } catch (const std::exception& e) {
    // A failure in one zone never stops another zone or the daemon.
    log_(name + ": scheduled work failed: " + e.what() + "; checking again in 60 s");
    if (job == ZoneJob::refresh) scheduler_->set_refresh(name, ZoneScheduler::Clock::now() + std::chrono::seconds(60));
  }
}

void ZoneSet::start() {
  const conf::Config& current = config();
  auto watcher = std::make_unique<FileWatcher>(current.zones, loader_);
  watcher->reload_all();
  {
    std::lock_guard lock(mutex_);
    watcher_ = std::move(watcher);
  }
  for (const auto& zone : current.zones) start_zone(zone);
  poll();
  for (const auto& zone : current.zones) schedule_zone(zone);
}

std::string ZoneSet::reload() {
  const conf::Config& before = config();
  auto fresh = std::make_unique<conf::Config>(conf::load_config(before.path));  // throws: nothing changes
  const conf::Config& after = *fresh;

  std::map<std::string, const conf::ZoneConfig*> before_zones, after_zones;
  for (const auto& zone : before.zones) before_zones[zone.name] = &zone;
  for (const auto& zone : after.zones) after_zones[zone.name] = &zone;
  std::vector<std::string> added, removed, changed;
  std::vector<const conf::ZoneConfig*> to_start;
  std::vector<const conf::ZoneConfig*> to_forget;
  for (const auto& zone : after.zones) {
    auto old = before_zones.find(zone.name);
    if (old == before_zones.end()) {
      added.push_back(zone.name);
      to_start.push_back(&zone);
    } else if (fingerprint(*old->second, before) != fingerprint(zone, after)) {
      changed.push_back(zone.name);
      to_start.push_back(&zone);
    }
  }
  for (const auto& zone : before.zones)
    if (!after_zones.count(zone.name)) {
      removed.push_back(zone.name);
      to_forget.push_back(&zone);
    }

  // Stop what goes away or changes; the rest keeps running untouched. A job
  // of such a zone in progress is waited for, so that it cannot publish the
  // zone again after it is forgotten.
  for (const auto& names : {removed, changed})
    for (const auto& name : names) scheduler_->remove(name);
  std::unique_ptr<FileWatcher> old_watcher;
  {
    std::lock_guard lock(mutex_);
    for (const auto& names : {removed, changed})
      for (const auto& name : names) followers_.erase(name);
    old_watcher.swap(watcher_);
  }
  old_watcher.reset();
  for (const auto* zone : to_forget) loader_.forget(*zone);

  {
    std::lock_guard lock(mutex_);
    versions_.push_back(std::move(fresh));
    zones_ = std::move(after_zones);
  }
  loader_.set_config(after);
  for (const auto& name : added)
    if (const auto* zone = after.find_zone(name)) loader_.restore_saved_version(*zone);
  auto watcher = std::make_unique<FileWatcher>(after.zones, loader_);
  watcher->reload_all();  // every file zone re-read: unchanged ones stay as they are
  {
    std::lock_guard lock(mutex_);
    watcher_ = std::move(watcher);
  }
  for (const auto* zone : to_start) start_zone(*zone);
  poll();
  for (const auto* zone : to_start) schedule_zone(*zone);
  {
    // Every primary checked, through the scheduler's bounded workers.
    std::lock_guard lock(mutex_);
    for (auto& [name, follower] : followers_) scheduler_->refresh_now(name);
  }
  if (before.server.listen != after.server.listen || before.server.state_dir != after.server.state_dir ||
      before.server.control_socket() != after.server.control_socket() ||
      before.server.control_tcp != after.server.control_tcp || before.server.metrics != after.server.metrics)
    log_("reload: the server section changed; listen addresses, state-dir, control and metrics take effect at the "
         "next restart");
  std::string summary = "zones added: " + joined(added) + "; removed: " + joined(removed) + "; changed: " +
                        joined(changed) + "; " + std::to_string(after.zones.size()) + " zones in service";
  log_("reload of " + after.path + ": " + summary);
  return summary;
}

uint8_t ZoneSet::on_notify(const xfr::Message& notify, std::span<const uint8_t> wire, const std::string& source) {
  std::string zone_name = dns::to_text(notify.questions[0].name);
  for (char& c : zone_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const conf::Config& current = config();
  std::lock_guard lock(mutex_);
  auto found = followers_.find(zone_name);
  if (found == followers_.end()) {
    log_(zone_name + ": NOTIFY from " + source + " refused: not a zone followed here");
    return xfr::rcode::notauth;
  }
  const conf::ZoneConfig& zone = found->second->zone();
  if (!xfr::address_allowed(source, xfr::parse_acl(zone.allow_notify))) {
    log_(zone.name + ": NOTIFY from " + source + " refused: not in allow-notify");
    return xfr::rcode::refused;
  }
  if (!zone.primary_tsig.empty()) {
    const conf::TsigKeyConfig* key = current.find_tsig_key(zone.primary_tsig);
    if (!key) return xfr::rcode::notauth;
    std::vector<xfr::TsigKey> keys{*xfr::make_tsig_key(key->name, key->algorithm, key->secret)};
    auto check = xfr::tsig_verify(wire, keys, static_cast<uint64_t>(std::time(nullptr)));
    if (check.outcome != xfr::TsigVerification::Outcome::ok) {
      log_(zone.name + ": NOTIFY from " + source + " refused: " + check.describe());
      return xfr::rcode::notauth;
    }
  }
  log_(zone.name + ": NOTIFY from " + source + "; checking the primary");
  // Queued in arrival order; NOTIFYs for a zone already queued are one check.
  scheduler_->refresh_now(zone.name);
  return xfr::rcode::noerror;
}

std::optional<RefreshStatus> ZoneSet::refresh_status(const std::string& zone) const {
  std::lock_guard lock(mutex_);
  auto it = followers_.find(zone);
  if (it == followers_.end()) return std::nullopt;
  return it->second->status();
}

bool ZoneSet::retransfer(const std::string& zone) {
  std::lock_guard lock(mutex_);
  auto it = followers_.find(zone);
  if (it == followers_.end()) return false;
  it->second->retransfer();
  scheduler_->refresh_now(zone);
  return true;
}

void ZoneSet::poll() {
  // Re-signs (and zone file retries) are due when the loader says; only
  // changed times are passed on, so this stays cheap with many zones.
  for (const auto& [name, at] : loader_.due_times()) scheduler_->set_resign(name, at);
  if (!state_) return;
  std::vector<std::string> released;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, zone] : zones_)
      if (::access(state_->release_path(name).c_str(), F_OK) == 0) released.push_back(name);
  }
  // The zone's next job publishes the released input (ZoneLoader::run_due_work).
  for (const auto& name : released) scheduler_->set_resign(name, std::time(nullptr));
}

}  // namespace wiresign::daemon
