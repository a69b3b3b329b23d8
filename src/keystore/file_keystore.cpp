// Software keys in a directory, in BIND's K<zone>+<alg>+<tag>.{key,private}
// files so BIND's tools can use them too (DESIGN.md promise 5: only the
// daemon's user may read them: directory 0700, private files 0600).
#include <fcntl.h>
#include <openssl/crypto.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "dns/zone_writer.h"
#include "dns/base_encoding.h"
#include "keystore/dnskey.h"
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

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "Kexample.test.+013+12345" (zone with its trailing dot, as BIND names files).
std::string key_file_base(const std::string& zone, dns::Algorithm alg, uint16_t key_tag) {
  char numbers[16];
  std::snprintf(numbers, sizeof numbers, "+%03u+%05u", static_cast<unsigned>(alg), unsigned{key_tag});
  return "K" + zone + numbers;
}

// "20261123000000": the UTC timestamp BIND writes for Created/Publish/Activate.
std::string bind_timestamp(std::time_t when) {
  std::string text;
  dns::append_timestamp(text, static_cast<uint32_t>(when));
  return text;
}

// The .key file: comment lines (what the key is, Created/Publish/Activate)
// then "<zone> IN DNSKEY <flags> 3 <alg> <base64>".
std::string format_public_key_file(const KeyInfo& key, std::time_t created) {
  std::tm utc{};
  gmtime_r(&created, &utc);
  char readable[64];
  std::strftime(readable, sizeof readable, "%a %b %e %H:%M:%S %Y", &utc);
  std::string stamp = bind_timestamp(created) + " (" + readable + ")\n";
  std::string text = "; This is a ";
  text += (key.flags & 1) ? "key-signing key" : "zone-signing key";
  text += ", keyid " + std::to_string(key.key_tag) + ", for " + key.zone + "\n";
  // BIND's dnssec-signzone -S reads these to decide which keys are live.
  text += "; Created: " + stamp + "; Publish: " + stamp + "; Activate: " + stamp;
  text += dnskey_text(key, 0, false) + "\n";
  return text;
}

// Reads the DNSKEY RR of a .key file (any TTL/class, multi-line or BIND's
// split base64); role from the SEP flag (257: ksk, 256: zsk). Errors name `path`.
KeyInfo parse_public_key_file(std::string_view text, const std::string& path) {
  // Join the record's lines: drop comments and the parentheses of multi-line form.
  std::string record;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(0, line.find(';'));
    std::replace_if(line.begin(), line.end(), [](char c) { return c == '(' || c == ')'; }, ' ');
    record += line + " ";
  }
  std::istringstream fields(record);
  std::vector<std::string> tokens;
  for (std::string token; fields >> token;) tokens.push_back(token);

  // owner [ttl] [class] DNSKEY flags protocol algorithm key...
  size_t type_at = 1;
  while (type_at < tokens.size() && type_at <= 2 && lower(tokens[type_at]) != "dnskey") ++type_at;
  if (tokens.empty() || type_at >= tokens.size() || lower(tokens[type_at]) != "dnskey" ||
      tokens.size() < type_at + 5)
    throw KeystoreError(path + ": no DNSKEY record");
  for (size_t i = 1; i < type_at; ++i)
    if (!all_digits(tokens[i]) && lower(tokens[i]) != "in")
      throw KeystoreError(path + ": unexpected '" + tokens[i] + "' before DNSKEY");
  const std::string& flags = tokens[type_at + 1];
  const std::string& protocol = tokens[type_at + 2];
  const std::string& algorithm = tokens[type_at + 3];
  if (!all_digits(flags) || std::stoul(flags) > 0xFFFF || protocol != "3" || !all_digits(algorithm))
    throw KeystoreError(path + ": malformed DNSKEY flags, protocol or algorithm");

  KeyInfo key;
  std::string owner = tokens[0];
  if (owner.back() != '.') owner += '.';
  try {
    key.zone = dns::Name::from_text(owner).to_text();
  } catch (const dns::ParseError& e) {
    throw KeystoreError(path + ": bad owner name: " + e.what());
  }
  auto alg = dns::algorithm_from_name(algorithm);
  if (!alg) throw KeystoreError(path + ": unsupported DNSSEC algorithm " + algorithm);
  key.algorithm = *alg;
  key.flags = static_cast<uint16_t>(std::stoul(flags));
  key.role = (key.flags & 1) ? KeyRole::ksk : KeyRole::zsk;
  std::string base64;
  for (size_t i = type_at + 4; i < tokens.size(); ++i) base64 += tokens[i];
  auto public_key = dns::from_base64(base64);
  if (!public_key || public_key->empty()) throw KeystoreError(path + ": bad base64 in the public key");
  key.public_key = std::move(*public_key);
  key.key_tag = compute_key_tag(dnskey_rdata(key));
  return key;
}

class FileKeystore final : public Keystore {
 public:
  explicit FileKeystore(std::string directory) : directory_(std::move(directory)) {}

  std::vector<KeyInfo> list_keys(const std::string& zone) override {
    std::string owner = canonical_zone(zone);
    std::string prefix = "K" + owner + "+";
    std::vector<KeyInfo> keys;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory_, error)) {
      std::string name = entry.path().filename().string();
      // BIND names files after the zone as written; compare case-insensitively.
      if (name.size() <= prefix.size() + 4 || name.compare(name.size() - 4, 4, ".key") != 0 ||
          strncasecmp(name.c_str(), prefix.c_str(), prefix.size()) != 0)
        continue;
      std::string key_path = entry.path().string();
      KeyInfo key = parse_public_key_file(read_file(key_path), key_path);
      if (key.zone != owner) continue;  // "Kexample.test.+..." can't hold another zone, but be sure
      key.locator = key_path.substr(0, key_path.size() - 4) + ".private";
      // Load the private half now, so a broken or unreadable file is reported
      // here (naming the file) rather than in the middle of signing.
      load_private_key(key);
      keys.push_back(std::move(key));
    }
    if (error) throw KeystoreError(directory_ + ": " + error.message());
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
      std::string base = directory_ + "/" + key_file_base(owner, key.algorithm, key.key_tag);
      key.locator = base + ".private";
      std::time_t now = std::time(nullptr);
      std::string secret = format_private_key_file(pkey.get(), key.algorithm, bind_timestamp(now));
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
      return key;
    }
    throw KeystoreError(owner + ": could not generate a key with a key tag not already in use");
  }

  std::unique_ptr<SigningContext> open_signer(const KeyInfo& key) override {
    return make_openssl_signer(load_private_key(key), key.algorithm);
  }

  std::string describe() const override { return "files:" + directory_; }

 private:
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
