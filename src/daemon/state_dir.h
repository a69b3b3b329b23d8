// The daemon's state directory: what must survive a restart (kill -9
// included). Per zone: the published signed version with what it was
// signed from (signed/; for a followed zone it also stands for the
// primary's unsigned version), the journal of signed versions for IXFR out (journal/),
// an input held back by the sanity limits (held/), and the states of its
// keys in their rollovers (keys/). Every write is atomic:
// a temporary file, fsync, rename, fsync of the directory.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "daemon/change_log.h"
#include "xfr/journal.h"
#include "xfr/message.h"
#include "xfr/signed_zone.h"

namespace wiresign::daemon {

// A published signed version as kept in the state dir.
struct SignedVersion {
  std::shared_ptr<const xfr::SignedZone> zone;
  uint32_t input_serial = 0;     // the unsigned input's SOA serial
  uint64_t input_names = 0;      // names in the unsigned input (sanity limits)
  std::string input_digest;      // SHA-256 of the input and signing parameters
};

// A signed version as load_signed_zone finds it.
struct SavedVersion {
  SignedVersion version;
  std::vector<std::shared_ptr<const xfr::ZoneDiff>> logged_diffs;  // the change log's journal entries, in order
  size_t change_log_bytes = 0;
  bool change_log_damaged = false;
};

class StateDir {
 public:
  // Creates `path` (mode 0700) and its subfolders when missing; throws
  // std::runtime_error naming the path when it cannot.
  explicit StateDir(std::string path);

  // Where an older wiresignd kept the last good unsigned version of
  // `zone` (presentation form); read only when no signed version is saved.
  std::string unsigned_zone_path(const std::string& zone) const;

  // The published signed version and what it was made from, whole; its
  // change log (change_log.h) starts again empty.
  void save_signed_zone(const std::string& zone, const SignedVersion& version) const;
  // A change signed incrementally, appended to the change log of the
  // version saved whole (written and synced); returns the log's size.
  size_t append_signed_change(const std::string& zone, const ChangeEntry& entry) const;
  // The saved version with its change log applied: nullopt when none was
  // saved; throws std::runtime_error naming the file when the version is
  // there but unreadable or damaged. A damaged log entry (a write cut off)
  // ends the log: what came before it is served.
  std::optional<SavedVersion> load_signed_zone(const std::string& zone) const;

  void save_journal(const std::string& zone, const xfr::Journal& journal) const;
  std::optional<xfr::Journal> load_journal(const std::string& zone) const;

  // An input held back by the sanity limits: where it is kept, and the file
  // whose appearance releases it (the operator touches it).
  std::string held_zone_path(const std::string& zone) const;
  std::string release_path(const std::string& zone) const;
  // Present while the operator holds every new input of the zone.
  std::string operator_hold_path(const std::string& zone) const;
  // The lifecycle state of the zone's keys (policy/key_state_file.h).
  std::string key_states_path(const std::string& zone) const;

 private:
  std::string file_for(const char* folder, const std::string& zone, const char* suffix) const;
  std::string path_;
};

// Writes `content` to `path` so that a crash leaves either the old file or
// the new one, never a mix. Throws std::runtime_error naming the file.
void write_file_atomically(const std::string& path, const std::string& content);
void write_file_atomically(const std::string& path, std::span<const std::string_view> pieces);

// A whole file's bytes; nullopt when it does not exist, std::runtime_error
// naming the file on any other failure.
std::optional<std::string> read_file(const std::string& path);
// Like read_file, but any failure reads as "not there".
std::optional<std::string> read_file_if_present(const std::string& path);

}  // namespace wiresign::daemon
