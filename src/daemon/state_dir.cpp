// Files in the state directory, written so that kill -9 loses nothing.
#include "daemon/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "dns/name.h"
#include "dns/zone_writer.h"
#include "policy/key_state_file.h"

namespace wiresign::daemon {
namespace {

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("state dir " + path + ": " + std::strerror(errno));
}

constexpr std::string_view kSignedMagic = "wiresign-signed-1\n";

[[noreturn]] void fail(const std::string& path, const char* what, int error = errno) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(error));
}

// Removes the temporary file of a write that failed and reports the failure
// (ENOSPC, EROFS, EIO...), not whatever the clean-up left in errno.
[[noreturn]] void abandon(const std::string& temp, const std::string& path, const char* what) {
  int error = errno;
  ::unlink(temp.c_str());
  fail(path, what, error);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
  std::string_view piece = content;
  write_file_atomically(path, std::span<const std::string_view>(&piece, 1));
}

void write_file_atomically(const std::string& path, std::span<const std::string_view> pieces) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) fail(path, "cannot create a temporary file");
  for (std::string_view content : pieces) {
    size_t written = 0;
    while (written < content.size()) {
      ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int error = errno;
        ::close(fd);
        errno = error;
        abandon(temp, path, "write failed");
      }
      written += static_cast<size_t>(n);
    }
  }
  if (::fsync(fd) != 0) {
    int error = errno;
    ::close(fd);
    errno = error;
    abandon(temp, path, "fsync failed");
  }
  if (::close(fd) != 0) abandon(temp, path, "close failed");
  if (::rename(temp.c_str(), path.c_str()) != 0) abandon(temp, path, "rename failed");
  // The rename itself is durable only once the directory is synced.
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(path, "cannot open");
  }
  std::string content;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail(path, "read failed");
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

std::optional<std::string> read_file_if_present(const std::string& path) {
  try {
    return read_file(path);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

StateDir::StateDir(std::string path) : path_(std::move(path)) {
  make_dir(path_);
  for (const char* folder : {"/unsigned", "/signed", "/journal", "/held", "/keys"}) make_dir(path_ + folder);
}

std::string StateDir::file_for(const char* folder, const std::string& zone, const char* suffix) const {
  std::string name = zone;
  for (char& c : name)
    if (c == '/') c = '_';  // classless reverse zones ("0/25.2.0.192.in-addr.arpa.")
  return path_ + "/" + folder + "/" + name + suffix;
}

std::string StateDir::unsigned_zone_path(const std::string& zone) const { return file_for("unsigned", zone, "zone"); }
std::string StateDir::held_zone_path(const std::string& zone) const { return file_for("held", zone, "zone"); }
std::string StateDir::release_path(const std::string& zone) const { return file_for("held", zone, "zone.release"); }
std::string StateDir::operator_hold_path(const std::string& zone) const { return file_for("held", zone, "zone.hold"); }
std::string StateDir::key_states_path(const std::string& zone) const {
  return path_ + "/keys/" + policy::key_state_file_name(zone);
}

// signed/<zone>signed: magic, input serial, input names, digest length and
// digest, zone length and the zone's wire records, magic again (a trailer,
// so that a cut-off file is refused rather than half-served).
void StateDir::save_signed_zone(const std::string& zone, const SignedVersion& version) const {
  std::string header(kSignedMagic);
  auto put = [&](uint64_t v, int octets) {
    for (int shift = (octets - 1) * 8; shift >= 0; shift -= 8) header.push_back(static_cast<char>(v >> shift));
  };
  put(version.input_serial, 4);
  put(version.input_names, 8);
  put(version.input_digest.size(), 2);
  header += version.input_digest;
  put(version.zone->wire_size(), 8);
  std::vector<std::string_view> pieces = version.zone->wire_pieces();
  pieces.insert(pieces.begin(), header);
  pieces.push_back(kSignedMagic);
  write_file_atomically(file_for("signed", zone, "signed"), pieces);
  // A crash before this leaves a log whose entries start from older serials:
  // loading passes over them.
  std::string log = file_for("signed", zone, "changes");
  if (::unlink(log.c_str()) != 0 && errno != ENOENT) fail(log, "cannot remove");
}

size_t StateDir::append_signed_change(const std::string& zone, const ChangeEntry& entry) const {
  const std::string path = file_for("signed", zone, "changes");
  const std::string bytes = encode_change(entry);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) fail(path, "cannot open");
  struct stat before {};
  if (::fstat(fd, &before) != 0) {
    int error = errno;
    ::close(fd);
    fail(path, "cannot stat", error);
  }
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      // Cut back to the last whole entry, so that a later append follows it
      // (should that fail too, loading stops at the cut-off entry).
      [[maybe_unused]] int cut = ::ftruncate(fd, before.st_size);
      ::close(fd);
      fail(path, "write failed", error);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int error = errno;
    ::close(fd);
    fail(path, "fsync failed", error);
  }
  ::close(fd);
  if (before.st_size == 0) {  // a new file: its directory entry must last too
    int dir_fd = ::open((path_ + "/signed").c_str(), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
  return static_cast<size_t>(before.st_size) + bytes.size();
}

std::optional<SavedVersion> StateDir::load_signed_zone(const std::string& zone) const {
  std::string path = file_for("signed", zone, "signed");
  std::optional<std::string> bytes = read_file(path);
  if (!bytes) return std::nullopt;
  size_t pos = 0;
  auto need = [&](size_t n) {
    if (n > bytes->size() - pos) throw std::runtime_error(path + ": truncated");
  };
  auto get = [&](int octets) {
    need(static_cast<size_t>(octets));
    uint64_t v = 0;
    for (int i = 0; i < octets; ++i) v = v << 8 | static_cast<uint8_t>((*bytes)[pos++]);
    return v;
  };
  need(kSignedMagic.size());
  if (std::string_view(*bytes).substr(0, kSignedMagic.size()) != kSignedMagic)
    throw std::runtime_error(path + ": not a wiresign signed zone");
  pos = kSignedMagic.size();
  SignedVersion version;
  version.input_serial = static_cast<uint32_t>(get(4));
  version.input_names = get(8);
  size_t digest_length = get(2);
  need(digest_length);
  version.input_digest = bytes->substr(pos, digest_length);
  pos += digest_length;
  size_t zone_length = get(8);
  need(zone_length);
  if (bytes->size() - pos - zone_length != kSignedMagic.size() ||
      std::string_view(*bytes).substr(pos + zone_length) != kSignedMagic)
    throw std::runtime_error(path + ": bad trailer (file damaged)");
  bytes->resize(pos + zone_length);
  bytes->erase(0, pos);
  try {
    version.zone = std::make_shared<xfr::SignedZone>(dns::Name::from_text(zone), std::move(*bytes));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  SavedVersion saved;
  saved.version = std::move(version);
  const std::string log_path = file_for("signed", zone, "changes");
  std::optional<std::string> log = read_file(log_path);
  if (!log) return saved;
  saved.change_log_bytes = log->size();
  std::vector<ChangeEntry> entries = decode_changes(*log, saved.change_log_damaged);
  for (const ChangeEntry& entry : entries) {
    SignedVersion& current = saved.version;
    // Entries left from before the version was last saved whole start from older serials.
    if (entry.diff->from_serial != current.zone->serial()) continue;
    try {
      current.zone = std::make_shared<xfr::SignedZone>(current.zone->with_owners(entry.owners));
    } catch (const std::exception& e) {
      throw std::runtime_error(log_path + ": serial " + std::to_string(entry.diff->to_serial) + ": " + e.what());
    }
    current.input_serial = entry.input_serial;
    current.input_names = entry.input_names;
    current.input_digest = entry.input_digest;
    saved.logged_diffs.push_back(entry.diff);
  }
  return saved;
}

void StateDir::save_journal(const std::string& zone, const xfr::Journal& journal) const {
  write_file_atomically(file_for("journal", zone, "journal"), journal.serialize());
}

std::optional<xfr::Journal> StateDir::load_journal(const std::string& zone) const {
  std::string path = file_for("journal", zone, "journal");
  std::optional<std::string> bytes = read_file(path);
  if (!bytes) return std::nullopt;
  try {
    return xfr::Journal::parse(*bytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace wiresign::daemon
