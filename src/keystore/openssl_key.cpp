// Software keys: the signing context (DNSSEC wire signatures, RFC 3110 §3,
// RFC 6605 §4 r||s, RFC 8080 §4; built for the hot path, every OpenSSL object
// made once per context) and BIND's v1.3 .private format for the key itself.
#include "keystore/openssl_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <map>
#include <sstream>

#include "dns/base_encoding.h"

namespace wiresign::keystore {
namespace {

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_clear_free(bn); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};

// Secrets pass through these buffers; wipe them rather than leave them in freed heap.
template <typename Buffer>
void wipe(Buffer& buffer) {
  if (!buffer.empty()) OPENSSL_cleanse(buffer.data(), buffer.size());
}

// The RSA fields of a .private file, in BIND's order, and the OpenSSL names.
struct RsaField {
  const char* bind_name;
  const char* ossl_name;
};
constexpr RsaField kRsaFields[] = {
    {"Modulus", OSSL_PKEY_PARAM_RSA_N},
    {"PublicExponent", OSSL_PKEY_PARAM_RSA_E},
    {"PrivateExponent", OSSL_PKEY_PARAM_RSA_D},
    {"Prime1", OSSL_PKEY_PARAM_RSA_FACTOR1},
    {"Prime2", OSSL_PKEY_PARAM_RSA_FACTOR2},
    {"Exponent1", OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {"Exponent2", OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {"Coefficient", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
};

void append_field(std::string& text, std::string_view name, std::span<const uint8_t> value) {
  text += name;
  text += ": ";
  dns::append_base64(text, value);
  text += '\n';
}

std::vector<uint8_t> bn_param(EVP_PKEY* key, const char* name, size_t pad_to = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw_openssl_error("EVP_PKEY_get_bn_param");
  Bn bn(raw);
  size_t size = std::max(pad_to, static_cast<size_t>(BN_num_bytes(bn.get())));
  std::vector<uint8_t> bytes(size);
  BN_bn2binpad(bn.get(), bytes.data(), static_cast<int>(size));
  return bytes;
}

EvpPkey key_from_params(const char* type, OSSL_PARAM_BLD* bld, const std::string& path) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1)
    throw_openssl_error(path + ": EVP_PKEY_fromdata");
  return EvpPkey(key);
}

struct EvpMdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

// Restores `out` to its old size unless the signature was completely written,
// so a failed sign() never leaves half a signature behind.
class AppendGuard {
 public:
  explicit AppendGuard(std::vector<uint8_t>& out) : out_(out), size_(out.size()) {}
  ~AppendGuard() {
    if (!done_) out_.resize(size_);
  }
  AppendGuard(const AppendGuard&) = delete;
  AppendGuard& operator=(const AppendGuard&) = delete;
  void commit() { done_ = true; }

 private:
  std::vector<uint8_t>& out_;
  size_t size_;
  bool done_ = false;
};

class OpensslSigner final : public SigningContext {
 public:
  OpensslSigner(EvpPkey key, dns::Algorithm alg) : key_(std::move(key)), alg_(alg), md_ctx_(EVP_MD_CTX_new()) {
    if (!md_ctx_) throw_openssl_error("EVP_MD_CTX_new");
    max_size_ = static_cast<size_t>(EVP_PKEY_get_size(key_.get()));
    if (alg_ == dns::Algorithm::ed25519) return;  // one-shot EdDSA, see sign()

    // Fetch the digest once: the legacy EVP_sha256() handle makes OpenSSL 3
    // look the implementation up again on every init.
    md_.reset(EVP_MD_fetch(nullptr, EVP_MD_get0_name(signing_digest(alg_)), nullptr));
    if (!md_) throw_openssl_error("EVP_MD_fetch");
    // The private-key operation is initialised once and reused for every
    // signature; only the digest is computed per call.
    sign_ctx_.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!sign_ctx_ || EVP_PKEY_sign_init(sign_ctx_.get()) != 1) throw_openssl_error("EVP_PKEY_sign_init");
    if (alg_ == dns::Algorithm::rsasha256) {
      // RFC 5702 §3: PKCS #1 v1.5 with the SHA-256 DigestInfo prefix.
      if (EVP_PKEY_CTX_set_rsa_padding(sign_ctx_.get(), RSA_PKCS1_PADDING) != 1 ||
          EVP_PKEY_CTX_set_signature_md(sign_ctx_.get(), md_.get()) != 1)
        throw_openssl_error("EVP_PKEY_CTX_set_signature_md");
    }
    scratch_.resize(max_size_);
  }

  void sign(std::span<const uint8_t> data, std::vector<uint8_t>& out) override {
    AppendGuard guard(out);
    if (alg_ == dns::Algorithm::ed25519) {
      sign_ed25519(data, out);
    } else {
      unsigned char hash[EVP_MAX_MD_SIZE];
      unsigned int hash_length = 0;
      if (EVP_DigestInit_ex(md_ctx_.get(), md_.get(), nullptr) != 1 ||
          EVP_DigestUpdate(md_ctx_.get(), data.data(), data.size()) != 1 ||
          EVP_DigestFinal_ex(md_ctx_.get(), hash, &hash_length) != 1)
        throw_openssl_error("EVP_Digest");
      if (alg_ == dns::Algorithm::rsasha256) {
        // RFC 3110 §3: the signature is the modulus-length octet string as is.
        size_t start = out.size();
        out.resize(start + max_size_);
        size_t length = max_size_;
        if (EVP_PKEY_sign(sign_ctx_.get(), out.data() + start, &length, hash, hash_length) != 1)
          throw_openssl_error("EVP_PKEY_sign");
        out.resize(start + length);
      } else {
        size_t length = scratch_.size();
        if (EVP_PKEY_sign(sign_ctx_.get(), scratch_.data(), &length, hash, hash_length) != 1)
          throw_openssl_error("EVP_PKEY_sign");
        append_ecdsa_raw_signature(std::span(scratch_.data(), length), ecdsa_component_size(alg_), out);
      }
    }
    guard.commit();
  }

 private:
  // Pure EdDSA (RFC 8032) has no separate digest step, so the whole message
  // goes through a one-shot EVP_DigestSign. OpenSSL 3.0 lets a one-shot
  // context sign again without a new EVP_DigestSignInit (which costs about a
  // third of an Ed25519 signature); should a later release refuse, the
  // context is initialised afresh and the signature retried.
  void sign_ed25519(std::span<const uint8_t> data, std::vector<uint8_t>& out) {
    size_t start = out.size();
    out.resize(start + max_size_);
    for (bool fresh = !ed25519_ready_;; fresh = true) {
      if (fresh) {
        EVP_MD_CTX_reset(md_ctx_.get());
        if (EVP_DigestSignInit(md_ctx_.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
          throw_openssl_error("EVP_DigestSignInit");
        ed25519_ready_ = true;
      }
      size_t length = max_size_;
      if (EVP_DigestSign(md_ctx_.get(), out.data() + start, &length, data.data(), data.size()) == 1) {
        out.resize(start + length);
        return;
      }
      if (fresh) throw_openssl_error("EVP_DigestSign");
      ERR_clear_error();
    }
  }

  EvpPkey key_;
  dns::Algorithm alg_;
  EvpMdCtx md_ctx_;
  std::unique_ptr<EVP_MD, EvpMdFree> md_;
  EvpPkeyCtx sign_ctx_;
  size_t max_size_ = 0;
  bool ed25519_ready_ = false;
  std::vector<uint8_t> scratch_;  // DER ECDSA signature before conversion to r||s
};

}  // namespace

std::unique_ptr<SigningContext> make_openssl_signer(EvpPkey key, dns::Algorithm alg) {
  return std::make_unique<OpensslSigner>(std::move(key), alg);
}

std::string format_private_key_file(EVP_PKEY* key, dns::Algorithm alg, const std::string& timestamp) {
  std::string text = "Private-key-format: v1.3\nAlgorithm: " + algorithm_label(alg) + "\n";
  if (alg == dns::Algorithm::rsasha256) {
    for (const RsaField& field : kRsaFields) {
      std::vector<uint8_t> value = bn_param(key, field.ossl_name);
      append_field(text, field.bind_name, value);
      wipe(value);
    }
  } else if (is_ecdsa(alg)) {
    // The private scalar, left-padded to the curve size as BIND writes it.
    std::vector<uint8_t> value = bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, ecdsa_component_size(alg));
    append_field(text, "PrivateKey", value);
    wipe(value);
  } else {
    // RFC 8080 §3 / RFC 8032: the Ed25519 private key is the 32-octet seed.
    std::vector<uint8_t> seed(32);
    size_t length = seed.size();
    if (EVP_PKEY_get_raw_private_key(key, seed.data(), &length) != 1 || length != 32)
      throw_openssl_error("EVP_PKEY_get_raw_private_key");
    append_field(text, "PrivateKey", seed);
    wipe(seed);
  }
  text += "Created: " + timestamp + "\nPublish: " + timestamp + "\nActivate: " + timestamp + "\n";
  return text;
}

EvpPkey parse_private_key_file(std::string_view text, dns::Algorithm alg,
                               const std::vector<uint8_t>& public_key, const std::string& path) {
  std::map<std::string, std::string> fields;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    size_t end = line.find_last_not_of(" \t\r");
    fields[line.substr(0, colon)] = start == std::string::npos ? "" : line.substr(start, end + 1 - start);
    wipe(line);
  }
  struct FieldsWiper {
    std::map<std::string, std::string>& map;
    ~FieldsWiper() {
      for (auto& entry : map) wipe(entry.second);
    }
  } wiper{fields};

  if (!fields.count("Private-key-format")) throw KeystoreError(path + ": not a BIND private key file");
  std::string algorithm = fields["Algorithm"].substr(0, fields["Algorithm"].find(' '));
  if (algorithm != std::to_string(static_cast<unsigned>(alg)))
    throw KeystoreError(path + ": algorithm " + algorithm + " does not match the .key file (" +
                        algorithm_label(alg) + ")");
  auto decode = [&](const std::string& name) {
    auto it = fields.find(name);
    if (it == fields.end()) throw KeystoreError(path + ": missing " + name);
    auto value = dns::from_base64(it->second);
    if (!value || value->empty()) throw KeystoreError(path + ": bad base64 in " + name);
    return std::move(*value);
  };

  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld) throw_openssl_error("OSSL_PARAM_BLD_new");
  if (alg == dns::Algorithm::ed25519) {
    std::vector<uint8_t> seed = decode("PrivateKey");
    EVP_PKEY* key = seed.size() == 32 ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                                      seed.data(), seed.size())
                                      : nullptr;
    wipe(seed);
    if (!key) throw KeystoreError(path + ": Ed25519 PrivateKey is not a 32-octet seed");
    return EvpPkey(key);
  }
  std::vector<Bn> numbers;  // must outlive the builder's use of them
  auto push_bn = [&](const char* ossl_name, const std::string& bind_name) {
    std::vector<uint8_t> bytes = decode(bind_name);
    numbers.emplace_back(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    wipe(bytes);
    if (!numbers.back() || OSSL_PARAM_BLD_push_BN(bld.get(), ossl_name, numbers.back().get()) != 1)
      throw_openssl_error("OSSL_PARAM_BLD_push_BN");
  };
  if (alg == dns::Algorithm::rsasha256) {
    for (const RsaField& field : kRsaFields) push_bn(field.ossl_name, field.bind_name);
    return key_from_params("RSA", bld.get(), path);
  }
  // ECDSA: group, private scalar, and the public point 04||X||Y from the DNSKEY.
  if (public_key.size() != 2 * ecdsa_component_size(alg))
    throw KeystoreError(path + ": public key length does not fit " + algorithm_label(alg));
  std::vector<uint8_t> point(1 + public_key.size(), 0x04);
  std::copy(public_key.begin(), public_key.end(), point.begin() + 1);
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, ecdsa_group_name(alg), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    throw_openssl_error("OSSL_PARAM_BLD_push");
  push_bn(OSSL_PKEY_PARAM_PRIV_KEY, "PrivateKey");
  return key_from_params("EC", bld.get(), path);
}

}  // namespace wiresign::keystore
