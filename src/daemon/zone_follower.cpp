// The refresh checks of one zone, run by the scheduler's workers.
#include "daemon/zone_follower.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "dns/name.h"
#include "dns/record.h"
#include "signer/serial.h"
#include "xfr/inbound.h"
#include "xfr/transport.h"

namespace wiresign::daemon {

ZoneFollower::ZoneFollower(const conf::ZoneConfig& zone, const conf::Config& config, ZoneLoader& loader,
                           xfr::LogSink log, const StateDir* state, xfr::TransferCounters* counters)
    : zone_(zone), loader_(loader), state_(state), counters_(counters), log_(std::move(log)), last_success_(std::chrono::steady_clock::now()) {
  for (const auto& text : zone.primaries)
    if (auto address = conf::parse_socket_address(text, 53)) primaries_.push_back(*address);
  if (!zone.primary_tsig.empty())
    if (const auto* key = config.find_tsig_key(zone.primary_tsig))
      tsig_ = xfr::make_tsig_key(key->name, key->algorithm, key->secret);
}

void ZoneFollower::take_timers(std::span<const uint8_t> soa) {
  // Timers come from the primary's SOA (RFC 1035 §3.3.13): REFRESH, RETRY, EXPIRE.
  size_t pos = dns::soa_serial_offset(soa);
  if (pos + 20 > soa.size()) return;
  refresh_s_ = std::max<uint32_t>(1, dns::get_u32(soa.data() + pos + 4));
  retry_s_ = std::max<uint32_t>(1, dns::get_u32(soa.data() + pos + 8));
  expire_s_ = dns::get_u32(soa.data() + pos + 12);
}

void ZoneFollower::load_saved_version() {
  // The version in service (restored from the state dir) is our copy of
  // the primary's: signed again from itself (nothing is made when the policy
  // did not change), with the primary's serial and timers from its SOA.
  if (std::optional<xfr::Record> soa = loader_.served_input_soa(zone_)) {
    const uint32_t serial = dns::soa_serial(soa->rdata).value_or(0);
    if (loader_.load_transferred_zone(zone_, loader_.served_input(zone_),
                                      "the saved version (unsigned serial " + std::to_string(serial) + ")")) {
      unsigned_serial_ = serial;
      take_timers(soa->rdata);
      log_(zone_.name + ": serving the saved version (unsigned serial " + std::to_string(serial) +
           ") until the primary answers");
    }
    return;
  }
  // Only an unsigned copy (the signed version was lost): signed from it.
  if (!state_) return;
  std::string saved = state_->unsigned_zone_path(zone_.name);
  if (::access(saved.c_str(), R_OK) != 0) return;
  if (auto serial = loader_.load_saved_zone(zone_, saved)) {
    unsigned_serial_ = *serial;
    if (std::optional<xfr::Record> served = loader_.served_input_soa(zone_)) take_timers(served->rdata);
    log_(zone_.name + ": serving the saved version (unsigned serial " + std::to_string(*serial) +
         ") until the primary answers");
  }
}

void ZoneFollower::retransfer() {
  std::lock_guard lock(mutex_);
  force_transfer_ = true;
}

RefreshStatus ZoneFollower::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

uint32_t ZoneFollower::refresh() {
  if (!started_) {
    started_ = true;
    load_saved_version();
  }
  uint32_t wait_s = refresh_once();
  std::lock_guard lock(mutex_);
  std::time_t now = std::time(nullptr);
  status_.last_check = now;
  if (failures_ == 0) status_.last_success = now;
  status_.next_check = now + wait_s;
  status_.last_outcome = outcome_;
  status_.failures = failures_;
  status_.unsigned_serial = unsigned_serial_;
  status_.refresh_s = refresh_s_;
  status_.retry_s = retry_s_;
  status_.expire_s = expire_s_;
  return wait_s;
}

ZoneFollower::Fetched ZoneFollower::fetch(const xfr::PrimaryRequest& request, uint32_t serial, std::string& how) {
  const std::string primary = request.primary.str();
  std::optional<xfr::Record> ours = unsigned_serial_ ? loader_.served_input_soa(zone_) : std::nullopt;
  if (ours && dns::soa_serial(ours->rdata) == unsigned_serial_) {
    // RFC 1995: ask for the changes since our version; AXFR when the primary cannot give them.
    try {
      xfr::IxfrResult answer = xfr::transfer_zone_incremental(request, *ours, zone_.max_records);
      if (counters_) counters_->count(zone_.name, "in", "IXFR", answer.full ? "full" : "incremental");
      if (answer.full) {
        how = "IXFR from " + primary + " (answered with the full zone)";
        return {std::move(answer.records), {}};
      }
      if (!answer.diffs.empty()) {
        size_t removed = 0, added = 0;
        for (const auto& diff : answer.diffs) {
          removed += diff.removed.size();
          added += diff.added.size();
        }
        how = "IXFR from " + primary + " (" + std::to_string(answer.diffs.size()) + " diffs, " +
              std::to_string(removed) + " records removed, " + std::to_string(added) + " added)";
        return {{}, std::move(answer.diffs)};
      }
      log_(zone_.name + ": IXFR from " + primary + " says we are up to date, but its SOA has serial " +
           std::to_string(serial) + "; falling back to AXFR");
    } catch (const std::exception& e) {
      if (counters_) counters_->count(zone_.name, "in", "IXFR", "failed");
      log_(zone_.name + ": IXFR failed: " + e.what() + "; falling back to AXFR");
    }
  }
  how = "AXFR from " + primary;
  return {axfr(request), {}};
}

std::vector<xfr::Record> ZoneFollower::axfr(const xfr::PrimaryRequest& request) {
  try {
    auto records = xfr::transfer_zone(request, zone_.max_records);
    if (counters_) counters_->count(zone_.name, "in", "AXFR", "full");
    return records;
  } catch (const std::exception&) {
    if (counters_) counters_->count(zone_.name, "in", "AXFR", "failed");
    throw;
  }
}

uint32_t ZoneFollower::refresh_once() {
  const std::string zone_wire = dns::Name::from_text(zone_.name).wire();
  std::string errors;
  for (const auto& primary : primaries_) {
    xfr::PrimaryRequest request{primary, zone_wire, tsig_ ? &*tsig_ : nullptr, std::chrono::milliseconds(5000)};
    request.max_transfer_time = std::chrono::seconds(zone_.transfer_timeout_s);
    request.max_transfer_bytes = zone_.max_transfer_bytes;
    try {
      uint32_t serial = xfr::query_primary_serial(request);
      bool forced = false;
      {
        std::lock_guard lock(mutex_);
        std::swap(forced, force_transfer_);
      }
      if (!forced && unsigned_serial_ && !signer::serial_newer(serial, *unsigned_serial_)) {
        failures_ = 0;
        last_success_ = std::chrono::steady_clock::now();
        outcome_ = "up to date at serial " + std::to_string(serial) + " (" + primary.str() + ")";
        // A serial that went backwards (RFC 1982) is never followed: say so
        // once per value, with the way out if the primary was reset.
        if (serial != *unsigned_serial_ && serial != backwards_serial_logged_) {
          backwards_serial_logged_ = serial;
          log_(zone_.name + ": the primary " + primary.str() + " has serial " + std::to_string(serial) +
               ", older than ours (" + std::to_string(*unsigned_serial_) +
               "); not transferred. If the primary was reset on purpose: wiresign zone retransfer " + zone_.name);
          outcome_ += "; its serial is OLDER than ours " + std::to_string(*unsigned_serial_);
        }
        return refresh_s_;
      }
      std::string how = "AXFR from " + primary.str() + " (retransfer asked)";
      const auto transfer_started = std::chrono::steady_clock::now();
      Fetched fetched =
          forced ? Fetched{xfr::transfer_zone(request, zone_.max_records), {}} : fetch(request, serial, how);
      std::vector<xfr::Record>& records = fetched.records;
      take_timers(fetched.diffs.empty() ? records.front().rdata : fetched.diffs.back().new_soa.rdata);
      char took[32];
      std::snprintf(took, sizeof took, "%.3f s",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - transfer_started).count());
      log_(zone_.name + ": " + how + ": serial " + std::to_string(serial) +
           (fetched.diffs.empty() ? ", " + std::to_string(records.size()) + " records" : std::string()) + " in " +
           took);
      outcome_ = how + ": serial " + std::to_string(serial);
      const std::string source = how + " serial " + std::to_string(serial);
      std::optional<bool> published;
      if (!fetched.diffs.empty()) {
        // The changes are signed on their own: the version in service then
        // is our copy of the primary's, kept by the signed side's change log.
        published = loader_.load_transferred_change(zone_, fetched.diffs, source);
        if (!published) {
          // Left to whole-zone signing (or to be held): the diffs applied to
          // the unsigned data of the version in service.
          try {
            records = xfr::apply_ixfr(loader_.served_input(zone_), fetched.diffs);
          } catch (const std::exception& e) {
            if (counters_) counters_->count(zone_.name, "in", "IXFR", "failed");
            log_(zone_.name + ": IXFR failed: " + e.what() + "; falling back to AXFR");
            records = axfr(request);
          }
        }
      }
      bool in_service = published ? *published : loader_.load_transferred_zone(zone_, records, source);
      if (!in_service) outcome_ += "; not published (held or refused: see the signing status)";
      if (in_service) unsigned_serial_ = serial;
      failures_ = 0;
      last_success_ = std::chrono::steady_clock::now();
      return refresh_s_;
    } catch (const std::exception& e) {
      errors += (errors.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  // Every primary failed: back off, never give up, never expire the zone.
  ++failures_;
  uint32_t wait_s = std::min<uint32_t>(retry_s_ << std::min(failures_ - 1, 4u), std::max(retry_s_, refresh_s_));
  // Nothing to serve yet: the primary's timers are unknown, so retry soon
  // (5 s, doubling) rather than after a default retry interval.
  if (!unsigned_serial_) wait_s = std::min<uint32_t>(wait_s, 5u << std::min(failures_ - 1, 6u));
  auto silent_s = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - last_success_).count());
  // Past expire the zone stays in service (DESIGN.md promise 1), and it is
  // said loudly: since when, which serial, until when its signatures hold.
  std::string state = !unsigned_serial_ ? "nothing to serve yet"
                     : silent_s > expire_s_
                          ? "PAST SOA EXPIRE (" + std::to_string(expire_s_) + " s) by " +
                                std::to_string(silent_s - expire_s_) + " s; still serving the last good version, " +
                                loader_.describe_served(zone_) + " (and re-signing it)"
                          : "serving the last good version, " + loader_.describe_served(zone_);
  outcome_ = "failed: " + errors;
  log_(zone_.name + ": refresh failed (" + std::to_string(failures_) + " in a row, primaries silent for " +
       std::to_string(silent_s) + " s): " + errors + "; " + state + "; next try in " + std::to_string(wait_s) + " s");
  return wait_s;
}

}  // namespace wiresign::daemon
