// Turning a configured zone's unsigned input into a published signed
// version: sign it under its policy with its keystore's keys, reusing every
// signature of the version in service that is still good (incremental
// signing), check it, record the difference in the journal, save it in the
// state dir, and only then hand it to the outbound zone table and NOTIFY.
// Also what keeps signatures from running out: every zone is re-signed when
// its earliest signature comes within the policy's refresh time, and a
// failing re-sign is retried with the time left logged.
#pragma once
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "conf/config.h"
#include "daemon/key_manager.h"
#include "daemon/keystore_metrics.h"
#include "daemon/notify_sender.h"
#include "daemon/phase_clock.h"
#include "daemon/state_dir.h"
#include "keystore/keystore.h"
#include "policy/signing_policy.h"
#include "signer/incremental_sign.h"
#include "signer/zone.h"
#include "signer/zone_sign.h"
#include "xfr/inbound.h"
#include "xfr/journal.h"
#include "xfr/message.h"
#include "xfr/server.h"

namespace wiresign::daemon {

// What the loader knows of a zone's signing, for status and metrics.
struct SigningStatus {
  std::optional<uint32_t> signed_serial;
  uint32_t input_serial = 0;
  size_t records = 0;
  std::optional<std::time_t> earliest_expiration;
  std::time_t next_resign = 0;      // 0: nothing scheduled
  unsigned resign_failures = 0;
  std::time_t last_signed = 0;      // last publication
  double last_duration_s = 0;
  size_t last_rrsigs_made = 0, last_rrsigs_kept = 0;
  uint64_t publications = 0, rrsigs_made = 0;  // since start
  std::string last_error;           // empty after a success
  std::time_t last_error_at = 0;
  size_t journal_versions = 0, journal_bytes = 0;
  std::optional<uint32_t> journal_oldest_serial;
  bool held = false;
  std::string held_reason;
  bool operator_hold = false;       // `wiresign zone hold` in effect
  // The version in service could not be written to the state dir (full,
  // read-only): it is served from memory, and saving is retried.
  std::time_t unsaved_since = 0;    // 0: what is served is saved
  std::string save_error;
};

// An IXFR's diffs (RFC 1995 §4) as one change to the unsigned version: DNSSEC
// records left out, a record added then removed within it cancelled. nullopt
// when there are none, or records of classes other than IN.
std::optional<signer::UnsignedChange> change_from_ixfr(const std::vector<xfr::IxfrDiff>& diffs);

class ZoneLoader {
 public:
  // `notifier` (may be null) is told about every new serial; `state` (may be
  // null) keeps signed versions and journals across restarts.
  ZoneLoader(const conf::Config& config, xfr::ZoneTable& zones, xfr::LogSink log, NotifySender* notifier = nullptr,
             const StateDir* state = nullptr);

  // A reloaded configuration: later signings use its policies and keystores
  // (`config` must outlive the loader; the daemon keeps every version).
  void set_config(const conf::Config& config);
  // A zone removed from the configuration: its state is dropped and it is
  // no longer served. Files in the state dir stay.
  void forget(const conf::ZoneConfig& zone);

  // Serves the signed version and journal saved in the state dir, without
  // signing; returns whether there was one.
  bool restore_saved_version(const conf::ZoneConfig& zone);

  // Signs the zone's `file:` source and publishes it. On any error the error
  // is logged with the zone's name and the version already served stays.
  // Returns whether the input is now in service (published, or unchanged).
  bool load_file_zone(const conf::ZoneConfig& zone);

  // Signs a zone saved in the state dir; returns its unsigned serial when in service.
  std::optional<uint32_t> load_saved_zone(const conf::ZoneConfig& zone, const std::string& path);

  // Signs records transferred from a primary (SOA first) and publishes them;
  // `source` names where they came from in logs. Same error handling.
  bool load_transferred_zone(const conf::ZoneConfig& zone, const std::vector<xfr::Record>& records,
                             const std::string& source);

  // Signs an IXFR's changes alone against the version in service and
  // publishes them (nothing else is read or compared); nullopt when they
  // need whole-zone signing (the caller then applies them and calls
  // load_transferred_zone), else whether they are in service.
  std::optional<bool> load_transferred_change(const conf::ZoneConfig& zone, const std::vector<xfr::IxfrDiff>& diffs,
                                              const std::string& source);

  // What is in service for the zone, for logs: "serial N (signed at ...,
  // signatures valid until ...)", or "nothing".
  std::string describe_served(const conf::ZoneConfig& zone) const;

  SigningStatus status(const conf::ZoneConfig& zone) const;
  // Signature latency and errors per keystore, in Prometheus text.
  std::string keystore_metrics() const { return keystore_metrics_.render(); }
  std::map<std::string, KeystoreHealth> keystore_health() const { return keystore_metrics_.health(); }
  // The signed version in service, or null.
  std::shared_ptr<const xfr::SignedZone> served(const conf::ZoneConfig& zone) const;
  // The unsigned input it was signed from, as a follower holds it: the SOA
  // with the input's serial (nullopt when nothing is served), and every
  // record (SOA first) but those the signer adds. A change signed alone
  // moves it on with the signed side: no separate unsigned copy is kept.
  std::optional<xfr::Record> served_input_soa(const conf::ZoneConfig& zone) const;
  std::vector<xfr::Record> served_input(const conf::ZoneConfig& zone) const;

  // Operator actions; each takes effect on the re-sign thread within a
  // second, never on the caller's. Return false when there is nothing to act on.
  bool request_resign(const conf::ZoneConfig& zone);   // re-sign the version in service now
  bool request_hold(const conf::ZoneConfig& zone);     // hold every new input until release
  bool request_release(const conf::ZoneConfig& zone);  // end a hold; publish the held input
  bool discard_held(const conf::ZoneConfig& zone);     // drop the held input
  bool renotify(const conf::ZoneConfig& zone);         // NOTIFY the secondaries again
  // Key rollovers (`wiresign key rollover|ds-seen|ds-gone`): the zone is
  // re-signed at once so that the roll moves on. Return what was done;
  // throw std::invalid_argument saying why not.
  std::string request_key_rollover(const conf::ZoneConfig& zone, std::optional<keystore::KeyRole> role,
                                   uint16_t key_tag, bool compromised = false);
  std::string confirm_ds(const conf::ZoneConfig& zone, uint16_t key_tag, bool seen);
  std::string generate_standby_key(const conf::ZoneConfig& zone, keystore::KeyRole role);
  ZoneKeyReport key_report(const conf::ZoneConfig& zone) const { return key_manager_.report(zone.name); }

  // Re-signs every zone whose signatures are due at `now`, and publishes held
  // inputs the operator released. Called about once a second.
  void run_due_work(std::time_t now);
  // The same for one zone (a ZoneScheduler job).
  void run_due_work(const conf::ZoneConfig& zone, std::time_t now);
  // When each zone next has work for run_due_work (re-sign or input retry),
  // by zone name; zones with nothing due are left out.
  std::map<std::string, std::time_t> due_times() const;

 private:
  enum class Reason { input, resign, release };
  // What the loader knows of each zone's version in service.
  struct ZoneState {
    std::optional<SignedVersion> version;
    std::shared_ptr<const xfr::Journal> journal;
    std::time_t resign_at = 0;  // 0: nothing scheduled (the earlier of the next two)
    std::time_t signatures_due_at = 0;  // when the signatures need refreshing
    std::time_t key_event_at = 0;       // when the key states next move (0: not by time)
    unsigned resign_failures = 0;
    bool whole_resign_asked = false;  // the operator's re-sign: every signature, not a slice of those due
    std::time_t save_retry_at = 0;   // the version in service is not saved yet: try again then
    std::time_t input_retry_at = 0;  // a zone file's input that failed on the keystore
    unsigned input_failures = 0;
    SigningStatus history;      // the counters and last outcome part of SigningStatus
    double signing_s = 0;       // how long signing takes (decaying maximum): re-signs start this early
    size_t change_log_bytes = kUnknownLog;  // the saved version's change log; unknown: save whole next
    // The policy parameters the version in service was signed under (empty
    // after a restart: taken to be the configured ones).
    std::string signed_under;
    // For scheduling re-signs: the earliest RRSIG expiration of the version
    // in service, once known. A change keeps the one before unless it brings
    // an earlier one: never later than the truth, so a re-sign is never late
    // (status and metrics compute the exact one).
    bool earliest_known = false;
    std::optional<uint32_t> earliest_expiration;
  };
  static constexpr size_t kUnknownLog = SIZE_MAX;

  // Shared: a signing holds its keystore while a failure or reload closes it.
  std::shared_ptr<keystore::Keystore> keystore_for(const conf::PolicyConfig& policy);
  std::shared_ptr<std::mutex> signing_lock(const std::string& zone);
  void keystore_failed(const std::string& name, const std::string& error);
  // Writes the signed version and its journal to the state dir; "" or why not.
  // `change` (may be null): the version is that change to the one saved
  // before, and is appended to its change log when `change_log_bytes` (the
  // log's size, updated) allows.
  struct IncrementalVersion;
  std::string save_version(const std::string& zone, const SignedVersion& version, const xfr::Journal* journal,
                           const IncrementalVersion* change, size_t& change_log_bytes) const;
  void note_save_outcome(const conf::ZoneConfig& zone, ZoneState& state, const std::string& error, std::time_t now);
  void retry_save(const conf::ZoneConfig& zone, std::time_t now);
  // Signs what `read_unsigned` gives (for a re-sign: the version in
  // service, and `read_unsigned` is not called) and publishes it.
  // With `change` (an IXFR's), nothing is read: the change is signed alone,
  // or, when it cannot be, *declined is set and nothing is done.
  bool sign_and_publish(const conf::ZoneConfig& zone, const std::function<signer::Zone()>& read_unsigned,
                        const std::string& source, Reason reason, const signer::UnsignedChange* change = nullptr,
                        bool* declined = nullptr);
  // A new input signed as a change to `served` (zone_loader_incremental.cpp).
  struct IncrementalVersion {
    bool unchanged = false;  // the input is the one in service: nothing to publish
    SignedVersion version;
    signer::SignStats stats;
    std::shared_ptr<const xfr::ZoneDiff> diff;
    std::string laps;  // where its time went
    signer::SignedChange signed_change;  // what replaces the owners it touched
    // A re-sign slice: how many owners had signatures due, how many were
    // signed again, and the new version's earliest RRSIG expiration, exactly.
    size_t due_owners = 0, resigned_owners = 0;
    bool earliest_known = false;
    std::optional<uint32_t> earliest_expiration;
  };
  // The new version from a change signed against `served`, into `result`.
  void finish_change(const SignedVersion& served, signer::SignedChange signed_change, uint32_t input_serial,
                     PhaseClock& laps, IncrementalVersion& result);
  // A re-sign of the version in service as a change: the owners whose
  // signatures are due, the earliest first, a slice at a time (owners still
  // signed by a key that no longer signs come first, all at once), with
  // the apex's key records when `keys_change` (a key event); nullopt (the
  // reason logged) when the zone's signers or parameters changed and the
  // whole zone is signed instead; `unchanged` when nothing is due and the
  // keys do not change.
  std::optional<IncrementalVersion> resign_slice(const conf::ZoneConfig& zone, const SignedVersion& served,
                                                 const signer::ZoneKeys& keys, const signer::SignOptions& options,
                                                 bool keys_change);
  // Adds to `change.resign` (or `resign_hashed`) every owner of `zone` with
  // an RRSIG by a key that does not sign under `keys`: one pass over the zone.
  static void stale_signatures(const xfr::SignedZone& zone, const signer::ZoneKeys& keys,
                               signer::UnsignedChange& change);
  // The change is `given` (an IXFR's), or found by comparing `input` (then
  // finalized) with `served`; nullopt (the reason logged) when the input
  // needs whole-zone signing.
  std::optional<IncrementalVersion> sign_incrementally(const conf::ZoneConfig& zone, const SignedVersion& served,
                                                       signer::Zone* input, const signer::UnsignedChange* given,
                                                       uint32_t input_serial, const signer::ZoneKeys& keys,
                                                       const signer::SignOptions& options, const std::string& source);
  // The earliest expiration among the RRSIGs of `records` (wire records).
  static std::optional<uint32_t> earliest_in(std::string_view records);
  // Promise 3 for a change: the independent check around what it replaced
  // (signer::self_check_change); throws with the problems found.
  static void check_change_before_publishing(const IncrementalVersion& change, const xfr::SignedZone& next,
                                             uint32_t now, const std::vector<std::vector<uint8_t>>& unpublished_signers);
  void publish(const conf::ZoneConfig& zone, ZoneState& state, SignedVersion version,
               std::shared_ptr<const xfr::Journal> journal);
  void announce(const conf::ZoneConfig& zone, uint32_t serial);
  signer::SignOptions sign_options(policy::SigningPolicy policy, const xfr::SignedZone* previous,
                                   const signer::SignatureSource* reuse, std::time_t now) const;
  std::optional<std::string> reason_to_hold(const conf::ZoneConfig& zone, const ZoneState& state,
                                            const SignedVersion& next) const;
  void schedule_resign(const conf::ZoneConfig& zone, ZoneState& state, std::time_t now);
  void hold(const conf::ZoneConfig& zone, const signer::Zone& input, uint32_t serial, const std::string& source,
            const std::string& why);
  // The parent side of the zone's rollovers (DS hook and checks), when due.
  void check_parent(const conf::ZoneConfig& zone, std::time_t now);

  const conf::Config* config_;
  xfr::ZoneTable& zones_;
  xfr::LogSink log_;
  NotifySender* notifier_;
  const StateDir* state_dir_;
  std::map<std::string, std::shared_ptr<keystore::Keystore>> keystores_;
  KeystoreMetrics keystore_metrics_;
  KeyManager key_manager_;
  std::map<std::string, ZoneState> states_;
  // Guards the keystore cache and the zone states, shared by the scheduler's
  // workers. Different zones sign in parallel (the scheduler bounds how
  // many); one zone's signings are serialised by its signing lock, taken
  // before mutex_, and mutex_ is let go while it reads, signs and saves.
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<std::mutex>> signing_locks_;
};

}  // namespace wiresign::daemon
