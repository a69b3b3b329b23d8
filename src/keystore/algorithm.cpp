// Per-algorithm crypto facts: key generation with OpenSSL 3, the DNSKEY
// public-key field (RFC 3110 §2, RFC 6605 §4, RFC 8080 §3) and the
// conversion of ECDSA DER signatures to fixed-width r||s (RFC 6605 §4).
#include "keystore/algorithm.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include <algorithm>

#include "keystore/keystore.h"

namespace wiresign::keystore {
namespace {

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::vector<uint8_t> bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw_openssl_error("EVP_PKEY_get_bn_param");
  Bn bn(raw);
  std::vector<uint8_t> bytes(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), bytes.data());
  return bytes;
}

}  // namespace

void throw_openssl_error(std::string_view call) {
  std::string message(call);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    message += ": ";
    message += text;
  } else {
    message += ": failed";
  }
  ERR_clear_error();
  throw KeystoreError(message);
}

bool is_ecdsa(dns::Algorithm alg) {
  return alg == dns::Algorithm::ecdsap256sha256 || alg == dns::Algorithm::ecdsap384sha384;
}

const EVP_MD* signing_digest(dns::Algorithm alg) {
  switch (alg) {
    case dns::Algorithm::rsasha256:
    case dns::Algorithm::ecdsap256sha256:
      return EVP_sha256();
    case dns::Algorithm::ecdsap384sha384:
      return EVP_sha384();
    case dns::Algorithm::ed25519:
      return nullptr;
  }
  return nullptr;
}

size_t ecdsa_component_size(dns::Algorithm alg) {
  return alg == dns::Algorithm::ecdsap384sha384 ? 48 : 32;
}

const char* ecdsa_group_name(dns::Algorithm alg) {
  return alg == dns::Algorithm::ecdsap384sha384 ? "P-384" : "P-256";
}

std::string algorithm_label(dns::Algorithm alg) {
  return std::to_string(static_cast<unsigned>(alg)) + " (" +
         std::string(dns::algorithm_bind_name(alg)) + ")";
}

EvpPkey generate_openssl_key(dns::Algorithm alg, unsigned rsa_bits) {
  EVP_PKEY* key = nullptr;
  switch (alg) {
    case dns::Algorithm::rsasha256:
      // RFC 8624 §3.1 and common practice: exponent 65537; RFC 3110 allows 512-4096 bits.
      if (rsa_bits < 1024 || rsa_bits > 4096)
        throw KeystoreError("RSA key size " + std::to_string(rsa_bits) + " is outside 1024..4096 bits");
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits));
      break;
    case dns::Algorithm::ecdsap256sha256:
    case dns::Algorithm::ecdsap384sha384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", ecdsa_group_name(alg));
      break;
    case dns::Algorithm::ed25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (key == nullptr) throw_openssl_error("EVP_PKEY_Q_keygen");
  return EvpPkey(key);
}

std::vector<uint8_t> rsa_public_key_field(std::span<const uint8_t> exponent,
                                          std::span<const uint8_t> modulus) {
  std::vector<uint8_t> field;
  field.reserve(3 + exponent.size() + modulus.size());
  if (exponent.size() <= 255) {
    field.push_back(static_cast<uint8_t>(exponent.size()));
  } else {
    // RFC 3110 §2: a zero octet, then the exponent length in two octets.
    field.push_back(0);
    field.push_back(static_cast<uint8_t>(exponent.size() >> 8));
    field.push_back(static_cast<uint8_t>(exponent.size()));
  }
  field.insert(field.end(), exponent.begin(), exponent.end());
  field.insert(field.end(), modulus.begin(), modulus.end());
  return field;
}

bool split_rsa_public_key_field(std::span<const uint8_t> field, std::span<const uint8_t>& exponent,
                                std::span<const uint8_t>& modulus) {
  if (field.empty()) return false;
  size_t length = field[0];
  size_t offset = 1;
  if (length == 0) {
    if (field.size() < 3) return false;
    length = (size_t{field[1]} << 8) | field[2];
    offset = 3;
  }
  if (length == 0 || field.size() <= offset + length) return false;
  exponent = field.subspan(offset, length);
  modulus = field.subspan(offset + length);
  return true;
}

std::vector<uint8_t> dnskey_public_key(EVP_PKEY* key, dns::Algorithm alg) {
  switch (alg) {
    case dns::Algorithm::rsasha256:
      return rsa_public_key_field(bn_param(key, OSSL_PKEY_PARAM_RSA_E),
                                  bn_param(key, OSSL_PKEY_PARAM_RSA_N));
    case dns::Algorithm::ecdsap256sha256:
    case dns::Algorithm::ecdsap384sha384: {
      // OpenSSL gives the SEC1 uncompressed point 04||X||Y; RFC 6605 §4 drops the 04.
      uint8_t point[1 + 2 * 48];
      size_t length = 0;
      if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point,
                                          &length) != 1)
        throw_openssl_error("EVP_PKEY_get_octet_string_param");
      size_t width = ecdsa_component_size(alg);
      if (length != 1 + 2 * width || point[0] != 0x04)
        throw KeystoreError("EC public key of " + algorithm_label(alg) + " is not an uncompressed point");
      return std::vector<uint8_t>(point + 1, point + length);
    }
    case dns::Algorithm::ed25519: {
      std::vector<uint8_t> raw(32);
      size_t length = raw.size();
      if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != 32)
        throw_openssl_error("EVP_PKEY_get_raw_public_key");
      return raw;
    }
  }
  throw KeystoreError("unsupported algorithm " + std::to_string(static_cast<unsigned>(alg)));
}

namespace {
// Reads one DER length at `pos` (short form, or long form up to two octets).
bool read_der_length(std::span<const uint8_t> der, size_t& pos, size_t& length) {
  if (pos >= der.size()) return false;
  uint8_t first = der[pos++];
  if (first < 0x80) {
    length = first;
    return true;
  }
  size_t octets = first & 0x7F;
  if (octets == 0 || octets > 2 || pos + octets > der.size()) return false;
  length = 0;
  while (octets-- > 0) length = (length << 8) | der[pos++];
  return true;
}

// Copies the DER INTEGER at `pos` right-aligned into `width` octets of `target`.
bool read_der_integer(std::span<const uint8_t> der, size_t& pos, size_t width, uint8_t* target) {
  size_t length = 0;
  if (pos >= der.size() || der[pos++] != 0x02 || !read_der_length(der, pos, length) || length == 0 ||
      pos + length > der.size())
    return false;
  std::span<const uint8_t> value = der.subspan(pos, length);
  pos += length;
  // DER adds a 0x00 octet in front of values with the top bit set; r and s are positive.
  while (!value.empty() && value[0] == 0) value = value.subspan(1);
  if (value.size() > width) return false;
  std::fill(target, target + (width - value.size()), 0);
  std::copy(value.begin(), value.end(), target + (width - value.size()));
  return true;
}
}  // namespace

void append_ecdsa_raw_signature(std::span<const uint8_t> der, size_t width, std::vector<uint8_t>& out) {
  // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3),
  // parsed by hand: d2i_ECDSA_SIG would allocate three objects per signature.
  // r and s are left-padded to `width` octets each (RFC 6605 §4).
  size_t start = out.size();
  out.resize(start + 2 * width);
  size_t pos = 0, length = 0;
  bool ok = der.size() >= 2 && der[pos++] == 0x30 && read_der_length(der, pos, length) &&
            pos + length == der.size() && read_der_integer(der, pos, width, out.data() + start) &&
            read_der_integer(der, pos, width, out.data() + start + width) && pos == der.size();
  if (!ok) {
    out.resize(start);
    throw KeystoreError("malformed ECDSA signature from OpenSSL (or r, s wider than " + std::to_string(width) +
                        " octets)");
  }
}

}  // namespace wiresign::keystore
