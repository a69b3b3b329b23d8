// The daemon's state directory: what must survive a restart. For now the
// last good unsigned version of each zone followed from a primary, so that a
// restart serves the zone without the primary. Writes are atomic: a
// temporary file, fsync, rename, fsync of the directory.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "xfr/message.h"

namespace wiresign::daemon {

class StateDir {
 public:
  // Creates `path` (mode 0700) and its subfolders when missing; throws
  // std::runtime_error naming the path when it cannot.
  explicit StateDir(std::string path);

  // Where the last good unsigned version of `zone` (presentation form) is kept.
  std::string unsigned_zone_path(const std::string& zone) const;
  // Saves transferred records as a master file, atomically.
  void save_unsigned_zone(const std::string& zone, const std::vector<xfr::Record>& records) const;

 private:
  std::string path_;
};

// Writes `content` to `path` so that a crash leaves either the old file or
// the new one, never a mix. Throws std::runtime_error naming the file.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace wiresign::daemon
