// What the loader keeps in the state dir: the signed version and journal
// saved before they are served (and served again after a restart), saves
// retried while the disk is full or read-only, and inputs held back.
#include <unistd.h>

#include "daemon/time_text.h"
#include "daemon/zone_loader.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"

namespace wiresign::daemon {

bool ZoneLoader::restore_saved_version(const conf::ZoneConfig& zone) {
  if (!state_dir_) return false;
  std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
  std::lock_guard signing(*zone_lock);
  std::lock_guard lock(mutex_);
  try {
    std::optional<SavedVersion> saved_version = state_dir_->load_signed_zone(zone.name);
    if (!saved_version) return false;
    std::optional<SignedVersion> version = std::move(saved_version->version);
    if (saved_version->change_log_damaged)
      log_(zone.name + ": the change log ends in a cut-off entry (a write a crash interrupted, never served); " +
           "serving serial " + std::to_string(version->zone->serial()) + " from before it");
    std::shared_ptr<const xfr::Journal> journal;
    try {
      std::optional<xfr::Journal> saved = state_dir_->load_journal(zone.name);
      const xfr::JournalLimits limits{zone.journal_max_entries, zone.journal_max_bytes};
      for (const auto& diff : saved_version->logged_diffs)
        saved = (saved ? *saved : xfr::Journal()).with(diff, limits);
      if (saved && saved->newest_serial() == version->zone->serial())
        journal = std::make_shared<const xfr::Journal>(std::move(*saved));
      else if (saved && saved->size())
        log_(zone.name + ": saved journal ends at serial " + std::to_string(saved->newest_serial().value_or(0)) +
             ", not at the saved version's " + std::to_string(version->zone->serial()) +
             "; starting a new journal (IXFR from older serials gets the full zone)");
    } catch (const std::exception& e) {
      log_(zone.name + ": saved journal unusable, starting a new one: " + e.what());
    }
    ZoneState& state = states_[zone.name];
    uint32_t serial = version->zone->serial();
    state.change_log_bytes = saved_version->change_log_damaged ? kUnknownLog : saved_version->change_log_bytes;
    publish(zone, state, std::move(*version), journal);
    // The key states, so that a rollover in progress goes on at its time.
    if (const conf::PolicyConfig* policy = config_->find_policy(zone.policy)) {
      try {
        key_manager_.restore(zone.name, policy::policy_from_config(*policy), std::time(nullptr));
      } catch (const std::exception& e) {
        log_(zone.name + ": key states not read: " + e.what() + "; read again at the next signing");
      }
    }
    schedule_resign(zone, state, std::time(nullptr));
    log_(zone.name + ": serving saved signed serial " + std::to_string(serial) + " (journal: " +
         std::to_string(journal ? journal->size() : 0) + " versions); signatures due for refresh at " +
         utc_text(state.resign_at));
    return true;
  } catch (const std::exception& e) {
    log_(zone.name + ": saved signed version unusable, signing afresh: " + e.what());
    return false;
  }
}

std::string ZoneLoader::save_version(const std::string& zone, const SignedVersion& version,
                                     const xfr::Journal* journal, const IncrementalVersion* change,
                                     size_t& change_log_bytes) const {
  if (!state_dir_) return "";
  try {
    // A change is appended to the log of the version saved whole, until the
    // log grows past an eighth of that version: then it is saved whole again.
    if (change && change_log_bytes != kUnknownLog && change_log_bytes < version.zone->wire_size() / 8) {
      ChangeEntry entry{version.input_serial, version.input_names, version.input_digest, {}, change->diff};
      for (const auto& block : change->signed_change.blocks)
        entry.owners.push_back({block.owner, block.hashed, block.records});
      change_log_bytes = kUnknownLog;  // until the append is known to have worked
      change_log_bytes = state_dir_->append_signed_change(zone, entry);
      return "";
    }
    change_log_bytes = kUnknownLog;
    state_dir_->save_signed_zone(zone, version);
    state_dir_->save_journal(zone, journal ? *journal : xfr::Journal());
    change_log_bytes = 0;
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// DESIGN.md promise 4 gives way to promises 1 and 2 when the state dir
// cannot be written (disk full, read-only): the new version is served from
// memory rather than letting signatures run out. Only crash safety is lost
// meanwhile, and that is said in the log, the status and the metrics, and
// saving is retried until it works. The atomic writes leave what was saved
// before intact.
void ZoneLoader::note_save_outcome(const conf::ZoneConfig& zone, ZoneState& state, const std::string& error,
                                   std::time_t now) {
  std::string serial = std::to_string(state.version ? state.version->zone->serial() : 0);
  if (error.empty()) {
    if (state.history.unsaved_since)
      log_(zone.name + ": serial " + serial + " is saved in the state dir now; a restart serves it again");
    state.history.unsaved_since = 0;
    state.history.save_error.clear();
    state.save_retry_at = 0;
    return;
  }
  if (!state.history.unsaved_since) state.history.unsaved_since = now;
  state.history.save_error = error;
  state.save_retry_at = now + 30;
  log_(zone.name + ": error: could not save serial " + serial + " in the state dir (" + error +
       "); serving it from memory, where a crash would lose it (a restart would serve the last saved serial); " +
       "saving again in 30 s");
}

void ZoneLoader::retry_save(const conf::ZoneConfig& zone, std::time_t now) {
  std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
  std::lock_guard signing(*zone_lock);  // no signing of this zone meanwhile: the version stays
  std::unique_lock lock(mutex_);
  auto it = states_.find(zone.name);
  if (it == states_.end() || !it->second.version || !it->second.save_retry_at) return;
  SignedVersion version = *it->second.version;
  std::shared_ptr<const xfr::Journal> journal = it->second.journal;
  lock.unlock();
  size_t change_log_bytes = kUnknownLog;
  std::string error = save_version(zone.name, version, journal.get(), nullptr, change_log_bytes);
  lock.lock();
  it = states_.find(zone.name);
  if (it != states_.end()) {
    it->second.change_log_bytes = change_log_bytes;
    note_save_outcome(zone, it->second, error, now);
  }
}

void ZoneLoader::hold(const conf::ZoneConfig& zone, const signer::Zone& input, uint32_t serial,
                      const std::string& source, const std::string& why) {
  std::string where = "(no state dir: it is dropped)";
  if (state_dir_) {
    std::string text = "; held back by wiresignd: " + why + "\n; from " + source + "\n";
    for (const auto& r : input.records()) {
      if (dns::is_dnssec_generated_type(r.type)) continue;
      dns::RecordView rr = input.view(r);
      std::vector<uint8_t> soa;
      if (rr.type == dns::rr_type::SOA) {  // as it came in: prepare_zone set our serial
        soa.assign(rr.rdata.begin(), rr.rdata.end());
        dns::set_soa_serial(soa, serial);
        rr.rdata = soa;
      }
      dns::append_record_text(text, rr);
    }
    try {
      write_file_atomically(state_dir_->held_zone_path(zone.name), text);
      where = "kept in " + state_dir_->held_zone_path(zone.name) + "; to publish it anyway: touch " +
              state_dir_->release_path(zone.name) + "; to discard it: delete it";
    } catch (const std::exception& e) {
      where = std::string("(could not be kept: ") + e.what() + ")";
    }
  }
  log_(zone.name + ": HELD, not published: input from " + source + " " + why + "; the version in service stays; " +
       "the held input is " + where);
}

}  // namespace wiresign::daemon
