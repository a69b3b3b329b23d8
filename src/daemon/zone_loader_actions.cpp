// What the operator sees and asks of the loader: a zone's signing status,
// and the actions behind `wiresign zone resign|hold|release|discard|notify`.
#include <unistd.h>

#include "daemon/previous_signatures.h"
#include "dns/rr_type.h"
#include "daemon/time_text.h"
#include "daemon/zone_loader.h"

namespace wiresign::daemon {

SigningStatus ZoneLoader::status(const conf::ZoneConfig& zone) const {
  std::lock_guard lock(mutex_);
  SigningStatus out;
  auto it = states_.find(zone.name);
  if (it != states_.end()) {
    const ZoneState& state = it->second;
    out = state.history;
    if (state.version) {
      out.signed_serial = state.version->zone->serial();
      out.input_serial = state.version->input_serial;
      out.records = state.version->zone->record_count();
      if (auto earliest = earliest_expiration(*state.version->zone)) out.earliest_expiration = *earliest;
    }
    out.next_resign = state.resign_at;
    out.resign_failures = state.resign_failures;
    if (state.journal) {
      out.journal_versions = state.journal->size();
      out.journal_bytes = state.journal->bytes();
      out.journal_oldest_serial = state.journal->oldest_serial();
    }
  }
  if (state_dir_) {
    out.operator_hold = ::access(state_dir_->operator_hold_path(zone.name).c_str(), F_OK) == 0;
    std::string held = state_dir_->held_zone_path(zone.name);
    if (auto text = read_file_if_present(held)) {
      out.held = true;
      // The held file's first line says why: "; held back by wiresignd: <why>".
      std::string first = text->substr(0, text->find('\n'));
      const std::string prefix = "; held back by wiresignd: ";
      out.held_reason = first.rfind(prefix, 0) == 0 ? first.substr(prefix.size()) : first;
    }
  }
  return out;
}

std::shared_ptr<const xfr::SignedZone> ZoneLoader::served(const conf::ZoneConfig& zone) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  return it != states_.end() && it->second.version ? it->second.version->zone : nullptr;
}

std::optional<xfr::Record> ZoneLoader::served_input_soa(const conf::ZoneConfig& zone) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  if (it == states_.end() || !it->second.version) return std::nullopt;
  const dns::RecordView& soa = it->second.version->zone->soa();
  xfr::Record record{std::string(soa.owner), soa.type, soa.rclass, soa.ttl, {soa.rdata.begin(), soa.rdata.end()}};
  if (!dns::set_soa_serial(record.rdata, it->second.version->input_serial)) return std::nullopt;
  return record;
}

std::vector<xfr::Record> ZoneLoader::served_input(const conf::ZoneConfig& zone) const {
  std::vector<xfr::Record> records;
  std::optional<xfr::Record> soa = served_input_soa(zone);
  std::shared_ptr<const xfr::SignedZone> version = served(zone);
  if (!soa || !version) return records;
  records.push_back(std::move(*soa));
  version->for_each_record_but_soa([&](const dns::RecordView& rr) {
    if (!dns::is_dnssec_generated_type(rr.type))
      records.push_back({std::string(rr.owner), rr.type, rr.rclass, rr.ttl, {rr.rdata.begin(), rr.rdata.end()}});
  });
  return records;
}

bool ZoneLoader::request_resign(const conf::ZoneConfig& zone) {
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  if (it == states_.end() || !it->second.version) return false;
  it->second.resign_at = it->second.signatures_due_at = std::time(nullptr);
  it->second.whole_resign_asked = true;
  it->second.history.last_error.clear();
  log_(zone.name + ": re-sign asked by the operator");
  return true;
}

bool ZoneLoader::request_hold(const conf::ZoneConfig& zone) {
  if (!state_dir_) return false;  // the hold lives in the state dir, to survive restarts
  write_file_atomically(state_dir_->operator_hold_path(zone.name), "held by the operator\n");
  log_(zone.name + ": the operator holds new inputs; re-signing of the version in service goes on");
  return true;
}

bool ZoneLoader::request_release(const conf::ZoneConfig& zone) {
  if (!state_dir_) return false;
  bool was_held = ::unlink(state_dir_->operator_hold_path(zone.name).c_str()) == 0;
  if (was_held) log_(zone.name + ": the operator ended the hold of new inputs");
  if (::access(state_dir_->held_zone_path(zone.name).c_str(), R_OK) != 0) return was_held;
  write_file_atomically(state_dir_->release_path(zone.name), "released by the operator\n");
  return true;
}

bool ZoneLoader::discard_held(const conf::ZoneConfig& zone) {
  if (!state_dir_ || ::unlink(state_dir_->held_zone_path(zone.name).c_str()) != 0) return false;
  log_(zone.name + ": the operator discarded the held input; the version in service stays");
  return true;
}

bool ZoneLoader::renotify(const conf::ZoneConfig& zone) {
  std::optional<uint32_t> serial;
  {
    std::lock_guard lock(mutex_);
    auto it = states_.find(zone.name);
    if (it != states_.end() && it->second.version) serial = it->second.version->zone->serial();
  }
  if (!serial || !notifier_ || zone.notify.empty()) return false;
  announce(zone, *serial);
  return true;
}

std::string ZoneLoader::request_key_rollover(const conf::ZoneConfig& zone, std::optional<keystore::KeyRole> role,
                                             uint16_t key_tag, bool compromised) {
  std::string done;
  std::vector<std::string> zones{zone.name};
  {
    std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
    std::lock_guard signing(*zone_lock);
    done = key_manager_.request_rollover(zone.name, role, key_tag, compromised, &zones);
  }
  std::lock_guard lock(mutex_);
  for (const auto& name : zones) {
    auto it = states_.find(name);
    if (it != states_.end() && it->second.version) it->second.resign_at = std::time(nullptr);
  }
  return done + (zones.size() > 1 ? "; the zones are re-signed now to start it" : "; the zone is re-signed now to start it");
}

std::string ZoneLoader::confirm_ds(const conf::ZoneConfig& zone, uint16_t key_tag, bool seen) {
  std::string done;
  {
    std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
    std::lock_guard signing(*zone_lock);
    done = key_manager_.confirm_ds(zone.name, key_tag, seen, std::time(nullptr));
  }
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  if (it != states_.end() && it->second.version) it->second.resign_at = std::time(nullptr);
  return done;
}

std::string ZoneLoader::generate_standby_key(const conf::ZoneConfig& zone, keystore::KeyRole role) {
  std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
  std::string done;
  {
    std::lock_guard signing(*zone_lock);
    std::shared_ptr<keystore::Keystore> store;
    policy::SigningPolicy policy;
    {
      std::lock_guard lock(mutex_);
      const conf::PolicyConfig* policy_config = config_->find_policy(zone.policy);
      if (!policy_config) throw std::invalid_argument(zone.name + ": policy \"" + zone.policy + "\" is not configured");
      policy = policy::policy_from_config(*policy_config);
      store = keystore_for(*policy_config);
    }
    done = key_manager_.generate_standby(zone.name, role, policy, *store, std::time(nullptr));
  }
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  if (it != states_.end() && it->second.version) it->second.resign_at = std::time(nullptr);
  return done;
}

// Runs on the scheduler's worker under the zone's signing lock, so that a DS
// fact never races a signing's key states; the network waits are bounded.
void ZoneLoader::check_parent(const conf::ZoneConfig& zone, std::time_t now) {
  std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
  std::lock_guard signing(*zone_lock);
  std::shared_ptr<keystore::Keystore> store;
  policy::SigningPolicy policy;
  {
    std::lock_guard lock(mutex_);
    const conf::PolicyConfig* policy_config = config_->find_policy(zone.policy);
    if (!policy_config) return;
    policy = policy::policy_from_config(*policy_config);
    try {
      store = keystore_for(*policy_config);
    } catch (const std::exception& e) {
      log_(zone.name + ": parent DS check put off for " + std::to_string(policy.ds_check_interval_s) +
           " s: keystore \"" + policy_config->keystore + "\": " + e.what());
      key_manager_.postpone_parent_check(zone.name, now + policy.ds_check_interval_s);
      return;
    }
  }
  try {
    if (!key_manager_.check_parent(zone, policy, *store, now)) return;
  } catch (const std::exception& e) {
    log_(zone.name + ": parent DS check failed: " + e.what());
    return;
  }
  // A DS fact lets the roll move on: sign now rather than at the next event.
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  if (it != states_.end() && it->second.version) it->second.resign_at = now;
}

std::string ZoneLoader::describe_served(const conf::ZoneConfig& zone) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(zone.name);
  if (it == states_.end() || !it->second.version) return "nothing";
  const xfr::SignedZone& served = *it->second.version->zone;
  std::string text = "serial " + std::to_string(served.serial());
  if (auto earliest = earliest_expiration(served))
    text += ", signatures valid until " + utc_text(static_cast<std::time_t>(*earliest)) + ", re-signed from " +
            utc_text(it->second.resign_at);
  return text;
}

}  // namespace wiresign::daemon
