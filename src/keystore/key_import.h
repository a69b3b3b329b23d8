// Reading keys made by other signers for `wiresign key import`: BIND's
// K<zone>+<alg>+<tag>.key/.private pair (Private-key-format v1.2/v1.3) and
// PEM private keys (PKCS#8), checked so that the imported key publishes the
// very DNSKEY (and key tag, RFC 4034 Appendix B) it had: no rollover, and
// the DS at the parent stays valid.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "dns/algorithm.h"
#include "keystore/algorithm.h"
#include "keystore/keystore.h"

namespace wiresign::keystore {

struct ImportedKey {
  // zone, role, algorithm, flags, public key and key tag as they will be
  // published; locator is the file the key came from.
  KeyInfo key;
  EvpPkey private_key;  // the whole key pair
  unsigned bits = 0;    // key size (RSA modulus, curve size)
  // Worth telling the operator, not worth refusing for: a private file
  // others can read, an RSA modulus below 2048 bits.
  std::vector<std::string> warnings;
};

struct ImportOptions {
  std::string zone;                          // --zone: the key must belong to it
  std::optional<KeyRole> role;               // --role; from the DNSKEY flags for BIND files
  std::optional<dns::Algorithm> algorithm;   // --algorithm; from the .key for BIND files
};

// A BIND key pair; `path` names the .key, the .private or their common base
// name. Refuses (KeystoreError naming the file): another zone in the file name
// or the DNSKEY owner, a role the DNSKEY flags contradict (changing the flags
// changes the key tag), a revoked key, an algorithm wiresign does not sign
// with, a private key that is not the public key's other half.
ImportedKey read_bind_key(const std::string& path, const ImportOptions& options);

// A PEM private key ("BEGIN PRIVATE KEY", or OpenSSL's traditional forms);
// needs options.role and options.algorithm, which must fit the key's type
// (RSA: rsasha256; EC P-256: ecdsap256sha256; P-384: ecdsap384sha384;
// Ed25519: ed25519). Encrypted PEM files are refused, never prompted for.
ImportedKey read_pem_key(const std::string& path, const ImportOptions& options);

// read_pem_key for files that start with "-----BEGIN", else read_bind_key.
ImportedKey read_key_for_import(const std::string& path, const ImportOptions& options);

// Throws unless `key`'s tag is new in `existing` (the zone's keys). The same
// key imported twice gets its own message.
void check_key_tag_free(const std::vector<KeyInfo>& existing, const KeyInfo& key);

// "0a1B..." (even number of hex digits, optional "0x" and ':' separators) ->
// octets; nullopt when malformed. For --pkcs11-id.
std::optional<std::vector<uint8_t>> parse_hex_id(const std::string& text);

}  // namespace wiresign::keystore
