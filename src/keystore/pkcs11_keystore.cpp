// DNSSEC keys generated and used inside a PKCS#11 token: C_GenerateKeyPair
// with non-extractable private keys, public keys read back into DNSKEY form
// (RFC 3110 §2, RFC 6605 §4, RFC 8080 §3), signing with one session per thread.
#include "keystore/pkcs11_keystore.h"

#include <openssl/rand.h>

#include <algorithm>
#include <ctime>

#include "keystore/algorithm.h"
#include "keystore/zone_name.h"
#include "keystore/dnskey.h"
#include "keystore/pkcs11_key_import.h"
#include "keystore/pkcs11_module.h"
#include "keystore/pkcs11_objects.h"

namespace wiresign::keystore {
namespace {

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

  KeyInfo import_key(const ImportedKey& imported) override {
    std::vector<KeyInfo> existing = list_keys(imported.key.zone);
    auto session = token_->logged_in_session();
    return create_imported_key_objects(*session, token_->token_label, imported, existing);
  }

  KeyInfo adopt_key(const AdoptRequest& request, std::vector<std::string>& notes) override {
    AdoptRequest canonical = request;
    canonical.zone = canonical_zone(request.zone);
    std::vector<KeyInfo> existing = list_keys(canonical.zone);
    auto session = token_->logged_in_session();
    return adopt_key_object(*session, token_->token_label, canonical, existing, notes);
  }

  std::unique_ptr<SigningContext> open_signer(const KeyInfo& key) override {
    return std::make_unique<Pkcs11Signer>(token_, key);
  }

  std::string describe() const override { return "pkcs11:token=" + token_->token_label; }

 private:
  static void generate_pair(Pkcs11Session& session, const KeyRequest& request, const std::string& label,
                            const std::vector<uint8_t>& id, KeyPairGuard& pair) {
    const CK_ULONG modulus_bits = request.rsa_bits;
    // Promise 5 of DESIGN.md: the private key is born in the token and can never leave it.
    std::vector<CK_ATTRIBUTE> private_template = dnssec_private_key_template(label, id);
    std::vector<CK_ATTRIBUTE> public_template = dnssec_public_key_template(label, id);
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
