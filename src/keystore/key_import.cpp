// Keys from other signers: BIND's .key/.private pair and PEM (PKCS#8) files,
// turned into OpenSSL 3 key pairs (EVP_PKEY_fromdata, see openssl_key.cpp)
// and checked to publish the same DNSKEY as before (RFC 4034 §2.1, key tag
// Appendix B), so that the DS at the parent (RFC 4034 §5) stays valid.
#include "keystore/key_import.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "keystore/bind_key_file.h"
#include "keystore/dnskey.h"
#include "keystore/openssl_key.h"
#include "keystore/zone_name.h"

namespace wiresign::keystore {

KeyInfo Keystore::import_key(const ImportedKey& key) {
  throw KeystoreError(describe() + ": this keystore cannot import keys (" + key.key.locator + ")");
}

KeyInfo Keystore::adopt_key(const AdoptRequest&, std::vector<std::string>&) {
  throw KeystoreError(describe() + ": --pkcs11-label/--pkcs11-id adopt objects of a PKCS#11 token; this "
                      "keystore is not one (import the key's files instead)");
}

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string read_secret_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeystoreError(path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Secrets in a std::string: wiped when the holder goes.
struct WipedText {
  std::string text;
  ~WipedText() {
    if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  }
};

// A private key file that group or others may read may have been copied:
// still imported (refusing would not un-copy it), but the operator is told.
void warn_if_readable(const std::string& path, std::vector<std::string>& warnings) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  warnings.push_back(path + " is readable by other users (mode " + std::string(mode) +
                     "): the key may have been copied; the imported copy is 0600, and a rollover after the "
                     "migration retires a key that may be known");
}

// RSA moduli: below 1024 bits (or above 4096) validators may treat the key as
// unsupported (RFC 3110 §2, RFC 8624 §3), so it is refused like a request to
// generate one. 1024..2047 bits is weak but in use; refusing would force the
// emergency rollover an import exists to avoid, so it is imported with a warning.
void check_key_size(ImportedKey& imported, const std::string& path) {
  imported.bits = static_cast<unsigned>(EVP_PKEY_get_bits(imported.private_key.get()));
  if (imported.key.algorithm != dns::Algorithm::rsasha256) return;
  if (imported.bits < 1024 || imported.bits > 4096)
    throw KeystoreError(path + ": RSA key of " + std::to_string(imported.bits) +
                        " bits is outside 1024..4096 bits; validators may not accept it: make a new key instead");
  if (imported.bits < 2048)
    imported.warnings.push_back(path + ": RSA key of " + std::to_string(imported.bits) +
                                " bits (below 2048, RFC 8624 §3.1 advice); roll it to a stronger key soon");
}

// The private half must be the public key's other half: a mismatch would sign
// with signatures no validator accepts under the published DNSKEY.
void check_key_pair(const ImportedKey& imported, const std::string& path) {
  std::vector<uint8_t> derived = dnskey_public_key(imported.private_key.get(), imported.key.algorithm);
  if (derived != imported.key.public_key)
    throw KeystoreError(path + ": the private key does not belong to the DNSKEY in the .key file");
  if (imported.key.algorithm == dns::Algorithm::ed25519) return;  // the public key is derived from the seed
  EvpPkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, imported.private_key.get(), nullptr));
  if (!ctx || EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    ERR_clear_error();
    throw KeystoreError(path + ": the private key does not match its public key (EVP_PKEY_pairwise_check)");
  }
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// BIND names the pair "K<zone>+<alg>+<tag>"; when the name has that form it
// must agree with the DNSKEY inside (a renamed file is a sign of a mix-up).
void check_file_name(const std::string& base, const KeyInfo& key, const std::string& zone) {
  std::string name = std::filesystem::path(base).filename().string();
  size_t tag_at = name.rfind('+');
  size_t alg_at = tag_at == std::string::npos || tag_at == 0 ? std::string::npos : name.rfind('+', tag_at - 1);
  if (name.size() < 2 || name[0] != 'K' || alg_at == std::string::npos) return;
  std::string file_zone = name.substr(1, alg_at - 1);
  std::string file_alg = name.substr(alg_at + 1, tag_at - alg_at - 1);
  std::string file_tag = name.substr(tag_at + 1);
  std::string file_owner;
  try {
    file_owner = canonical_zone(file_zone);
  } catch (const KeystoreError&) {
    return;  // not BIND's naming after all
  }
  if (file_owner != zone)
    throw KeystoreError(base + ": the file name is for zone " + file_owner + ", not " + zone +
                        " (--zone); import each zone's keys with its own --zone");
  auto number = [](const std::string& text) -> long {
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(text);
  };
  if (number(file_alg) != static_cast<long>(key.algorithm) || number(file_tag) != key.key_tag)
    throw KeystoreError(base + ": the file name says algorithm " + file_alg + ", key tag " + file_tag +
                        " but the DNSKEY inside has " + std::to_string(static_cast<unsigned>(key.algorithm)) +
                        ", " + std::to_string(key.key_tag) + ": a renamed or edited key file");
}

}  // namespace

ImportedKey read_bind_key(const std::string& path, const ImportOptions& options) {
  std::string base = path;
  for (const char* suffix : {".key", ".private"}) {
    std::string_view s(suffix);
    if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
      base.resize(base.size() - s.size());
      break;
    }
  }
  const std::string key_path = base + ".key";
  const std::string private_path = base + ".private";
  const std::string zone = canonical_zone(options.zone);

  ImportedKey imported;
  std::string public_text;
  {
    std::ifstream in(key_path);
    if (!in) throw KeystoreError(key_path + ": " + std::strerror(errno) + " (a BIND key needs its .key and .private)");
    std::ostringstream text;
    text << in.rdbuf();
    public_text = text.str();
  }
  KeyInfo& key = imported.key;
  try {
    key = parse_public_key_file(public_text, key_path);
  } catch (const KeystoreError& e) {
    std::string text = e.what();
    if (text.find("unsupported DNSSEC algorithm") == std::string::npos) throw;
    throw KeystoreError(text + ": wiresign signs with rsasha256 (8), ecdsap256sha256 (13), ecdsap384sha384 (14) "
                               "and ed25519 (15); keep signing this zone with its current signer until an "
                               "algorithm rollover there has moved it to one of them");
  }
  if (key.zone != zone)
    throw KeystoreError(key_path + ": the DNSKEY is for zone " + key.zone + ", not " + zone + " (--zone)");
  check_file_name(base, key, zone);
  if (key.flags & 0x80)
    throw KeystoreError(key_path + ": the key is revoked (REVOKE flag, RFC 5011); a revoked key cannot be used");
  if (key.flags != 256 && key.flags != 257)
    throw KeystoreError(key_path + ": DNSKEY flags " + std::to_string(key.flags) +
                        " are not a zone key's (256 ZSK, 257 KSK/CSK)");
  if (options.algorithm && *options.algorithm != key.algorithm)
    throw KeystoreError(key_path + ": the key's algorithm is " + algorithm_label(key.algorithm) + ", not " +
                        algorithm_label(*options.algorithm) + " (--algorithm)");
  if (options.role) {
    // The SEP flag is part of the DNSKEY RDATA: changing it changes the key tag.
    bool sep = key.flags == 257;
    if (sep != (*options.role != KeyRole::zsk))
      throw KeystoreError(key_path + ": DNSKEY flags " + std::to_string(key.flags) + " make it a " +
                          (sep ? "KSK or CSK" : "ZSK") + ", not a " + std::string(key_role_name(*options.role)) +
                          " (--role); changing the flags would change the key tag and break the DS");
    key.role = *options.role;
  }
  key.locator = key_path;

  warn_if_readable(private_path, imported.warnings);
  WipedText secret{read_secret_file(private_path)};
  imported.private_key = parse_private_key_file(secret.text, key.algorithm, key.public_key, private_path);
  check_key_pair(imported, private_path);
  check_key_size(imported, private_path);
  return imported;
}

ImportedKey read_pem_key(const std::string& path, const ImportOptions& options) {
  if (!options.role) throw KeystoreError(path + ": a PEM key needs --role ksk|zsk|csk");
  if (!options.algorithm) throw KeystoreError(path + ": a PEM key needs --algorithm");
  ImportedKey imported;
  warn_if_readable(path, imported.warnings);
  WipedText secret{read_secret_file(path)};
  if (secret.text.find("ENCRYPTED") != std::string::npos)
    throw KeystoreError(path + ": the PEM key is encrypted; decrypt it first (umask 077; openssl pkey -in " + path +
                        " -out FILE) and import FILE");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(secret.text.data(), static_cast<int>(secret.text.size())));
  // A callback that gives no passphrase: OpenSSL would otherwise prompt on the terminal.
  auto no_passphrase = [](char*, int, int, void*) { return -1; };
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (!raw) {
    ERR_clear_error();
    throw KeystoreError(path + ": not a PEM private key (expected \"-----BEGIN PRIVATE KEY-----\", PKCS#8)");
  }
  imported.private_key.reset(raw);

  dns::Algorithm alg = *options.algorithm;
  std::string type;
  if (EVP_PKEY_is_a(raw, "RSA")) {
    type = "RSA";
  } else if (EVP_PKEY_is_a(raw, "ED25519")) {
    type = "Ed25519";
  } else if (EVP_PKEY_is_a(raw, "EC")) {
    char group[64] = "";
    size_t length = 0;
    EVP_PKEY_get_group_name(raw, group, sizeof group, &length);
    std::string name = lower(group);
    type = name == "prime256v1" || name == "p-256" ? "EC P-256"
           : name == "secp384r1" || name == "p-384" ? "EC P-384"
                                                     : "EC " + std::string(group);
  } else {
    type = EVP_PKEY_get0_type_name(raw) ? EVP_PKEY_get0_type_name(raw) : "unknown";
  }
  const char* wanted = alg == dns::Algorithm::rsasha256         ? "RSA"
                       : alg == dns::Algorithm::ecdsap256sha256 ? "EC P-256"
                       : alg == dns::Algorithm::ecdsap384sha384 ? "EC P-384"
                                                                : "Ed25519";
  if (type != wanted)
    throw KeystoreError(path + ": the key is " + type + ", but " + algorithm_label(alg) + " (--algorithm) needs " +
                        wanted);

  KeyInfo& key = imported.key;
  key.zone = canonical_zone(options.zone);
  key.role = *options.role;
  key.algorithm = alg;
  key.flags = dnskey_flags(key.role);
  key.public_key = dnskey_public_key(raw, alg);
  key.key_tag = compute_key_tag(dnskey_rdata(key));
  key.locator = path;
  check_key_pair(imported, path);
  check_key_size(imported, path);
  return imported;
}

ImportedKey read_key_for_import(const std::string& path, const ImportOptions& options) {
  std::ifstream in(path);
  if (!in) throw KeystoreError(path + ": " + std::strerror(errno));
  std::string first;
  std::getline(in, first);
  if (first.rfind("-----BEGIN", 0) == 0) return read_pem_key(path, options);
  return read_bind_key(path, options);
}

void check_key_tag_free(const std::vector<KeyInfo>& existing, const KeyInfo& key) {
  for (const KeyInfo& other : existing) {
    if (other.key_tag != key.key_tag) continue;
    if (other.algorithm == key.algorithm && other.public_key == key.public_key)
      throw KeystoreError(key.zone + ": key " + std::to_string(key.key_tag) + " (" + key.locator +
                          ") is already in the keystore as " + other.locator);
    throw KeystoreError(key.zone + ": key tag " + std::to_string(key.key_tag) + " of " + key.locator +
                        " is already used by another key of the zone (" + other.locator +
                        "); two keys with one tag make validators try both (RFC 4034 Appendix B.1): "
                        "keep one of them");
  }
}

std::optional<std::vector<uint8_t>> parse_hex_id(const std::string& text) {
  std::string digits;
  std::string_view rest(text);
  if (rest.rfind("0x", 0) == 0 || rest.rfind("0X", 0) == 0) rest.remove_prefix(2);
  for (char c : rest) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    digits.push_back(c);
  }
  if (digits.empty() || digits.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> id;
  for (size_t i = 0; i < digits.size(); i += 2) id.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return id;
}

}  // namespace wiresign::keystore
