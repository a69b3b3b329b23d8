// Helpers for the keystore tests: temporary directories, running BIND's tools,
// a private SoftHSM token, and an OpenSSL signature check written apart from
// keystore/ (so a mistake in the DNSKEY or r||s encoding cannot cancel out).
#pragma once
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "keystore/keystore.h"

namespace wiresign::keystore::testing {

// A fresh directory under $TMPDIR, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wiresign-ks-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs a shell command; returns its standard output. Fails the test on a non-zero exit.
inline std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) output.append(buffer.data(), n);
  int status = ::pclose(pipe.release());
  EXPECT_EQ(status, 0) << command << "\n" << output;
  return output;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// "example.test. IN DS 12345 13 2 ABCD..." -> "12345 13 2 ABCD..." with the
// digest joined into one upper-case word, whatever spacing the tool used.
inline std::string ds_fields(const std::string& line) {
  std::vector<std::string> w = words(line);
  size_t at = 0;
  while (at < w.size() && w[at] != "DS") ++at;
  if (at + 4 >= w.size()) return "unparsable: " + line;
  std::string digest;
  for (size_t i = at + 4; i < w.size(); ++i) digest += w[i];
  for (char& c : digest) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return w[at + 1] + " " + w[at + 2] + " " + w[at + 3] + " " + digest;
}

// Rebuilds the public key from the DNSKEY Public Key field and verifies `signature`
// (DNSSEC form) over `data` with EVP_DigestVerify.
inline bool verify_dnssec_signature(const KeyInfo& key, std::span<const uint8_t> data,
                                    std::span<const uint8_t> signature) {
  using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  Pkey pkey(nullptr, EVP_PKEY_free);
  const EVP_MD* md = nullptr;
  std::vector<uint8_t> der_signature(signature.begin(), signature.end());
  const std::vector<uint8_t>& field = key.public_key;

  auto from_params = [&](const char* type, OSSL_PARAM_BLD* bld) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    EVP_PKEY* raw = nullptr;
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &raw, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    pkey.reset(raw);
  };

  if (key.algorithm == dns::Algorithm::rsasha256) {
    // RFC 3110 §2 by hand.
    size_t exponent_length = field.at(0), offset = 1;
    if (exponent_length == 0) exponent_length = (size_t{field.at(1)} << 8) | field.at(2), offset = 3;
    BIGNUM* e = BN_bin2bn(field.data() + offset, static_cast<int>(exponent_length), nullptr);
    BIGNUM* n = BN_bin2bn(field.data() + offset + exponent_length,
                          static_cast<int>(field.size() - offset - exponent_length), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(e);
    BN_free(n);
    md = EVP_sha256();
  } else if (key.algorithm == dns::Algorithm::ed25519) {
    pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, field.data(), field.size()));
  } else {
    bool p384 = key.algorithm == dns::Algorithm::ecdsap384sha384;
    size_t width = p384 ? 48 : 32;
    if (field.size() != 2 * width || signature.size() != 2 * width) return false;
    std::vector<uint8_t> point{0x04};
    point.insert(point.end(), field.begin(), field.end());
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, p384 ? "P-384" : "P-256", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    // RFC 6605 §4 r||s back to DER for OpenSSL.
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(signature.data(), static_cast<int>(width), nullptr),
                   BN_bin2bn(signature.data() + width, static_cast<int>(width), nullptr));
    unsigned char* der = nullptr;
    int der_length = i2d_ECDSA_SIG(sig, &der);
    der_signature.assign(der, der + der_length);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    md = p384 ? EVP_sha384() : EVP_sha256();
  }
  if (!pkey) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey.get()) == 1 &&
            EVP_DigestVerify(ctx, der_signature.data(), der_signature.size(), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

inline std::vector<uint8_t> bytes(std::string_view text) { return std::vector<uint8_t>(text.begin(), text.end()); }

constexpr dns::Algorithm kAllAlgorithms[] = {dns::Algorithm::rsasha256, dns::Algorithm::ecdsap256sha256,
                                             dns::Algorithm::ecdsap384sha384, dns::Algorithm::ed25519};

inline std::string algorithm_test_name(const ::testing::TestParamInfo<dns::Algorithm>& info) {
  return std::string(dns::algorithm_name(info.param));
}

constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

// A SoftHSM token in a private directory, labelled "wiresign-test" with user
// PIN 1234. SOFTHSM2_CONF must point at it before the module is initialised.
class SoftHsmToken {
 public:
  SoftHsmToken() {
    std::filesystem::create_directory(dir_.path() + "/tokens");
    conf_ = dir_.path() + "/softhsm2.conf";
    std::ofstream(conf_) << "directories.tokendir = " << dir_.path() << "/tokens\n"
                         << "objectstore.backend = file\nlog.level = ERROR\n";
    ::setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
    run("softhsm2-util --init-token --free --label wiresign-test --pin 1234 --so-pin 5678");
  }
  const std::string& directory() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::string conf_;
};

}  // namespace wiresign::keystore::testing
