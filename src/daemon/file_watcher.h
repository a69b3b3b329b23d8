// Re-signs `file:` zones when their file changes, without waiting for
// SIGHUP: the file's modification time and size are checked every few
// seconds, and a change is acted on once it has stopped changing.
#pragma once
#include <sys/types.h>

#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conf/config.h"
#include "daemon/zone_loader.h"

namespace wiresign::daemon {

class FileWatcher {
 public:
  // Watches the `file:` zones among `zones`; call reload_all() for the first signing.
  FileWatcher(const std::vector<conf::ZoneConfig>& zones, ZoneLoader& loader, int interval_s = 2);
  ~FileWatcher();

  // Re-signs every file zone now (SIGHUP), changed or not.
  void reload_all();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

 private:
  struct Seen {
    timespec mtime{};
    off_t size = -1;
  };
  void run();
  static Seen look(const std::string& path);

  std::vector<conf::ZoneConfig> zones_;
  ZoneLoader& loader_;
  int interval_s_;
  std::map<std::string, Seen> seen_;  // by zone name: what was last signed
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wiresign::daemon
