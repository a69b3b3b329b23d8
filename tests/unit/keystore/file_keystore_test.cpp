// Software keys in BIND's file format: checked against BIND's own tools
// (dnssec-keygen, dnssec-dsfromkey) and an independent OpenSSL verifier.
#include <sys/stat.h>

#include <thread>

#include "dns/base_encoding.h"
#include "keystore/dnskey.h"
#include "keystore/open_keystore.h"
#include "unit/keystore/keystore_test_support.h"

namespace wiresign::keystore {
namespace {

using testing::bytes;
using testing::ds_fields;
using testing::read_text;
using testing::run;
using testing::TempDir;
using testing::verify_dnssec_signature;

KeyRequest request_for(dns::Algorithm alg, KeyRole role = KeyRole::zsk) {
  KeyRequest request;
  request.zone = "example.test.";
  request.role = role;
  request.algorithm = alg;
  request.rsa_bits = 2048;
  return request;
}

std::string key_file_of(const KeyInfo& key) {
  return key.locator.substr(0, key.locator.size() - std::string(".private").size()) + ".key";
}

mode_t mode_of(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class FileKeystoreAlgorithm : public ::testing::TestWithParam<dns::Algorithm> {};

TEST_P(FileKeystoreAlgorithm, SignaturesVerifyWithThePublicKeyFromTheDnskey) {
  TempDir dir;
  auto keystore = open_file_keystore(dir.path() + "/keys");
  KeyInfo key = keystore->generate_key(request_for(GetParam(), KeyRole::ksk));
  auto signer = keystore->open_signer(key);

  std::vector<uint8_t> data = bytes("RRSIG RDATA followed by the canonical RRset");
  std::vector<uint8_t> out = bytes("prefix");  // sign() appends
  signer->sign(data, out);
  ASSERT_GT(out.size(), 6u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 6), "prefix");
  std::vector<uint8_t> signature(out.begin() + 6, out.end());
  EXPECT_TRUE(verify_dnssec_signature(key, data, signature));

  size_t expected = GetParam() == dns::Algorithm::rsasha256         ? 256
                    : GetParam() == dns::Algorithm::ecdsap384sha384 ? 96
                                                                    : 64;
  EXPECT_EQ(signature.size(), expected);

  // The same context signs again, and a changed message does not verify.
  std::vector<uint8_t> second;
  signer->sign(bytes("another RRset"), second);
  EXPECT_TRUE(verify_dnssec_signature(key, bytes("another RRset"), second));
  EXPECT_FALSE(verify_dnssec_signature(key, bytes("another RRseT"), second));
}

TEST_P(FileKeystoreAlgorithm, KeyTagAndDsMatchDnssecDsfromkey) {
  TempDir dir;
  auto keystore = open_file_keystore(dir.path());
  KeyInfo key = keystore->generate_key(request_for(GetParam(), KeyRole::ksk));
  std::string key_file = key_file_of(key);

  char expected_name[64];
  std::snprintf(expected_name, sizeof expected_name, "Kexample.test.+%03u+%05u.key",
                static_cast<unsigned>(GetParam()), unsigned{key.key_tag});
  EXPECT_EQ(std::filesystem::path(key_file).filename().string(), expected_name);

  std::string sha256 = run("dnssec-dsfromkey -a SHA-256 " + key_file);
  EXPECT_EQ(ds_fields(sha256), ds_fields(ds_text(key, dns::DigestType::sha256, 3600)));
  std::string sha384 = run("dnssec-dsfromkey -a SHA-384 " + key_file);
  EXPECT_EQ(ds_fields(sha384), ds_fields(ds_text(key, dns::DigestType::sha384, 3600)));
  EXPECT_EQ(testing::words(sha256).at(3), std::to_string(key.key_tag));
}

TEST_P(FileKeystoreAlgorithm, ReadsAndSignsWithKeysMadeByDnssecKeygen) {
  TempDir dir;
  std::string alg(dns::algorithm_bind_name(GetParam()));
  std::string size = GetParam() == dns::Algorithm::rsasha256 ? " -b 2048" : "";
  std::string base = run("dnssec-keygen -q -a " + alg + size + " -f KSK -K " + dir.path() + " example.test");
  base = testing::words(base).at(0);

  auto keystore = open_file_keystore(dir.path());
  std::vector<KeyInfo> keys = keystore->list_keys("example.test.");
  ASSERT_EQ(keys.size(), 1u);
  const KeyInfo& key = keys[0];
  EXPECT_EQ(key.role, KeyRole::ksk);
  EXPECT_EQ(key.flags, 257);
  EXPECT_EQ(key.algorithm, GetParam());
  EXPECT_EQ(key.locator, dir.path() + "/" + base + ".private");
  EXPECT_EQ(base.substr(base.size() - 5), [&] {
    char tag[8];
    std::snprintf(tag, sizeof tag, "%05u", unsigned{key.key_tag});
    return std::string(tag);
  }());
  // Our view of BIND's .key file is the one BIND has (BIND splits the base64 into words).
  std::vector<std::string> record = testing::words(read_text(dir.path() + "/" + base + ".key").substr(
      read_text(dir.path() + "/" + base + ".key").find("example.test. IN DNSKEY")));
  std::string base64;
  for (size_t i = 6; i < record.size(); ++i) base64 += record[i];
  EXPECT_EQ(dns::from_base64(base64), key.public_key);
  EXPECT_EQ(std::vector<std::string>(record.begin(), record.begin() + 6),
            std::vector<std::string>({"example.test.", "IN", "DNSKEY", "257", "3",
                                      std::to_string(static_cast<unsigned>(GetParam()))}));

  std::vector<uint8_t> data = bytes("signed with a BIND key");
  std::vector<uint8_t> signature;
  keystore->open_signer(key)->sign(data, signature);
  EXPECT_TRUE(verify_dnssec_signature(key, data, signature));
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, FileKeystoreAlgorithm, ::testing::ValuesIn(testing::kAllAlgorithms),
                         testing::algorithm_test_name);

TEST(FileKeystore, PrivateFilesAre0600AndTheDirectory0700) {
  TempDir dir;
  std::string keys_dir = dir.path() + "/state/keys";
  auto keystore = open_file_keystore(keys_dir);
  EXPECT_EQ(mode_of(keys_dir), 0700u);
  EXPECT_EQ(mode_of(dir.path() + "/state"), 0700u);
  KeyInfo key = keystore->generate_key(request_for(dns::Algorithm::ecdsap256sha256));
  EXPECT_EQ(mode_of(key.locator), 0600u);
  std::string private_text = read_text(key.locator);
  EXPECT_NE(private_text.find("Private-key-format: v1.3\n"), std::string::npos);
  EXPECT_NE(private_text.find("Algorithm: 13 (ECDSAP256SHA256)\n"), std::string::npos);
  EXPECT_NE(private_text.find("\nCreated: 2"), std::string::npos);
  EXPECT_NE(private_text.find("\nActivate: 2"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(key_file_of(key) + ".tmp"));
}

TEST(FileKeystore, ReopenedKeystoreFindsTheSameKeys) {
  TempDir dir;
  KeyInfo ksk, zsk;
  {
    auto keystore = open_file_keystore(dir.path());
    ksk = keystore->generate_key(request_for(dns::Algorithm::ed25519, KeyRole::ksk));
    zsk = keystore->generate_key(request_for(dns::Algorithm::ed25519, KeyRole::zsk));
    auto other = request_for(dns::Algorithm::ed25519);
    other.zone = "other.test.";
    keystore->generate_key(other);
  }
  auto keystore = open_file_keystore(dir.path());
  std::vector<KeyInfo> keys = keystore->list_keys("EXAMPLE.test");  // case and trailing dot do not matter
  ASSERT_EQ(keys.size(), 2u);
  for (const KeyInfo& original : {ksk, zsk}) {
    auto found = std::find_if(keys.begin(), keys.end(), [&](const KeyInfo& k) { return k.key_tag == original.key_tag; });
    ASSERT_NE(found, keys.end());
    EXPECT_EQ(found->public_key, original.public_key);
    EXPECT_EQ(found->role, original.role);
    EXPECT_EQ(found->zone, "example.test.");
    EXPECT_EQ(found->locator, original.locator);
  }
}

TEST(FileKeystore, SeesKeysWrittenOrRemovedByAnotherKeystoreOnTheSameDirectory) {
  // The daemon keeps one keystore open while `wiresign key import` (another
  // process) writes into the directory: its index must not go stale.
  TempDir dir;
  auto daemon_side = open_file_keystore(dir.path());
  EXPECT_TRUE(daemon_side->list_keys("example.test.").empty());
  KeyInfo first = open_file_keystore(dir.path())->generate_key(request_for(dns::Algorithm::ed25519, KeyRole::ksk));
  ASSERT_EQ(daemon_side->list_keys("example.test.").size(), 1u);
  KeyInfo second = open_file_keystore(dir.path())->generate_key(request_for(dns::Algorithm::ed25519, KeyRole::zsk));
  auto keys = daemon_side->list_keys("example.test.");
  ASSERT_EQ(keys.size(), 2u);
  std::string stem = second.locator.substr(0, second.locator.size() - std::string(".private").size());
  ASSERT_EQ(::unlink((stem + ".key").c_str()), 0);
  keys = daemon_side->list_keys("example.test.");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].key_tag, first.key_tag);
  EXPECT_TRUE(daemon_side->list_keys("other.test.").empty());
}

TEST(FileKeystore, MixedCaseZoneGetsLowerCaseOwnerAndTheDsBindComputes) {
  TempDir dir;
  auto keystore = open_file_keystore(dir.path());
  KeyRequest request = request_for(dns::Algorithm::ecdsap256sha256, KeyRole::ksk);
  request.zone = "Example.TEST.";
  KeyInfo key = keystore->generate_key(request);
  EXPECT_EQ(key.zone, "example.test.");
  EXPECT_EQ(ds_fields(run("dnssec-dsfromkey -a SHA-256 " + key_file_of(key))),
            ds_fields(ds_text(key, dns::DigestType::sha256, 0, false)));
}

TEST(FileKeystore, BrokenPrivateFileIsReportedWithItsPath) {
  TempDir dir;
  auto keystore = open_file_keystore(dir.path());
  KeyInfo key = keystore->generate_key(request_for(dns::Algorithm::ecdsap256sha256));
  std::filesystem::remove(key.locator);
  std::ofstream(key.locator) << "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: !!!\n";
  try {
    keystore->list_keys("example.test.");
    FAIL() << "expected a KeystoreError";
  } catch (const KeystoreError& e) {
    EXPECT_NE(std::string(e.what()).find(key.locator), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("PrivateKey"), std::string::npos) << e.what();
  }
}

TEST(FileKeystore, PathThatIsAFileIsRejected) {
  TempDir dir;
  std::ofstream(dir.path() + "/plain") << "x";
  EXPECT_THROW(open_file_keystore(dir.path() + "/plain"), KeystoreError);
}

TEST(FileKeystore, ThreadsWithTheirOwnContextsAllSignValidly) {
  TempDir dir;
  auto keystore = open_file_keystore(dir.path());
  KeyInfo key = keystore->generate_key(request_for(dns::Algorithm::ecdsap256sha256));
  constexpr int kThreads = 8, kSignatures = 200;
  std::vector<int> valid(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto signer = keystore->open_signer(key);
      for (int i = 0; i < kSignatures; ++i) {
        std::vector<uint8_t> data = bytes("rrset " + std::to_string(t) + "/" + std::to_string(i));
        std::vector<uint8_t> signature;
        signer->sign(data, signature);
        valid[t] += verify_dnssec_signature(key, data, signature) ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(valid[t], kSignatures) << "thread " << t;
}

}  // namespace
}  // namespace wiresign::keystore
