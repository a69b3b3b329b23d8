// DNSSEC keys generated and used inside a PKCS#11 token: C_GenerateKeyPair
// with non-extractable private keys, public keys read back into DNSKEY form
// (RFC 3110 §2, RFC 6605 §4, RFC 8080 §3), signing with one session per thread.
#include "dns/zone_writer.h"
#include "keystore/pkcs11_keystore.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>
#include <sstream>

#include "keystore/algorithm.h"
#include "keystore/zone_name.h"
#include "keystore/dnskey.h"
#include "keystore/pkcs11_module.h"

namespace wiresign::keystore {
namespace {

// DER-encoded CKA_EC_PARAMS: named-curve OIDs (RFC 5480 §2.1.1.1, RFC 8410 §3).
constexpr uint8_t kP256Params[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr uint8_t kP384Params[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
constexpr uint8_t kEd25519Params[] = {0x06, 0x03, 0x2B, 0x65, 0x70};
constexpr uint8_t kRsaExponent[] = {0x01, 0x00, 0x01};
constexpr size_t kIdSize = 16;

CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, const void* value, size_t size) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), size};
}
template <typename T>
CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, const T& value) {
  return attribute(type, &value, sizeof value);
}

// The token, shared by a keystore and the signers it opened.
struct TokenAccess {
  std::shared_ptr<Pkcs11Module> module;
  CK_SLOT_ID slot = 0;
  std::string token_label;
  std::string pin;

  std::unique_ptr<Pkcs11Session> logged_in_session() const {
    auto session = std::make_unique<Pkcs11Session>(module, slot);
    session->login(pin);
    return session;
  }
};

// CKA_EC_POINT is a DER OCTET STRING around the point (Cryptoki 2.40 §2.3.3);
// some modules return the bare point. Tell them apart by the expected size.
std::vector<uint8_t> unwrap_ec_point(std::vector<uint8_t> point, size_t raw_size) {
  if (point.size() == raw_size + 2 && point[0] == 0x04 && point[1] == raw_size)
    return std::vector<uint8_t>(point.begin() + 2, point.end());
  if (point.size() == raw_size) return point;
  throw KeystoreError("CKA_EC_POINT has an unexpected size (" + std::to_string(point.size()) + " octets)");
}

std::vector<uint8_t> without_leading_zeros(std::vector<uint8_t> number) {
  auto first = std::find_if(number.begin(), number.end(), [](uint8_t octet) { return octet != 0; });
  number.erase(number.begin(), first);
  return number;
}

std::vector<uint8_t> read_public_key(Pkcs11Session& session, CK_OBJECT_HANDLE object, dns::Algorithm alg) {
  switch (alg) {
    case dns::Algorithm::rsasha256:
      return rsa_public_key_field(without_leading_zeros(session.attribute(object, CKA_PUBLIC_EXPONENT)),
                                  without_leading_zeros(session.attribute(object, CKA_MODULUS)));
    case dns::Algorithm::ecdsap256sha256:
    case dns::Algorithm::ecdsap384sha384: {
      // SEC1 uncompressed point 04||X||Y; the DNSKEY keeps X||Y (RFC 6605 §4).
      size_t width = ecdsa_component_size(alg);
      std::vector<uint8_t> point = unwrap_ec_point(session.attribute(object, CKA_EC_POINT), 1 + 2 * width);
      if (point[0] != 0x04) throw KeystoreError("CKA_EC_POINT is not an uncompressed point");
      return std::vector<uint8_t>(point.begin() + 1, point.end());
    }
    case dns::Algorithm::ed25519:
      return unwrap_ec_point(session.attribute(object, CKA_EC_POINT), 32);
  }
  throw KeystoreError("unsupported algorithm");
}

struct KeyLabel {
  std::string zone;
  KeyRole role = KeyRole::zsk;
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
};

std::string utc_timestamp(std::time_t when) {
  std::string text;
  dns::append_timestamp(text, static_cast<uint32_t>(when));
  return text;
}

std::string make_label(const std::string& zone, KeyRole role, dns::Algorithm alg, std::time_t created) {
  return "wiresign " + zone + " " + std::string(key_role_name(role)) + " " +
         std::to_string(static_cast<unsigned>(alg)) + " " + utc_timestamp(created);
}

// Labels wiresign did not write (other applications share tokens) give nullopt.
std::optional<KeyLabel> parse_label(const std::vector<uint8_t>& raw) {
  std::istringstream fields(std::string(raw.begin(), raw.end()));
  std::string tag, zone, role, algorithm;
  if (!(fields >> tag >> zone >> role >> algorithm) || tag != "wiresign") return std::nullopt;
  KeyLabel label;
  label.zone = zone;
  if (role == "ksk") label.role = KeyRole::ksk;
  else if (role == "zsk") label.role = KeyRole::zsk;
  else if (role == "csk") label.role = KeyRole::csk;
  else return std::nullopt;
  auto alg = dns::algorithm_from_name(algorithm);
  if (!alg) return std::nullopt;
  label.algorithm = *alg;
  return label;
}

// RFC 7512 percent-encoding of every octet outside the unreserved set.
std::string percent_encode(std::span<const uint8_t> value, bool encode_all) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t octet : value) {
    if (!encode_all && (std::isalnum(octet) || octet == '-' || octet == '.' || octet == '_' || octet == '~')) {
      out.push_back(static_cast<char>(octet));
    } else {
      out += '%';
      out += kHex[octet >> 4];
      out += kHex[octet & 15];
    }
  }
  return out;
}

std::string make_locator(const std::string& token, const std::string& label, std::span<const uint8_t> id) {
  std::vector<uint8_t> label_octets(label.begin(), label.end());
  std::vector<uint8_t> token_octets(token.begin(), token.end());
  return "pkcs11:token=" + percent_encode(token_octets, false) + ";object=" + percent_encode(label_octets, false) +
         ";id=" + percent_encode(id, true);
}

// The CKA_ID from a locator made by make_locator.
std::vector<uint8_t> id_from_locator(const std::string& locator) {
  size_t start = locator.find(";id=");
  if (locator.rfind("pkcs11:", 0) != 0 || start == std::string::npos)
    throw KeystoreError("not a PKCS#11 key locator: \"" + locator + "\"");
  std::string encoded = locator.substr(start + 4, locator.find(';', start + 4) - (start + 4));
  auto hex_value = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw KeystoreError("bad percent-encoding in PKCS#11 key locator \"" + locator + "\"");
  };
  std::vector<uint8_t> id;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      id.push_back(static_cast<uint8_t>(encoded[i]));
      continue;
    }
    if (i + 2 >= encoded.size()) hex_value('x');  // a '%' needs two hex digits after it
    id.push_back(static_cast<uint8_t>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2])));
    i += 2;
  }
  if (id.empty()) throw KeystoreError("PKCS#11 key locator without an id: \"" + locator + "\"");
  return id;
}

CK_OBJECT_HANDLE find_key_object(Pkcs11Session& session, CK_OBJECT_CLASS object_class,
                                 const std::vector<uint8_t>& id) {
  CK_ATTRIBUTE query[] = {attribute(CKA_CLASS, object_class), attribute(CKA_ID, id.data(), id.size())};
  std::vector<CK_OBJECT_HANDLE> objects = session.find_objects(query);
  if (objects.empty())
    throw KeystoreError(std::string("no ") + (object_class == CKO_PRIVATE_KEY ? "private" : "public") +
                        " key with id " + percent_encode(id, true) + " in the token");
  return objects.front();
}

// Signs in its own session. Recovers once from the two errors a long-running
// signer meets in practice: a session the module dropped (token reset, someone
// called C_CloseAllSessions) and a key handle that is no longer valid.
class Pkcs11Signer final : public SigningContext {
 public:
  Pkcs11Signer(std::shared_ptr<const TokenAccess> token, const KeyInfo& key)
      : token_(std::move(token)), algorithm_(key.algorithm), id_(id_from_locator(key.locator)),
        name_(key.zone + " key " + std::to_string(key.key_tag)) {
    switch (algorithm_) {
      case dns::Algorithm::rsasha256: {
        // RFC 3110 §3: the signature is as long as the modulus.
        std::span<const uint8_t> exponent, modulus;
        if (!split_rsa_public_key_field(key.public_key, exponent, modulus))
          throw KeystoreError(name_ + ": malformed RSA public key");
        signature_size_ = modulus.size();
        mechanism_ = CKM_SHA256_RSA_PKCS;
        break;
      }
      case dns::Algorithm::ecdsap256sha256:
      case dns::Algorithm::ecdsap384sha384:
        // CKM_ECDSA signs a digest we compute, and returns r||s as DNSSEC wants it.
        signature_size_ = 2 * ecdsa_component_size(algorithm_);
        mechanism_ = CKM_ECDSA;
        digest_ctx_.reset(EVP_MD_CTX_new());
        if (!digest_ctx_) throw_openssl_error("EVP_MD_CTX_new");
        break;
      case dns::Algorithm::ed25519:
        signature_size_ = 64;
        mechanism_ = CKM_EDDSA;  // no parameters: pure Ed25519 (RFC 8080 §4)
        break;
    }
    reopen();
  }

  void sign(std::span<const uint8_t> data, std::vector<uint8_t>& out) override {
    std::span<const uint8_t> input = data;
    unsigned char digest[EVP_MAX_MD_SIZE];
    if (digest_ctx_) {
      unsigned int length = 0;
      if (EVP_DigestInit_ex(digest_ctx_.get(), signing_digest(algorithm_), nullptr) != 1 ||
          EVP_DigestUpdate(digest_ctx_.get(), data.data(), data.size()) != 1 ||
          EVP_DigestFinal_ex(digest_ctx_.get(), digest, &length) != 1)
        throw_openssl_error("EVP_Digest");
      input = std::span<const uint8_t>(digest, length);
    }
    for (int attempt = 0;; ++attempt) {
      auto [call, rv] = try_sign(input, out);
      if (rv == CKR_OK) return;
      if (attempt == 0 && (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
                           rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_OPERATION_ACTIVE)) {
        reopen();
        continue;
      }
      if (attempt == 0 && (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID)) {
        key_ = find_key_object(*session_, CKO_PRIVATE_KEY, id_);
        continue;
      }
      throw KeystoreError(std::string(call) + ": " + ckr_name(rv) + " (" + name_ + ")");
    }
  }

 private:
  void reopen() {
    session_.reset();
    session_ = token_->logged_in_session();
    key_ = find_key_object(*session_, CKO_PRIVATE_KEY, id_);
  }

  std::pair<const char*, CK_RV> try_sign(std::span<const uint8_t> input, std::vector<uint8_t>& out) {
    CK_FUNCTION_LIST* functions = session_->functions();
    CK_MECHANISM mechanism{mechanism_, nullptr, 0};
    CK_RV rv = functions->C_SignInit(session_->handle(), &mechanism, key_);
    if (rv != CKR_OK) return {"C_SignInit", rv};
    size_t start = out.size();
    out.resize(start + signature_size_);
    CK_ULONG length = signature_size_;
    rv = functions->C_Sign(session_->handle(), const_cast<CK_BYTE*>(input.data()), input.size(),
                           out.data() + start, &length);
    if (rv != CKR_OK || length != signature_size_) {
      out.resize(start);
      // A short signature would be a module bug; never hand it on as if valid.
      return {"C_Sign", rv != CKR_OK ? rv : CKR_SIGNATURE_LEN_RANGE};
    }
    return {"C_Sign", CKR_OK};
  }

  std::shared_ptr<const TokenAccess> token_;
  dns::Algorithm algorithm_;
  std::vector<uint8_t> id_;
  std::string name_;
  size_t signature_size_ = 0;
  CK_MECHANISM_TYPE mechanism_ = 0;
  EvpMdCtx digest_ctx_;  // ECDSA only
  std::unique_ptr<Pkcs11Session> session_;
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
};

// Destroys a freshly generated key pair unless told to keep it, so a failure
// between C_GenerateKeyPair and the end of generate_key leaves no orphan.
struct KeyPairGuard {
  Pkcs11Session& session;
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  bool keep = false;
  ~KeyPairGuard() {
    if (keep) return;
    if (public_key != CK_INVALID_HANDLE) session.functions()->C_DestroyObject(session.handle(), public_key);
    if (private_key != CK_INVALID_HANDLE) session.functions()->C_DestroyObject(session.handle(), private_key);
  }
};

class Pkcs11Keystore final : public Keystore {
 public:
  explicit Pkcs11Keystore(std::shared_ptr<const TokenAccess> token) : token_(std::move(token)) {}

  std::vector<KeyInfo> list_keys(const std::string& zone) override {
    std::string owner = canonical_zone(zone);
    auto session = token_->logged_in_session();
    CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE query[] = {attribute(CKA_CLASS, private_class)};
    std::vector<KeyInfo> keys;
    for (CK_OBJECT_HANDLE object : session->find_objects(query)) {
      std::vector<uint8_t> raw_label = session->attribute(object, CKA_LABEL);
      auto label = parse_label(raw_label);
      if (!label || label->zone != owner) continue;
      std::vector<uint8_t> id = session->attribute(object, CKA_ID);
      KeyInfo key;
      key.zone = owner;
      key.role = label->role;
      key.algorithm = label->algorithm;
      key.flags = dnskey_flags(label->role);
      key.public_key = read_public_key(*session, find_key_object(*session, CKO_PUBLIC_KEY, id), key.algorithm);
      key.key_tag = compute_key_tag(dnskey_rdata(key));
      key.locator = make_locator(token_->token_label, std::string(raw_label.begin(), raw_label.end()), id);
      keys.push_back(std::move(key));
    }
    std::sort(keys.begin(), keys.end(), [](const KeyInfo& a, const KeyInfo& b) { return a.locator < b.locator; });
    return keys;
  }

  KeyInfo generate_key(const KeyRequest& request) override {
    std::string owner = canonical_zone(request.zone);
    std::vector<KeyInfo> existing = list_keys(owner);
    auto session = token_->logged_in_session();
    // A key tag already used in the zone would make validators try both keys: make another.
    for (int attempt = 0; attempt < 16; ++attempt) {
      KeyInfo key;
      key.zone = owner;
      key.role = request.role;
      key.algorithm = request.algorithm;
      key.flags = dnskey_flags(request.role);
      std::string label = make_label(owner, request.role, request.algorithm, std::time(nullptr));
      std::vector<uint8_t> id(kIdSize);
      if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) throw_openssl_error("RAND_bytes");

      KeyPairGuard pair{*session};
      generate_pair(*session, request, label, id, pair);
      key.public_key = read_public_key(*session, pair.public_key, key.algorithm);
      key.key_tag = compute_key_tag(dnskey_rdata(key));
      if (std::any_of(existing.begin(), existing.end(),
                      [&](const KeyInfo& other) { return other.key_tag == key.key_tag; }))
        continue;
      pair.keep = true;
      key.locator = make_locator(token_->token_label, label, id);
      return key;
    }
    throw KeystoreError(owner + ": could not generate a key with a key tag not already in use");
  }

  std::unique_ptr<SigningContext> open_signer(const KeyInfo& key) override {
    return std::make_unique<Pkcs11Signer>(token_, key);
  }

  std::string describe() const override { return "pkcs11:token=" + token_->token_label; }

 private:
  static void generate_pair(Pkcs11Session& session, const KeyRequest& request, const std::string& label,
                            const std::vector<uint8_t>& id, KeyPairGuard& pair) {
    const CK_BBOOL yes = CK_TRUE;
    const CK_BBOOL no = CK_FALSE;
    const CK_ULONG modulus_bits = request.rsa_bits;
    // Promise 5 of DESIGN.md: the private key is born in the token and can never leave it.
    std::vector<CK_ATTRIBUTE> private_template = {
        attribute(CKA_TOKEN, yes),       attribute(CKA_PRIVATE, yes),
        attribute(CKA_SENSITIVE, yes),   attribute(CKA_EXTRACTABLE, no),
        attribute(CKA_SIGN, yes),        attribute(CKA_LABEL, label.data(), label.size()),
        attribute(CKA_ID, id.data(), id.size()),
        // A DNSSEC key signs and does nothing else; tokens default the rest to true.
        attribute(CKA_DECRYPT, no),      attribute(CKA_UNWRAP, no),
        attribute(CKA_SIGN_RECOVER, no), attribute(CKA_DERIVE, no),
    };
    std::vector<CK_ATTRIBUTE> public_template = {
        attribute(CKA_TOKEN, yes), attribute(CKA_PRIVATE, no), attribute(CKA_VERIFY, yes),
        attribute(CKA_ENCRYPT, no), attribute(CKA_WRAP, no),
        attribute(CKA_LABEL, label.data(), label.size()), attribute(CKA_ID, id.data(), id.size()),
    };
    CK_MECHANISM mechanism{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    switch (request.algorithm) {
      case dns::Algorithm::rsasha256:
        if (request.rsa_bits < 1024 || request.rsa_bits > 4096)
          throw KeystoreError("RSA key size " + std::to_string(request.rsa_bits) + " is outside 1024..4096 bits");
        mechanism.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        public_template.push_back(attribute(CKA_MODULUS_BITS, modulus_bits));
        public_template.push_back(attribute(CKA_PUBLIC_EXPONENT, kRsaExponent, sizeof kRsaExponent));
        break;
      case dns::Algorithm::ecdsap256sha256:
        public_template.push_back(attribute(CKA_EC_PARAMS, kP256Params, sizeof kP256Params));
        break;
      case dns::Algorithm::ecdsap384sha384:
        public_template.push_back(attribute(CKA_EC_PARAMS, kP384Params, sizeof kP384Params));
        break;
      case dns::Algorithm::ed25519:
        mechanism.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
        public_template.push_back(attribute(CKA_EC_PARAMS, kEd25519Params, sizeof kEd25519Params));
        break;
    }
    check_rv(session.functions()->C_GenerateKeyPair(session.handle(), &mechanism, public_template.data(),
                                                    public_template.size(), private_template.data(),
                                                    private_template.size(), &pair.public_key, &pair.private_key),
             "C_GenerateKeyPair");
  }

  std::shared_ptr<const TokenAccess> token_;
};

}  // namespace

std::unique_ptr<Keystore> open_pkcs11_keystore(const std::string& module_path, const std::string& token_label,
                                               const std::string& pin) {
  auto token = std::make_shared<TokenAccess>();
  token->module = Pkcs11Module::open(module_path);
  token->slot = token->module->find_token(token_label);
  token->token_label = token_label;
  token->pin = pin;
  token->logged_in_session();  // fail now, not at the first signature, on a wrong PIN
  return std::make_unique<Pkcs11Keystore>(std::move(token));
}

}  // namespace wiresign::keystore
