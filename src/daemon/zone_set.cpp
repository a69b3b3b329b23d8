// Starting, stopping and reconfiguring zones while the daemon runs.
#include "daemon/zone_set.h"

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
      << zone.max_removed_share << "|" << zone.journal_max_entries << "|" << zone.journal_max_bytes << "|";
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
  versions_.push_back(std::move(config));
}

ZoneSet::~ZoneSet() {
  std::map<std::string, std::unique_ptr<ZoneFollower>> followers;
  std::unique_ptr<FileWatcher> watcher;
  {
    std::lock_guard lock(mutex_);
    followers.swap(followers_);
    watcher.swap(watcher_);
  }
  // Destroyed outside the lock: each joins its thread.
}

const conf::Config& ZoneSet::config() const {
  std::lock_guard lock(mutex_);
  return *versions_.back();
}

void ZoneSet::start_zone(const conf::ZoneConfig& zone) {
  if (!zone.file.empty()) return;  // the file watcher signs it
  // Built outside the lock: a follower signs its saved version as it starts.
  auto follower = std::make_unique<ZoneFollower>(zone, config(), loader_, log_, state_, counters_);
  std::lock_guard lock(mutex_);
  followers_[zone.name] = std::move(follower);
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
}

std::string ZoneSet::reload() {
  const conf::Config& before = config();
  auto fresh = std::make_unique<conf::Config>(conf::load_config(before.path));  // throws: nothing changes
  const conf::Config& after = *fresh;

  std::vector<std::string> added, removed, changed;
  std::vector<const conf::ZoneConfig*> to_start;
  std::vector<const conf::ZoneConfig*> to_forget;
  for (const auto& zone : after.zones) {
    const conf::ZoneConfig* old = before.find_zone(zone.name);
    if (!old) {
      added.push_back(zone.name);
      to_start.push_back(&zone);
    } else if (fingerprint(*old, before) != fingerprint(zone, after)) {
      changed.push_back(zone.name);
      to_start.push_back(&zone);
    }
  }
  for (const auto& zone : before.zones)
    if (!after.find_zone(zone.name)) {
      removed.push_back(zone.name);
      to_forget.push_back(&zone);
    }

  // Stop what goes away or changes; the rest keeps running untouched.
  std::vector<std::unique_ptr<ZoneFollower>> stopping;
  std::unique_ptr<FileWatcher> old_watcher;
  {
    std::lock_guard lock(mutex_);
    for (const auto& names : {removed, changed})
      for (const auto& name : names)
        if (auto it = followers_.find(name); it != followers_.end()) {
          stopping.push_back(std::move(it->second));
          followers_.erase(it);
        }
    old_watcher.swap(watcher_);
  }
  stopping.clear();  // joins their threads
  old_watcher.reset();
  for (const auto* zone : to_forget) loader_.forget(*zone);

  {
    std::lock_guard lock(mutex_);
    versions_.push_back(std::move(fresh));
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
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, follower] : followers_) follower->notify();
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
  const std::string zone_name = dns::to_text(notify.questions[0].name);
  const conf::Config& current = config();
  std::lock_guard lock(mutex_);
  for (auto& [name, follower] : followers_) {
    const conf::ZoneConfig& zone = follower->zone();
    if (dns::canonical_compare(dns::Name::from_text(zone.name).wire(), notify.questions[0].name) != 0) continue;
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
    follower->notify();
    return xfr::rcode::noerror;
  }
  log_(zone_name + ": NOTIFY from " + source + " refused: not a zone followed here");
  return xfr::rcode::notauth;
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
  return true;
}

}  // namespace wiresign::daemon
