// Software keys in a directory, in BIND's K<zone>+<alg>+<tag>.{key,private}
// files so BIND's tools can use them too (DESIGN.md promise 5: only the
// daemon's user may read them: directory 0700, private files 0600).
// Imported keys are written the same way, so list_keys finds them alike.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "keystore/bind_key_file.h"
#include "keystore/dnskey.h"
#include "keystore/key_import.h"
#include "keystore/open_keystore.h"
#include "keystore/openssl_key.h"
#include "keystore/zone_name.h"

namespace wiresign::keystore {
namespace {

namespace fs = std::filesystem;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Writes all of `text` to a new file `path` created with `mode` (O_EXCL: never
// reuses or follows an existing file) and flushes it to disk before returning,
// so a crash cannot leave a key file that looks complete but is not.
void write_new_file(const std::string& path, std::string_view text, mode_t mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) throw KeystoreError(errno_text(path));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw KeystoreError(errno_text(path));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) throw KeystoreError(errno_text(path + ": fsync"));
  if (::close(fd.release()) != 0) throw KeystoreError(errno_text(path + ": close"));
}

void sync_directory(const std::string& directory) {
  Fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) throw KeystoreError(errno_text(directory + ": fsync"));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeystoreError(errno_text(path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw KeystoreError(errno_text(path));
  return text.str();
}

class FileKeystore final : public Keystore {
 public:
  explicit FileKeystore(std::string directory) : directory_(std::move(directory)) {}

  std::vector<KeyInfo> list_keys(const std::string& zone) override {
    std::string owner = canonical_zone(zone);
    std::vector<KeyInfo> keys;
    for (const std::string& name : key_files_of(owner)) {
      std::string key_path = (fs::path(directory_) / name).string();
      KeyInfo key = parse_public_key_file(read_file(key_path), key_path);
      if (key.zone != owner) continue;  // "Kexample.test.+..." can't hold another zone, but be sure
      key.locator = key_path.substr(0, key_path.size() - 4) + ".private";
      // Load the private half now, so a broken or unreadable file is reported
      // here (naming the file) rather than in the middle of signing.
      load_private_key(key);
      keys.push_back(std::move(key));
    }
    std::sort(keys.begin(), keys.end(), [](const KeyInfo& a, const KeyInfo& b) { return a.locator < b.locator; });
    return keys;
  }

  KeyInfo generate_key(const KeyRequest& request) override {
    std::string owner = canonical_zone(request.zone);
    std::vector<KeyInfo> existing = list_keys(owner);
    // A new key whose tag equals an existing key's would make validators try
    // both (RFC 4034 Appendix B.1 allows it, but it wastes work) and would
    // collide with its file name: make another key instead.
    for (int attempt = 0; attempt < 16; ++attempt) {
      EvpPkey pkey = generate_openssl_key(request.algorithm, request.rsa_bits);
      KeyInfo key;
      key.zone = owner;
      key.role = request.role;
      key.algorithm = request.algorithm;
      key.flags = dnskey_flags(request.role);
      key.public_key = dnskey_public_key(pkey.get(), request.algorithm);
      key.key_tag = compute_key_tag(dnskey_rdata(key));
      bool clash = std::any_of(existing.begin(), existing.end(),
                               [&](const KeyInfo& other) { return other.key_tag == key.key_tag; });
      if (clash) continue;
      write_key_files(key, pkey.get());
      return key;
    }
    throw KeystoreError(owner + ": could not generate a key with a key tag not already in use");
  }

  KeyInfo import_key(const ImportedKey& imported) override {
    KeyInfo key = imported.key;
    key.zone = canonical_zone(key.zone);
    check_key_tag_free(list_keys(key.zone), key);
    write_key_files(key, imported.private_key.get());
    return key;
  }

  std::unique_ptr<SigningContext> open_signer(const KeyInfo& key) override {
    return make_openssl_signer(load_private_key(key), key.algorithm);
  }

  std::string describe() const override { return "files:" + directory_; }

 private:
  // The .key file names of a zone (its "K<zone>+" prefix, any case: BIND
  // names files after the zone as written). The directory is indexed once
  // and read again only when its modification time moves by someone else's
  // change (our own keys are added to the index as they are written), so a
  // daemon with thousands of zones does not read a directory of tens of
  // thousands of files for every signing, nor for every key it makes.
  std::vector<std::string> key_files_of(const std::string& owner) {
    // The time is read under the lock: a key written by another thread meanwhile
    // moves indexed_mtime_, and an older time read before it would look like a change.
    std::lock_guard lock(index_mutex_);
    struct stat st{};
    if (::stat(directory_.c_str(), &st) != 0) {
      if (errno == ENOENT) return {};
      throw KeystoreError(errno_text(directory_));
    }
    // File times tick coarsely (a few ms; a second on some file systems): a
    // change in the tick the directory was read in leaves the time unmoved,
    // so an index read less than two seconds after the last change is read
    // again once two seconds have passed (once, not at every call).
    bool moved = !indexed_ || !same_time(st.st_mtim, indexed_mtime_);
    bool unsure = indexed_ && indexed_read_s_ < st.st_mtim.tv_sec + 2 && std::time(nullptr) >= st.st_mtim.tv_sec + 2;
    if (moved || unsure) read_index(st.st_mtim);
    std::string key = lower(owner);
    auto it = index_.find(key);
    if (it == index_.end() && !key.empty() && key.back() == '.') it = index_.find(key.substr(0, key.size() - 1));
    return it == index_.end() ? std::vector<std::string>{} : it->second;
  }

  // Reads the directory into index_ (index_mutex_ held); `mtime` is the
  // directory's time seen before reading.
  void read_index(const timespec& mtime) {
    std::time_t started = std::time(nullptr);
    std::map<std::string, std::vector<std::string>> index;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory_, error)) {
      std::string name = entry.path().filename().string();
      std::string zone = zone_of_key_file(name);
      if (!zone.empty()) index[lower(zone)].push_back(name);
    }
    if (error) throw KeystoreError(directory_ + ": " + error.message());
    index_ = std::move(index);
    indexed_mtime_ = mtime;
    indexed_read_s_ = started;
    indexed_ = true;
  }

  // The zone part of K<zone>+<algorithm>+<tag>.key (it ends at the second '+'
  // from the end), or "" for any other file.
  static std::string zone_of_key_file(const std::string& name) {
    if (name.size() < 6 || name[0] != 'K' || name.compare(name.size() - 4, 4, ".key") != 0) return "";
    size_t last = name.rfind('+');
    size_t before = last == std::string::npos || last == 0 ? std::string::npos : name.rfind('+', last - 1);
    return before == std::string::npos ? "" : name.substr(1, before - 1);
  }

  static bool same_time(const timespec& a, const timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
  }

  static std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  std::mutex index_mutex_;  // also held while a key is written, so our own writes never interleave
  bool indexed_ = false;
  timespec indexed_mtime_{};    // the directory's time the index stands for
  std::time_t indexed_read_s_ = 0;  // when the directory was last read
  std::map<std::string, std::vector<std::string>> index_;  // lower-case zone as in the file name -> .key files

  // Writes the key's BIND files as generate_key and import_key store them:
  // .private (0600) first, then the .key by rename, then the directory synced.
  // Sets key.locator.
  void write_key_files(KeyInfo& key, EVP_PKEY* pkey) {
    std::lock_guard lock(index_mutex_);
    struct stat before{};
    bool index_current = indexed_ && ::stat(directory_.c_str(), &before) == 0 &&
                         same_time(before.st_mtim, indexed_mtime_);
    std::string file = key_file_base(key.zone, key.algorithm, key.key_tag);
    std::string base = directory_ + "/" + file;
    key.locator = base + ".private";
    std::time_t now = std::time(nullptr);
    std::string secret = format_private_key_file(pkey, key.algorithm, bind_timestamp(now));
    try {
      // The private file first: a .key only ever appears once its private half is on disk.
      write_new_file(key.locator, secret, 0600);
    } catch (...) {
      OPENSSL_cleanse(secret.data(), secret.size());
      throw;
    }
    OPENSSL_cleanse(secret.data(), secret.size());
    // The .key appears atomically (rename), so list_keys never reads half of one.
    std::string temporary = base + ".key.tmp";
    try {
      ::unlink(temporary.c_str());
      write_new_file(temporary, format_public_key_file(key, now), 0644);
      if (::rename(temporary.c_str(), (base + ".key").c_str()) != 0)
        throw KeystoreError(errno_text(base + ".key"));
    } catch (...) {
      // No half-made key left behind: a .private without its .key is never listed anyway.
      ::unlink(temporary.c_str());
      ::unlink(key.locator.c_str());
      throw;
    }
    sync_directory(directory_);
    // The new key goes into the index as it is, with the directory's new
    // time, when the index held everything up to this write; otherwise the
    // next lookup reads the directory (its time moved). A change by another
    // process during this write is found by the second look read_index's
    // rule makes two seconds after the directory's last change.
    struct stat after{};
    if (index_current && ::stat(directory_.c_str(), &after) == 0) {
      index_[lower(zone_of_key_file(file + ".key"))].push_back(file + ".key");
      indexed_mtime_ = after.st_mtim;
    }
  }

  EvpPkey load_private_key(const KeyInfo& key) const {
    std::string path = key.locator.empty()
                           ? directory_ + "/" + key_file_base(key.zone, key.algorithm, key.key_tag) + ".private"
                           : key.locator;
    std::string text = read_file(path);
    try {
      EvpPkey pkey = parse_private_key_file(text, key.algorithm, key.public_key, path);
      OPENSSL_cleanse(text.data(), text.size());
      return pkey;
    } catch (...) {
      OPENSSL_cleanse(text.data(), text.size());
      throw;
    }
  }

  std::string directory_;
};

}  // namespace

std::unique_ptr<Keystore> open_file_keystore(const std::string& directory) {
  if (directory.empty()) throw KeystoreError("key directory is not set");
  std::error_code error;
  // Create missing parents too, all 0700: nobody else needs to look inside.
  fs::path path(directory);
  fs::path partial;
  for (const auto& part : path) {
    partial /= part;
    if (partial.string().empty() || fs::exists(partial, error)) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      throw KeystoreError(errno_text(partial.string()));
  }
  if (!fs::is_directory(path, error)) throw KeystoreError(directory + ": not a directory");
  return std::make_unique<FileKeystore>(directory);
}

}  // namespace wiresign::keystore
