// Files in the state directory, written so that kill -9 loses nothing.
#include "daemon/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "dns/zone_writer.h"

namespace wiresign::daemon {
namespace {

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("state dir " + path + ": " + std::strerror(errno));
}

[[noreturn]] void fail(const std::string& path, const char* what) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) fail(path, "cannot create a temporary file");
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      ::unlink(temp.c_str());
      fail(path, "write failed");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    fail(path, "fsync failed");
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    fail(path, "rename failed");
  }
  // The rename itself is durable only once the directory is synced.
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

StateDir::StateDir(std::string path) : path_(std::move(path)) {
  make_dir(path_);
  make_dir(path_ + "/unsigned");
}

std::string StateDir::unsigned_zone_path(const std::string& zone) const {
  std::string name = zone;
  for (char& c : name)
    if (c == '/') c = '_';  // classless reverse zones ("0/25.2.0.192.in-addr.arpa.")
  return path_ + "/unsigned/" + name + "zone";
}

void StateDir::save_unsigned_zone(const std::string& zone, const std::vector<xfr::Record>& records) const {
  std::string text = "; last good unsigned version of " + zone + ", as transferred; written by wiresignd\n";
  for (const auto& r : records) dns::append_record_text(text, {r.owner, r.type, r.rclass, r.ttl, r.rdata});
  write_file_atomically(unsigned_zone_path(zone), text);
}

}  // namespace wiresign::daemon
