// Keys in a real SoftHSM token: generated inside it, non-extractable, found
// again after a restart, signing from several threads, recovering from lost
// sessions; errors name the PKCS#11 call and its CKR code.
#include <thread>

#include "conf/config.h"
#include "keystore/dnskey.h"
#include "keystore/open_keystore.h"
#include "keystore/pkcs11_keystore.h"
#include "keystore/pkcs11_module.h"
#include "unit/keystore/keystore_test_support.h"

namespace wiresign::keystore {
namespace {

using testing::bytes;
using testing::kSoftHsmModule;
using testing::verify_dnssec_signature;

// One private token per test suite; every keystore is released at the end so
// the module is finalised before the next suite points SoftHSM elsewhere.
class Pkcs11Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    token_ = new testing::SoftHsmToken();
    keystore_ = open_pkcs11_keystore(kSoftHsmModule, "wiresign-test", "1234").release();
  }
  static void TearDownTestSuite() {
    delete keystore_;
    keystore_ = nullptr;
    delete token_;
    token_ = nullptr;
  }

  static KeyRequest request(const std::string& zone, dns::Algorithm alg, KeyRole role = KeyRole::zsk) {
    KeyRequest r;
    r.zone = zone;
    r.algorithm = alg;
    r.role = role;
    r.rsa_bits = 2048;
    return r;
  }

  // A session of our own on the test token, to look at what the keystore made.
  static std::unique_ptr<Pkcs11Session> inspect_session() {
    auto module = Pkcs11Module::open(kSoftHsmModule);
    auto session = std::make_unique<Pkcs11Session>(module, module->find_token("wiresign-test"));
    session->login("1234");
    return session;
  }

  static CK_OBJECT_HANDLE private_key_labelled(Pkcs11Session& session, const std::string& zone) {
    CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE query[] = {{CKA_CLASS, &private_class, sizeof private_class}};
    for (CK_OBJECT_HANDLE object : session.find_objects(query)) {
      std::vector<uint8_t> label = session.attribute(object, CKA_LABEL);
      if (std::string(label.begin(), label.end()).find(" " + zone + " ") != std::string::npos) return object;
    }
    ADD_FAILURE() << "no private key labelled for " << zone;
    return CK_INVALID_HANDLE;
  }

  static inline testing::SoftHsmToken* token_ = nullptr;
  static inline Keystore* keystore_ = nullptr;
};

class Pkcs11Algorithm : public Pkcs11Test, public ::testing::WithParamInterface<dns::Algorithm> {
 protected:
  std::string zone(const std::string& test) const {
    return std::string(dns::algorithm_name(GetParam())) + "." + test + ".test.";
  }
};

TEST_P(Pkcs11Algorithm, SignaturesVerifyWithThePublicKeyReadFromTheToken) {
  KeyInfo key = keystore_->generate_key(request(zone("sign"), GetParam(), KeyRole::ksk));
  EXPECT_EQ(key.flags, 257);
  EXPECT_EQ(key.key_tag, compute_key_tag(dnskey_rdata(key)));
  EXPECT_EQ(key.locator.rfind("pkcs11:token=wiresign-test;object=wiresign%20", 0), 0u) << key.locator;

  auto signer = keystore_->open_signer(key);
  std::vector<uint8_t> data = bytes("RRSIG RDATA and the canonical RRset");
  std::vector<uint8_t> out = bytes("xy");
  signer->sign(data, out);
  std::vector<uint8_t> signature(out.begin() + 2, out.end());
  EXPECT_TRUE(verify_dnssec_signature(key, data, signature));
  EXPECT_FALSE(verify_dnssec_signature(key, bytes("something else"), signature));
  size_t expected = GetParam() == dns::Algorithm::rsasha256         ? 256
                    : GetParam() == dns::Algorithm::ecdsap384sha384 ? 96
                                                                    : 64;
  EXPECT_EQ(signature.size(), expected);
}

TEST_P(Pkcs11Algorithm, PrivateKeyIsSensitiveAndNeverLeavesTheToken) {
  keystore_->generate_key(request(zone("attrs"), GetParam()));
  auto session = inspect_session();
  CK_OBJECT_HANDLE key = private_key_labelled(*session, zone("attrs"));
  EXPECT_TRUE(session->bool_attribute(key, CKA_SENSITIVE));
  EXPECT_FALSE(session->bool_attribute(key, CKA_EXTRACTABLE));
  EXPECT_TRUE(session->bool_attribute(key, CKA_PRIVATE));
  EXPECT_TRUE(session->bool_attribute(key, CKA_TOKEN));
  EXPECT_TRUE(session->bool_attribute(key, CKA_SIGN));
  EXPECT_TRUE(session->bool_attribute(key, CKA_NEVER_EXTRACTABLE));
  EXPECT_TRUE(session->bool_attribute(key, CKA_ALWAYS_SENSITIVE));

  // The secret itself cannot be read.
  CK_ATTRIBUTE_TYPE secret = GetParam() == dns::Algorithm::rsasha256 ? CKA_PRIVATE_EXPONENT : CKA_VALUE;
  try {
    session->attribute(key, secret);
    ADD_FAILURE() << "the private key value was readable";
  } catch (const KeystoreError& e) {
    EXPECT_NE(std::string(e.what()).find("CKR_ATTRIBUTE_SENSITIVE"), std::string::npos) << e.what();
  }
}

TEST_P(Pkcs11Algorithm, KeyTagAndDsMatchDnssecDsfromkey) {
  KeyInfo key = keystore_->generate_key(request(zone("ds"), GetParam(), KeyRole::ksk));
  testing::TempDir dir;
  std::string file = dir.path() + "/dnskey.zone";
  std::ofstream(file) << dnskey_text(key, 3600) << "\n";
  std::string output = testing::run("dnssec-dsfromkey -a SHA-256 -f " + file + " " + key.zone);
  EXPECT_EQ(testing::ds_fields(output), testing::ds_fields(ds_text(key, dns::DigestType::sha256, 3600)));
  EXPECT_EQ(testing::words(output).at(3), std::to_string(key.key_tag));
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, Pkcs11Algorithm, ::testing::ValuesIn(testing::kAllAlgorithms),
                         testing::algorithm_test_name);

TEST_F(Pkcs11Test, KeysAreFoundAgainAfterReopeningWithTheirRoles) {
  std::vector<KeyInfo> made;
  for (KeyRole role : {KeyRole::ksk, KeyRole::zsk, KeyRole::csk})
    made.push_back(keystore_->generate_key(request("reopen.test.", dns::Algorithm::ecdsap256sha256, role)));
  keystore_->generate_key(request("other.reopen.test.", dns::Algorithm::ecdsap256sha256));

  auto reopened = open_pkcs11_keystore(kSoftHsmModule, "wiresign-test", "1234");
  std::vector<KeyInfo> found = reopened->list_keys("Reopen.TEST");
  ASSERT_EQ(found.size(), 3u);
  for (const KeyInfo& original : made) {
    auto it = std::find_if(found.begin(), found.end(), [&](const KeyInfo& k) { return k.locator == original.locator; });
    ASSERT_NE(it, found.end()) << original.locator;
    EXPECT_EQ(it->key_tag, original.key_tag);
    EXPECT_EQ(it->role, original.role);
    EXPECT_EQ(it->flags, original.flags);
    EXPECT_EQ(it->public_key, original.public_key);
    EXPECT_EQ(it->zone, "reopen.test.");

    std::vector<uint8_t> signature;
    reopened->open_signer(*it)->sign(bytes("after a restart"), signature);
    EXPECT_TRUE(verify_dnssec_signature(original, bytes("after a restart"), signature));
  }
}

TEST_F(Pkcs11Test, WrongPinNamesTheCallAndTheCode) {
  try {
    open_pkcs11_keystore(kSoftHsmModule, "wiresign-test", "0000");
    FAIL() << "a wrong PIN was accepted";
  } catch (const KeystoreError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("C_Login"), std::string::npos) << message;
    EXPECT_NE(message.find("CKR_PIN_INCORRECT"), std::string::npos) << message;
  }
}

TEST_F(Pkcs11Test, MissingTokenAndModuleAreReported) {
  try {
    open_pkcs11_keystore(kSoftHsmModule, "no-such-token", "1234");
    FAIL() << "opened a token that does not exist";
  } catch (const KeystoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-token"), std::string::npos) << e.what();
  }
  EXPECT_THROW(open_pkcs11_keystore("/nonexistent/libpkcs11.so", "wiresign-test", "1234"), KeystoreError);
}

TEST_F(Pkcs11Test, ThreadsWithTheirOwnContextsAllSignValidly) {
  std::vector<KeyInfo> keys = {
      keystore_->generate_key(request("threads.test.", dns::Algorithm::ecdsap256sha256)),
      keystore_->generate_key(request("threads.test.", dns::Algorithm::ed25519)),
  };
  constexpr int kThreads = 8, kSignatures = 100;
  std::vector<int> valid(kThreads, 0);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        const KeyInfo& key = keys[t % keys.size()];
        auto signer = keystore_->open_signer(key);
        for (int i = 0; i < kSignatures; ++i) {
          std::vector<uint8_t> data = bytes("rrset " + std::to_string(t) + "/" + std::to_string(i));
          std::vector<uint8_t> signature;
          signer->sign(data, signature);
          valid[t] += verify_dnssec_signature(key, data, signature) ? 1 : 0;
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    EXPECT_EQ(valid[t], kSignatures) << "thread " << t;
  }
}

TEST_F(Pkcs11Test, SignerRecoversWhenTheModuleDropsItsSession) {
  KeyInfo key = keystore_->generate_key(request("recover.test.", dns::Algorithm::ecdsap256sha256));
  auto signer = keystore_->open_signer(key);
  std::vector<uint8_t> signature;
  signer->sign(bytes("before"), signature);

  // What a token reset looks like to the application: every session is gone
  // and with the last one the login state too.
  auto module = Pkcs11Module::open(kSoftHsmModule);
  check_rv(module->functions()->C_CloseAllSessions(module->find_token("wiresign-test")), "C_CloseAllSessions");

  signature.clear();
  signer->sign(bytes("after"), signature);
  EXPECT_TRUE(verify_dnssec_signature(key, bytes("after"), signature));
  EXPECT_EQ(keystore_->list_keys("recover.test.").size(), 1u);
}

TEST_F(Pkcs11Test, OpenKeystoreFollowsTheConfiguration) {
  conf::KeystoreConfig config;
  config.name = "hsm";
  config.backend = conf::KeystoreConfig::Backend::pkcs11;
  config.module = kSoftHsmModule;
  config.token_label = "wiresign-test";
  config.pin = "1234";
  config.where = {"wiresign.yaml", 7};
  EXPECT_EQ(open_keystore(config)->describe(), "pkcs11:token=wiresign-test");

  config.pin = "4321";
  try {
    open_keystore(config);
    FAIL() << "a wrong PIN was accepted";
  } catch (const KeystoreError& e) {
    EXPECT_EQ(std::string(e.what()), "wiresign.yaml:7: keystore \"hsm\": C_Login: CKR_PIN_INCORRECT");
  }

  testing::TempDir dir;
  conf::KeystoreConfig files;
  files.name = "soft";
  files.backend = conf::KeystoreConfig::Backend::files;
  files.directory = dir.path() + "/keys";
  EXPECT_EQ(open_keystore(files)->describe(), "files:" + dir.path() + "/keys");
}

}  // namespace
}  // namespace wiresign::keystore
