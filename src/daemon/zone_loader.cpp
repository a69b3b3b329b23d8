// Signing zones for the daemon: incremental against the version in service,
// journaled, saved, then published.
#include "daemon/zone_loader.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "daemon/keystore_metrics.h"
#include "daemon/phase_clock.h"
#include "daemon/key_continuity.h"
#include "daemon/previous_signatures.h"
#include "daemon/time_text.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "keystore/open_keystore.h"
#include "policy/signing_policy.h"
#include "signer/self_check.h"
#include "signer/zone.h"
#include "signer/zone_sign.h"
#include "xfr/acl.h"

namespace wiresign::daemon {
namespace {

std::string span_text(long seconds) {
  if (seconds < 0) return "-" + span_text(-seconds);
  if (seconds >= 86400) return std::to_string(seconds / 86400) + "d" + std::to_string(seconds % 86400 / 3600) + "h";
  if (seconds >= 3600) return std::to_string(seconds / 3600) + "h" + std::to_string(seconds % 3600 / 60) + "m";
  return std::to_string(seconds) + "s";
}

uint32_t input_serial_of(const signer::UnsignedRecord& soa) { return dns::soa_serial(soa.rdata).value_or(0); }

std::optional<uint32_t> input_serial(const signer::Zone& zone) {
  for (const auto& r : zone.records()) {
    if (r.type != dns::rr_type::SOA || zone.name(r.name) != zone.origin().wire()) continue;
    if (auto serial = dns::soa_serial(zone.rdata(r))) return serial;
  }
  return std::nullopt;
}

// The policy's parameters that a signed version depends on, as text.
std::string policy_parameters(const policy::SigningPolicy& policy) {
  return policy.name + "|" + std::to_string(static_cast<int>(policy.algorithm)) + "|" + std::to_string(policy.csk) +
         "|" + std::to_string(policy.dnskey_ttl_s) + "|" + std::to_string(policy.validity_s) + "|" +
         std::to_string(policy.refresh_s) + "|" + std::to_string(policy.jitter_s) + "|" +
         std::to_string(policy.inception_offset_s) + "|" + std::to_string(policy.nsec3) + "|" +
         std::to_string(policy.nsec3_iterations) + "|" + std::to_string(policy.opt_out) + "|" +
         std::to_string(static_cast<int>(policy.serial));
}

// SHA-256 over what a signed version is made from: the prepared zone (its
// SOA serial replaced by the input's), the keys' DNSKEYs and NSEC3PARAM in
// it, and the policy's parameters. Equal digests: nothing to re-sign for.
std::string input_digest(const signer::Zone& zone, uint32_t serial, const policy::SigningPolicy& policy) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  std::string parameters = policy_parameters(policy);
  EVP_DigestUpdate(context.get(), parameters.data(), parameters.size());
  std::vector<uint8_t> wire;
  for (size_t i = 0; i < zone.name_count(); ++i) {
    for (const auto& r : zone.records_at(i)) {
      wire.clear();
      dns::append_record_wire(wire, zone.view(r));
      if (i == 0 && r.type == dns::rr_type::SOA) {
        dns::set_soa_serial(std::span<uint8_t>(wire).last(zone.rdata(r).size()), serial);
      }
      EVP_DigestUpdate(context.get(), wire.data(), wire.size());
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  return std::string(reinterpret_cast<char*>(digest), length);
}

// The unsigned data of a signed version: everything but what the signer adds.
signer::Zone unsigned_from_signed(const xfr::SignedZone& zone) {
  signer::Zone out(zone.origin());
  auto add = [&](const dns::RecordView& rr) { signer::add_input_record(out, rr, "the version in service"); };
  add(zone.soa());
  zone.for_each_record_but_soa(add);
  return out;
}

// DESIGN.md promise 3: nothing broken is published. An independent check
// (ldns, not the signer's code) verifies the RRSIGs made for this version —
// all of them when there is no earlier version — and the whole denial chain.
void check_before_publishing(const xfr::SignedZone& signed_zone, const xfr::ZoneDiff* diff, uint32_t now,
                             unsigned threads, const std::vector<std::vector<uint8_t>>& unpublished_signers) {
  std::optional<std::vector<std::string_view>> new_rrsigs;
  if (diff) {
    new_rrsigs.emplace();
    for (std::string_view record : xfr::split_records(diff->added))
      if (xfr::record_type(record) == dns::rr_type::RRSIG) new_rrsigs->push_back(record);
  }
  signer::SelfCheckOptions options;
  options.now = now;
  options.threads = threads;
  options.unpublished_signers = unpublished_signers;
  std::string scratch;
  signer::SelfCheckReport report = signer::self_check_zone(signed_zone.origin(), signed_zone.wire(scratch),
                                                           new_rrsigs ? &*new_rrsigs : nullptr, options);
  if (report.problems.empty()) return;
  std::string text = "the signed version failed its check before publishing (" +
                     std::to_string(report.problems.size()) + " problems): ";
  for (size_t i = 0; i < report.problems.size() && i < 3; ++i) text += (i ? "; " : "") + report.problems[i];
  throw std::runtime_error(text);
}

}  // namespace

ZoneLoader::ZoneLoader(const conf::Config& config, xfr::ZoneTable& zones, xfr::LogSink log, NotifySender* notifier,
                       const StateDir* state)
    : config_(&config), zones_(zones), log_(log), notifier_(notifier), state_dir_(state), key_manager_(state, log) {}

void ZoneLoader::set_config(const conf::Config& config) {
  std::lock_guard lock(mutex_);
  config_ = &config;
  keystores_.clear();  // a keystore's settings may have changed under the same name
}

void ZoneLoader::forget(const conf::ZoneConfig& zone) {
  std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
  std::lock_guard signing(*zone_lock);
  std::lock_guard lock(mutex_);
  states_.erase(zone.name);
  key_manager_.forget(zone.name);
  zones_.remove(dns::Name::from_text(zone.name).wire());
  log_(zone.name + ": removed from the configuration; no longer served (its state dir files stay)");
}

std::shared_ptr<keystore::Keystore> ZoneLoader::keystore_for(const conf::PolicyConfig& policy) {
  auto& slot = keystores_[policy.keystore];
  if (!slot) {
    SignLatency& metrics = keystore_metrics_.for_keystore(policy.keystore);
    try {
      slot = measured(keystore::open_keystore(*config_->find_keystore(policy.keystore)), metrics);
    } catch (...) {
      metrics.errors.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
    log_("keystore \"" + policy.keystore + "\": opened " + slot->describe());
  }
  return slot;
}

std::shared_ptr<std::mutex> ZoneLoader::signing_lock(const std::string& zone) {
  std::lock_guard lock(mutex_);
  auto& slot = signing_locks_[zone];
  if (!slot) slot = std::make_shared<std::mutex>();
  return slot;
}

// A keystore that failed is closed, so the next attempt opens it afresh:
// new sessions and login, and (once no signer holds it) a re-initialised
// PKCS#11 module that sees a token re-inserted or re-created meanwhile.
void ZoneLoader::keystore_failed(const std::string& name, const std::string& error) {
  keystores_.erase(name);
  keystore_metrics_.record_failure(name, error, std::time(nullptr));
}

bool ZoneLoader::load_file_zone(const conf::ZoneConfig& zone) {
  return sign_and_publish(
      zone,
      [&] {
        auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
        return signer::load_zone_file(zone.file, dns::Name::from_text(zone.name), warn);
      },
      zone.file, Reason::input);
}

std::optional<uint32_t> ZoneLoader::load_saved_zone(const conf::ZoneConfig& zone, const std::string& path) {
  std::optional<uint32_t> serial;
  bool in_service = sign_and_publish(
      zone,
      [&] {
        auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
        signer::Zone saved = signer::load_zone_file(path, dns::Name::from_text(zone.name), warn);
        serial = input_serial(saved);
        return saved;
      },
      path, Reason::input);
  return in_service ? serial : std::nullopt;
}

bool ZoneLoader::load_transferred_zone(const conf::ZoneConfig& zone, const std::vector<xfr::Record>& records,
                                       const std::string& source) {
  return sign_and_publish(
      zone,
      [&] {
        signer::Zone unsigned_zone(dns::Name::from_text(zone.name));
        size_t dropped = 0;
        for (const auto& r : records)
          if (!signer::add_input_record(unsigned_zone, {r.owner, r.type, r.rclass, r.ttl, r.rdata}, source)) ++dropped;
        signer::warn_dropped_dnssec_records([&](const std::string& line) { log_(zone.name + ": warning: " + line); },
                                            source, dropped);
        return unsigned_zone;
      },
      source, Reason::input);
}

std::optional<bool> ZoneLoader::load_transferred_change(const conf::ZoneConfig& zone,
                                                        const std::vector<xfr::IxfrDiff>& diffs,
                                                        const std::string& source) {
  std::optional<signer::UnsignedChange> change = change_from_ixfr(diffs);
  if (!change) return std::nullopt;
  bool declined = false;
  bool in_service = sign_and_publish(zone, {}, source, Reason::input, &*change, &declined);
  if (declined) return std::nullopt;
  return in_service;
}

void ZoneLoader::announce(const conf::ZoneConfig& zone, uint32_t serial) {
  if (!notifier_ || zone.notify.empty()) return;
  std::vector<conf::SocketAddress> targets;
  for (const auto& text : zone.notify)
    if (auto address = conf::parse_socket_address(text, 53)) targets.push_back(*address);
  notifier_->announce(zone.name, serial, targets);
}

void ZoneLoader::run_due_work(std::time_t now) {
  const conf::Config* config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  for (const auto& zone : config->zones) run_due_work(zone, now);
}

void ZoneLoader::run_due_work(const conf::ZoneConfig& zone, std::time_t now) {
  // What is due, read under one lock; the work itself runs without it. A
  // re-sign takes its input from the version in service once the signing
  // lock is held (a transfer may publish a newer one meanwhile).
  std::optional<uint32_t> due;
  bool input_due = false, save_due = false;
  {
    std::lock_guard lock(mutex_);
    auto it = states_.find(zone.name);
    if (it != states_.end()) {
      ZoneState& state = it->second;
      if (state.version && state.resign_at && now >= state.resign_at) due = state.version->zone->serial();
      if (state.input_retry_at && now >= state.input_retry_at) {
        state.input_retry_at = 0;
        input_due = !zone.file.empty();
      }
      save_due = state.save_retry_at && now >= state.save_retry_at;
    }
  }
  if (auto check = key_manager_.next_parent_check(zone.name); check && now >= *check) check_parent(zone, now);
  if (due) sign_and_publish(zone, {}, "re-sign of serial " + std::to_string(*due), Reason::resign);
  if (input_due) load_file_zone(zone);
  if (save_due) retry_save(zone, now);
  if (state_dir_ && ::access(state_dir_->release_path(zone.name).c_str(), F_OK) == 0) {
    std::string held = state_dir_->held_zone_path(zone.name);
    if (::access(held.c_str(), R_OK) != 0) {
      log_(zone.name + ": release asked, but no input is held (" + held + "); nothing to do");
    } else {
      log_(zone.name + ": the operator released the held input " + held + "; publishing it");
      bool published = sign_and_publish(
          zone, [&] { return signer::load_zone_file(held, dns::Name::from_text(zone.name), {}); }, held,
          Reason::release);
      if (published) ::unlink(held.c_str());
    }
    ::unlink(state_dir_->release_path(zone.name).c_str());
  }
}

std::map<std::string, std::time_t> ZoneLoader::due_times() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::time_t> due;
  for (const auto& [name, state] : states_) {
    std::time_t at = state.version ? state.resign_at : 0;
    if (state.input_retry_at && (!at || state.input_retry_at < at)) at = state.input_retry_at;
    if (state.save_retry_at && (!at || state.save_retry_at < at)) at = state.save_retry_at;
    if (auto check = key_manager_.next_parent_check(name); check && (!at || *check < at)) at = *check;
    if (at) due.emplace_hint(due.end(), name, at);
  }
  return due;
}

void ZoneLoader::publish(const conf::ZoneConfig& zone, ZoneState& state, SignedVersion version,
                         std::shared_ptr<const xfr::Journal> journal) {
  xfr::ServedZone served;
  served.zone = version.zone;
  served.journal = journal;
  served.allow_transfer = xfr::parse_acl(zone.allow_transfer);
  if (!zone.transfer_tsig.empty()) {
    const conf::TsigKeyConfig* key = config_->find_tsig_key(zone.transfer_tsig);
    // Never serve a zone openly that is meant to need a key.
    if (!key) throw std::runtime_error("transfer-tsig key " + zone.transfer_tsig + " is no longer configured");
    served.transfer_tsig = xfr::make_tsig_key(key->name, key->algorithm, key->secret);
  }
  zones_.publish(version.zone->origin().wire(), std::move(served));
  state.version = std::move(version);
  state.earliest_known = false;
  state.journal = std::move(journal);
}

// How to sign the next version: the policy, the time, and from the version
// in service (if any) its serial, its signatures to keep and its NSEC3 salt.
signer::SignOptions ZoneLoader::sign_options(policy::SigningPolicy policy, const xfr::SignedZone* previous,
                                             const signer::SignatureSource* reuse, std::time_t now) const {
  signer::SignOptions options;
  options.policy = std::move(policy);
  options.threads = std::max(1u, std::thread::hardware_concurrency());
  options.now = static_cast<uint32_t>(now);
  options.output = signer::OutputForm::wire;
  if (previous) {
    options.published_serial = previous->serial();
    options.reuse = reuse;
    // Signatures expiring within refresh (plus a quarter of the jitter, so
    // that re-signs come in a few batches, not one per RRset) are renewed.
    options.reuse_until = options.now + options.policy.refresh_s + options.policy.jitter_s / 4;
    if (auto salt = nsec3_salt_of(*previous); salt && salt->size() == options.policy.nsec3_salt_length)
      options.nsec3_salt = *salt;
  }
  if (options.nsec3_salt.size() != options.policy.nsec3_salt_length) {
    std::random_device random;
    options.nsec3_salt.clear();
    for (unsigned i = 0; i < options.policy.nsec3_salt_length; ++i)
      options.nsec3_salt.push_back(static_cast<uint8_t>(random()));
  }
  return options;
}

// Why a new input must wait instead of being published: the operator holds
// the zone, or it removes more names than the zone's sanity limit allows.
std::optional<std::string> ZoneLoader::reason_to_hold(const conf::ZoneConfig& zone, const ZoneState& state,
                                                      const SignedVersion& next) const {
  if (state_dir_ && ::access(state_dir_->operator_hold_path(zone.name).c_str(), F_OK) == 0)
    return "arrived while the operator holds the zone (wiresign zone hold)";
  if (!state.version || state.version->input_names == 0) return std::nullopt;
  double old_names = static_cast<double>(state.version->input_names);
  double removed = (old_names - static_cast<double>(next.input_names)) / old_names;
  if (removed <= zone.max_removed_share) return std::nullopt;
  return "removes " + std::to_string(static_cast<int>(removed * 100)) + "% of the names (" +
         std::to_string(state.version->input_names) + " -> " + std::to_string(next.input_names) +
         "), more than max-removed-share " + std::to_string(static_cast<int>(zone.max_removed_share * 100)) + "%";
}

// Re-signing is due when the earliest signature comes within the policy's
// refresh time of its expiration (DESIGN.md promise 2).
void ZoneLoader::schedule_resign(const conf::ZoneConfig& zone, ZoneState& state, std::time_t now) {
  const conf::PolicyConfig* policy_config = config_->find_policy(zone.policy);
  if (!policy_config) return;  // the zone is being reconfigured
  policy::SigningPolicy policy = policy::policy_from_config(*policy_config);
  if (!state.earliest_known) state.earliest_expiration = earliest_expiration(*state.version->zone);
  state.earliest_known = true;
  std::optional<uint32_t> earliest = state.earliest_expiration;
  state.signatures_due_at = 0;
  if (earliest) {
    // RRSIG times are serial-number arithmetic (RFC 4034 §3.1.5) around now.
    auto expires = static_cast<std::time_t>(now + static_cast<int32_t>(*earliest - static_cast<uint32_t>(now)));
    // Started as long before as the last signing took (a large zone's takes
    // minutes), so that the new signatures are out before any served one
    // comes within refresh of its expiration; plus a second for the scheduler.
    auto lead_s = static_cast<std::time_t>(std::ceil(state.signing_s)) + 1;
    state.signatures_due_at = std::max<std::time_t>(now + 1, expires - policy.refresh_s - lead_s);
  }
  std::optional<std::time_t> key_event = key_manager_.next_event(zone.name);
  state.key_event_at = key_event ? std::max<std::time_t>(now + 1, *key_event) : 0;
  state.resign_at = state.signatures_due_at;
  if (state.key_event_at && (!state.resign_at || state.key_event_at < state.resign_at))
    state.resign_at = state.key_event_at;
}

bool ZoneLoader::sign_and_publish(const conf::ZoneConfig& zone, const std::function<signer::Zone()>& read_unsigned,
                                  const std::string& source, Reason reason, const signer::UnsignedChange* change,
                                  bool* declined) {
  std::shared_ptr<std::mutex> zone_lock = signing_lock(zone.name);
  std::lock_guard signing(*zone_lock);
  std::unique_lock lock(mutex_);
  PhaseClock clock;
  ZoneState& state = states_[zone.name];
  const std::time_t now = std::time(nullptr);
  try {
    const conf::PolicyConfig* found = config_->find_policy(zone.policy);
    if (!found) throw std::runtime_error("policy \"" + zone.policy + "\" is no longer configured");
    const conf::PolicyConfig& policy_config = *found;
    std::shared_ptr<keystore::Keystore> held_store = keystore_for(policy_config);
    keystore::Keystore& store = *held_store;
    dns::Name origin = dns::Name::from_text(zone.name);

    std::shared_ptr<const xfr::SignedZone> previous = state.version ? state.version->zone : nullptr;
    if (reason == Reason::resign && (!previous || !state.resign_at || now < state.resign_at))
      return true;  // a newer version came in meanwhile: nothing is due any more
    std::optional<PreviousSignatures> reuse;
    if (previous) reuse.emplace(previous);
    policy::SigningPolicy zone_policy = policy::policy_from_config(policy_config);
    zone_policy.insecure = zone.insecure;
    signer::SignOptions options = sign_options(zone_policy, previous.get(), reuse ? &*reuse : nullptr, now);
    // A re-sign started early (schedule_resign) renews what would otherwise
    // come within refresh of expiring before it is done.
    if (previous) options.reuse_until += static_cast<uint32_t>(std::ceil(state.signing_s)) + 1;
    const bool signatures_due = now >= state.signatures_due_at;
    const bool whole_resign_asked = state.whole_resign_asked;
    // The long part, without mutex_: other zones sign, and status is read,
    // meanwhile. Keys too are looked up (and made) without it: a keystore
    // reads and writes files or talks to an HSM.
    lock.unlock();
    if (previous)
      check_served_keys_available(*previous, key_manager_.keys_available(zone.name, store), policy_config.keystore);
    KeyPlan key_plan = key_manager_.plan(zone.name, options.policy, store, now);
    // A re-sign with nothing to publish: the key states move on (a record
    // now in every cache), no new version is needed.
    auto keep_serving = [&](const IncrementalVersion* found_nothing_due) {
      key_manager_.commit(zone.name, key_plan, now);
      lock.lock();
      if (found_nothing_due) {
        state.earliest_known = found_nothing_due->earliest_known;
        state.earliest_expiration = found_nothing_due->earliest_expiration;
      }
      schedule_resign(zone, state, now);
      return true;
    };
    // A key event is a change too: the apex's key records, with the
    // signatures that are due meanwhile.
    const bool keys_change = !key_manager_.uses_unchanged(zone.name, key_plan);
    if (reason == Reason::resign && !signatures_due && !keys_change)
      return keep_serving(nullptr);  // a key event whose moves change nothing published
    const signer::ZoneKeys& keys = key_plan.keys;
    clock.lap("keys");

    auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
    // A new input: only what changed is signed, whatever else is due (with
    // a key event's apex records when one is due). Signatures coming due: a
    // slice of them at a time, the same way. (Parameters changed by a
    // reload, the operator's re-sign, a ZSK switch or an algorithm roll:
    // sign_change declines and the whole zone is signed.)
    const bool same_parameters =
        previous && !keys.serve_unsigned &&
        (state.signed_under.empty() || state.signed_under == policy_parameters(options.policy));
    const bool change_alone = reason == Reason::input && same_parameters;
    const bool slice = reason == Reason::resign && same_parameters && (signatures_due || keys_change) &&
                       !whole_resign_asked;
    std::optional<IncrementalVersion> incremental;
    signer::Zone unsigned_zone(origin);
    std::optional<uint32_t> serial_in;
    if (change) {
      // An IXFR's change: the version in service is its base, nothing is read.
      if (change_alone) {
        serial_in = input_serial_of(change->soa);
        incremental = sign_incrementally(zone, *state.version, nullptr, change, *serial_in, keys, options, source);
      }
      if (!incremental || (!incremental->unchanged && reason_to_hold(zone, state, incremental->version))) {
        if (declined) *declined = true;
        return false;  // the caller signs the whole zone, which also holds it if it must
      }
    } else if (slice) {
      serial_in = state.version->input_serial;
      incremental = resign_slice(zone, *state.version, keys, options, keys_change);
    }
    if (incremental && incremental->unchanged && reason == Reason::resign) {
      // Nothing due after all (the lead time ran ahead), and no key event
      // that changes what is published (resign_slice signs that).
      log_(zone.name + ": no signature is due for renewal yet; still serving serial " +
           std::to_string(previous->serial()));
      return keep_serving(&*incremental);
    }
    if (!change && !incremental) {
      unsigned_zone = reason == Reason::resign ? unsigned_from_signed(*previous) : read_unsigned();
      clock.lap("read");
      // A re-sign's input is the version in service: its SOA carries our
      // serial, but it stands for the same input as before.
      serial_in = reason == Reason::resign ? std::optional(state.version->input_serial) : input_serial(unsigned_zone);
      if (change_alone)
        incremental = sign_incrementally(zone, *state.version, &unsigned_zone, nullptr, serial_in.value_or(0), keys,
                                         options, source);
    }
    if (incremental && incremental->unchanged) {
      log_(zone.name + ": input from " + source + " is unchanged; still serving serial " +
           std::to_string(previous->serial()));
      keystore_metrics_.record_success(policy_config.keystore);
      return true;
    }
    SignedVersion version;
    signer::SignStats stats;
    std::shared_ptr<const xfr::Journal> journal;
    std::shared_ptr<const xfr::ZoneDiff> diff;
    if (incremental) {
      clock.lap("change (" + incremental->laps + ")");
      version = std::move(incremental->version);
      stats = incremental->stats;
      diff = incremental->diff;
      if (std::optional<std::string> why = reason_to_hold(zone, state, version)) {
        hold(zone, unsigned_zone, version.input_serial, source, *why);
        return false;
      }
    } else {
      signer::prepare_zone(unsigned_zone, keys, options, source, warn);
      version.input_serial = serial_in.value_or(0);
      version.input_names = unsigned_zone.name_count();
      version.input_digest = input_digest(unsigned_zone, version.input_serial, options.policy);
      clock.lap("prepare");

      if (reason == Reason::input && state.version && state.version->input_digest == version.input_digest &&
          (!state.resign_at || now < state.resign_at)) {
        log_(zone.name + ": input from " + source + " is unchanged; still serving serial " +
             std::to_string(previous->serial()));
        keystore_metrics_.record_success(policy_config.keystore);
        return true;
      }
      if (reason == Reason::input) {
        if (std::optional<std::string> why = reason_to_hold(zone, state, version)) {
          hold(zone, unsigned_zone, version.input_serial, source, *why);
          return false;
        }
      }

      // Sized from the version in service: a string grown by doubling would
      // hold its old and new buffers at once, up to three times the zone.
      std::string wire;
      if (previous) wire.reserve(previous->wire_size() + previous->wire_size() / 16);
      // Whole: every RRset gets the zone signers' signatures, none kept
      // from a ZSK retiring gradually (its DNSKEY's timing allows for
      // that; sooner is always safe).
      signer::ZoneKeys whole_keys = keys;
      whole_keys.retiring_zone_signers.clear();
      stats = signer::sign_zone(unsigned_zone, whole_keys, options,
                                [&](std::string_view chunk) { wire.append(chunk); });
      { signer::Zone done = std::move(unsigned_zone); }  // freed before the index, diff and check need memory
      clock.lap("sign");
      version.zone = std::make_shared<xfr::SignedZone>(origin, std::move(wire));
      clock.lap("index");
    }

    size_t changed = version.zone->record_count();
    if (previous && previous->serial() == version.zone->serial()) {
      // Only with serial keep: new content under the old serial. Diffs that
      // lead to that serial now lead to other data, so the journal restarts.
      log_(zone.name + ": warning: publishing new signatures under the unchanged serial " +
           std::to_string(previous->serial()) + " (serial keep): secondaries that have it will not transfer them; " +
           "set resign-bump: true in the policy to allow serial+1");
    } else if (previous) {
      if (!diff) diff = std::make_shared<const xfr::ZoneDiff>(xfr::diff_zones(*previous, *version.zone));
      changed = diff->removed_count + diff->added_count;
      xfr::JournalLimits limits{zone.journal_max_entries, zone.journal_max_bytes};
      journal = std::make_shared<const xfr::Journal>((state.journal ? *state.journal : xfr::Journal()).with(diff, limits));
    }
    clock.lap("journal");
    // Checked against the clock of now, not of when signing began: a long
    // signing must not publish signatures that have run out meanwhile.
    if (incremental)
      check_change_before_publishing(*incremental, *version.zone, static_cast<uint32_t>(std::time(nullptr)),
                                     key_plan.unpublished_signers);
    else if (!keys.serve_unsigned)
      check_before_publishing(*version.zone, diff.get(), static_cast<uint32_t>(std::time(nullptr)), options.threads,
                              key_plan.unpublished_signers);
    clock.lap("check");
    // Saved before it is served: after a crash the restart serves exactly
    // what the secondaries may have seen, and never an older serial.
    std::string save_error =
        save_version(zone.name, version, journal.get(), incremental ? &*incremental : nullptr, state.change_log_bytes);
    if (state_dir_) clock.lap("save");
    uint32_t serial = version.zone->serial();
    lock.lock();
    const bool earliest_known = state.earliest_known;
    std::optional<uint32_t> earliest = state.earliest_expiration;
    publish(zone, state, std::move(version), journal);
    state.signed_under = policy_parameters(options.policy);
    if (incremental && incremental->earliest_known) {
      state.earliest_known = true;
      state.earliest_expiration = incremental->earliest_expiration;
    } else if (incremental && earliest_known) {
      std::optional<uint32_t> added = earliest_in(incremental->diff->added);
      if (added && (!earliest || dns::serial_newer(*earliest, *added))) earliest = added;
      state.earliest_known = true;
      state.earliest_expiration = earliest;
    }
    state.resign_failures = 0;
    if (reason == Reason::resign && !incremental) state.whole_resign_asked = false;
    state.input_failures = 0;
    state.input_retry_at = 0;
    note_save_outcome(zone, state, save_error, now);
    key_manager_.commit(zone.name, key_plan, std::time(nullptr), !incremental && !keys.serve_unsigned);
    // For schedule_resign: how long a re-sign takes (a whole signing or a
    // slice), so a change signed alone in milliseconds does not count.
    if (!incremental || incremental->due_owners) state.signing_s = std::max(clock.total(), state.signing_s / 2);
    schedule_resign(zone, state, now);
    clock.lap("publish");

    log_(zone.name + (keys.serve_unsigned ? ": published serial " : ": signed serial ") + std::to_string(serial) +
         (keys.serve_unsigned ? " unsigned (insecure: true)" : "") + " from " + source + " (" +
         std::to_string(stats.rrsets_signed) + " RRsets, " + std::to_string(stats.rrsigs - stats.rrsigs_reused) +
         " RRSIGs made, " + std::to_string(stats.rrsigs_reused) + " kept, " + std::to_string(changed) +
         " records changed, " +
         (incremental && incremental->due_owners
              ? "re-signed " + std::to_string(incremental->resigned_owners) + " of " +
                    std::to_string(incremental->due_owners) + " owners with signatures due, "
              : std::string()) +
         std::to_string(clock.total()).substr(0, 5) + " s: " + clock.laps() +
         "); serving it; next re-sign " + (state.resign_at ? utc_text(state.resign_at) : "none (nothing signed)"));
    SigningStatus& history = state.history;
    history.last_signed = now;
    history.last_duration_s = clock.total();
    history.last_rrsigs_made = stats.rrsigs - stats.rrsigs_reused;
    history.last_rrsigs_kept = stats.rrsigs_reused;
    history.publications += 1;
    history.rrsigs_made += history.last_rrsigs_made;
    history.last_error.clear();
    keystore_metrics_.record_success(policy_config.keystore);
    announce(zone, serial);
    return true;
  } catch (const std::exception& e) {
    if (!lock.owns_lock()) lock.lock();
    std::string message = zone.name + ": not published: " + e.what() + "; the version already served (if any) stays";
    if (dynamic_cast<const keystore::KeystoreError*>(&e)) {
      if (const conf::PolicyConfig* policy = config_->find_policy(zone.policy)) {
        keystore_failed(policy->keystore, e.what());
        message += "; keystore \"" + policy->keystore + "\" closed, re-opened at the next attempt";
      }
      // A zone file's input is tried again on its own (a followed zone's comes
      // again with the next refresh): the keystore may be back by then.
      if (reason == Reason::input && !zone.file.empty()) {
        unsigned wait = std::min(900u, 10u << std::min(state.input_failures, 6u));
        ++state.input_failures;
        state.input_retry_at = now + wait;
        message += "; input tried again in " + std::to_string(wait) + " s";
      }
    }
    if (reason == Reason::resign && state.version) {
      // Keep trying, ever more loudly: 30 s doubling to 15 min.
      unsigned wait = std::min(900u, 30u << std::min(state.resign_failures, 5u));
      ++state.resign_failures;
      state.resign_at = now + wait;
      if (auto earliest = earliest_expiration(*state.version->zone))
        message += "; its earliest signature expires at " + utc_text(static_cast<std::time_t>(*earliest)) + " (in " +
                   span_text(static_cast<int32_t>(*earliest - static_cast<uint32_t>(now))) + ")";
      message += "; re-sign attempt " + std::to_string(state.resign_failures) + " failed, next in " +
                 std::to_string(wait) + " s";
    }
    state.history.last_error = message.substr(zone.name.size() + 2);
    state.history.last_error_at = now;
    log_(message);
    return false;
  }
}

}  // namespace wiresign::daemon
