// The PKCS#11 objects behind a wiresign key, shared by the keystore, key
// import and adoption: attribute templates, curve parameters (RFC 5480,
// RFC 8410), the public key in DNSKEY form (RFC 3110 §2, RFC 6605 §4,
// RFC 8080 §3), the CKA_LABEL convention and RFC 7512 locators.
// Private to keystore/.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dns/algorithm.h"
#include "keystore/keystore.h"
#include "keystore/pkcs11_module.h"

namespace wiresign::keystore {

// DER-encoded CKA_EC_PARAMS: named-curve OIDs (RFC 5480 §2.1.1.1, RFC 8410 §3).
inline constexpr uint8_t kP256Params[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
inline constexpr uint8_t kP384Params[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
inline constexpr uint8_t kEd25519Params[] = {0x06, 0x03, 0x2B, 0x65, 0x70};
inline constexpr uint8_t kRsaExponent[] = {0x01, 0x00, 0x01};
inline constexpr size_t kIdSize = 16;

inline CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, const void* value, size_t size) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), size};
}
template <typename T>
CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, const T& value) {
  return attribute(type, &value, sizeof value);
}


// The DER CKA_EC_PARAMS of an ECDSA or Ed25519 algorithm (empty for RSA).
std::span<const uint8_t> ec_params(dns::Algorithm alg);

// The attributes every DNSSEC key pair in the token gets (DESIGN.md promise
// 5): the private key is a sensitive, non-extractable token object that
// signs and does nothing else (tokens default the other uses to true); the
// public key only verifies. `label` and `id` must outlive the result.
std::vector<CK_ATTRIBUTE> dnssec_private_key_template(const std::string& label, const std::vector<uint8_t>& id);
std::vector<CK_ATTRIBUTE> dnssec_public_key_template(const std::string& label, const std::vector<uint8_t>& id);

// The DNSKEY Public Key field from a public key object (or an RSA private key).
std::vector<uint8_t> read_public_key(Pkcs11Session& session, CK_OBJECT_HANDLE object, dns::Algorithm alg);

// "wiresign <zone> <role> <algorithm number> <created, YYYYMMDDhhmmss>"
struct KeyLabel {
  std::string zone;
  KeyRole role = KeyRole::zsk;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
};
std::string make_label(const std::string& zone, KeyRole role, dns::Algorithm alg, std::time_t created);
// Labels wiresign did not write (other applications share tokens) give nullopt.
std::optional<KeyLabel> parse_label(const std::vector<uint8_t>& raw);

// RFC 7512 percent-encoding of every octet outside the unreserved set (all with `encode_all`).
std::string percent_encode(std::span<const uint8_t> value, bool encode_all);
// "pkcs11:token=...;object=<label>;id=%xx..."
std::string make_locator(const std::string& token, const std::string& label, std::span<const uint8_t> id);
// The CKA_ID from a locator made by make_locator.
std::vector<uint8_t> id_from_locator(const std::string& locator);

// The first object of `object_class` with CKA_ID `id`; throws if there is none.
CK_OBJECT_HANDLE find_key_object(Pkcs11Session& session, CK_OBJECT_CLASS object_class, const std::vector<uint8_t>& id);

}  // namespace wiresign::keystore
