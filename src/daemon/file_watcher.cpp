// Polling file zones for changes (portable, and cheap for a few files).
#include "daemon/file_watcher.h"

#include <sys/stat.h>

namespace wiresign::daemon {
namespace {
bool same(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }
}  // namespace

FileWatcher::FileWatcher(const std::vector<conf::ZoneConfig>& zones, ZoneLoader& loader, int interval_s)
    : loader_(loader), interval_s_(interval_s) {
  for (const auto& zone : zones)
    if (!zone.file.empty()) zones_.push_back(zone);
  thread_ = std::thread([this] { run(); });
}

FileWatcher::~FileWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void FileWatcher::reload_all() {
  std::lock_guard lock(mutex_);
  for (const auto& zone : zones_) {
    Seen now = look(zone.file);
    loader_.load_file_zone(zone);
    seen_[zone.name] = now;
  }
}

FileWatcher::Seen FileWatcher::look(const std::string& path) {
  struct stat st {};
  Seen seen;
  if (::stat(path.c_str(), &st) == 0) {
    seen.mtime = st.st_mtim;
    seen.size = st.st_size;
  }
  return seen;
}

void FileWatcher::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::seconds(interval_s_), [this] { return stopping_; })) {
    for (const auto& zone : zones_) {
      Seen now = look(zone.file);
      Seen& before = seen_[zone.name];
      if (now.size < 0 || (same(now.mtime, before.mtime) && now.size == before.size)) continue;
      // An editor may still be writing: act once two looks a moment apart agree.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      Seen settled = look(zone.file);
      bool stable = same(settled.mtime, now.mtime) && settled.size == now.size;
      if (stable) loader_.load_file_zone(zone);
      lock.lock();
      if (stable) before = settled;
    }
  }
}

}  // namespace wiresign::daemon
