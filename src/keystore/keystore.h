// Where DNSSEC keys live and how they sign: a Keystore creates, finds and
// opens keys; a SigningContext signs on one thread (one PKCS#11 session or
// OpenSSL context each). Signatures come out in DNSSEC wire form (RFC 3110,
// RFC 6605 r||s, RFC 8080).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/algorithm.h"

namespace wiresign::keystore {

// A keystore operation failed; the message names the call and the code,
// e.g. "C_Sign: CKR_SESSION_HANDLE_INVALID".
class KeystoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class KeyRole { ksk, zsk, csk };
std::string_view key_role_name(KeyRole role);

// DNSKEY flags: ZONE (256) plus SEP (1) for keys that sign the DNSKEY RRset.
inline uint16_t dnskey_flags(KeyRole role) { return role == KeyRole::zsk ? 256 : 257; }

struct KeyInfo {
  std::string zone;          // owner, presentation form with trailing dot, lower case
  KeyRole role = KeyRole::zsk;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  uint16_t flags = 256;
  std::vector<uint8_t> public_key;  // the DNSKEY Public Key field
  uint16_t key_tag = 0;             // RFC 4034 Appendix B
  std::string locator;              // where it lives: a file path, or "pkcs11:label=...;id=..."
};

// DNSKEY RDATA: flags, protocol 3, algorithm, public key (RFC 4034 §2.1).
std::vector<uint8_t> dnskey_rdata(const KeyInfo& key);

// Signs with one private key. Not thread-safe: make one per thread.
class SigningContext {
 public:
  virtual ~SigningContext() = default;
  // Appends the DNSSEC-format signature of `data` to `out`.
  virtual void sign(std::span<const uint8_t> data, std::vector<uint8_t>& out) = 0;
};

struct KeyRequest {
  std::string zone;  // presentation form, trailing dot
  KeyRole role = KeyRole::zsk;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  unsigned rsa_bits = 2048;  // only for RSA
};

// A key pair read from elsewhere (BIND key files, a PEM file): see key_import.h.
struct ImportedKey;

// An existing private key object in a PKCS#11 token (another signer's, e.g.
// OpenDNSSEC's), to be used in place: found by CKA_LABEL or by CKA_ID.
struct AdoptRequest {
  std::string zone;  // presentation form, trailing dot
  KeyRole role = KeyRole::zsk;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  std::string label;       // CKA_LABEL, or
  std::vector<uint8_t> id;  // CKA_ID
  // When set, the key must have this tag (the one the parent's DS names);
  // checked before anything in the token changes.
  std::optional<uint16_t> key_tag;
};

class Keystore {
 public:
  virtual ~Keystore() = default;
  // All keys of a zone held here (any role and algorithm).
  virtual std::vector<KeyInfo> list_keys(const std::string& zone) = 0;
  // Creates a key (in the token, non-extractable, for PKCS#11; in a 0600 file otherwise).
  virtual KeyInfo generate_key(const KeyRequest& request) = 0;
  // Stores an existing key pair unchanged (same DNSKEY, same key tag: no
  // rollover), so that list_keys and open_signer find it like a generated
  // one. Refuses a key tag the zone already has. The default refuses: a
  // keystore that cannot hold imported keys says so.
  virtual KeyInfo import_key(const ImportedKey& key);
  // PKCS#11 only: takes over a private key object already in the token
  // without copying it (it stays sensitive and non-extractable where it is).
  // Things worth telling the operator go to `notes` (the label it replaced).
  virtual KeyInfo adopt_key(const AdoptRequest& request, std::vector<std::string>& notes);
  // A context that signs with `key`; call once per signing thread.
  virtual std::unique_ptr<SigningContext> open_signer(const KeyInfo& key) = 0;
  // Short description for logs: "files:/var/lib/wiresign/keys", "pkcs11:token=wiresign".
  virtual std::string describe() const = 0;
};

}  // namespace wiresign::keystore
