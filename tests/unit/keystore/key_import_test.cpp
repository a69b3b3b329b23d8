// Key import without a rollover: keys made by BIND's dnssec-keygen, OpenSSL
// PEM files and objects made in a SoftHSM token by pkcs11-tool keep their
// DNSKEY and key tag (checked with dnssec-dsfromkey), are found by list_keys
// like generated keys and sign (checked with an independent verifier).
#include <sys/stat.h>

#include "keystore/dnskey.h"
#include "keystore/key_import.h"
#include "keystore/open_keystore.h"
#include "keystore/pkcs11_keystore.h"
#include "keystore/pkcs11_module.h"
#include "unit/keystore/keystore_test_support.h"

namespace wiresign::keystore {
namespace {

using testing::bytes;
using testing::ds_fields;
using testing::kSoftHsmModule;
using testing::read_text;
using testing::run;
using testing::TempDir;
using testing::verify_dnssec_signature;

std::string bind_name(dns::Algorithm alg) {
  switch (alg) {
    case dns::Algorithm::rsasha256: return "RSASHA256 -b 2048";
    case dns::Algorithm::ecdsap256sha256: return "ECDSAP256SHA256";
    case dns::Algorithm::ecdsap384sha384: return "ECDSAP384SHA384";
    case dns::Algorithm::ed25519: return "ED25519";
  }
  return "?";
}

// dnssec-keygen in `dir`; returns the path without .key/.private.
std::string bind_keygen(const std::string& dir, dns::Algorithm alg, const std::string& zone, bool ksk) {
  std::string name = run("dnssec-keygen -q -K " + dir + " -a " + bind_name(alg) + (ksk ? " -f KSK " : " ") + zone);
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  return dir + "/" + name;
}

uint16_t tag_in_file_name(const std::string& base) { return static_cast<uint16_t>(std::stoul(base.substr(base.rfind('+') + 1))); }

ImportOptions for_zone(const std::string& zone) {
  ImportOptions options;
  options.zone = zone;
  return options;
}

mode_t mode_of(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void expect_signs(Keystore& store, const KeyInfo& key) {
  auto signer = store.open_signer(key);
  std::vector<uint8_t> signature;
  signer->sign(bytes("an RRset to sign"), signature);
  EXPECT_TRUE(verify_dnssec_signature(key, bytes("an RRset to sign"), signature)) << key.locator;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const KeystoreError& e) {
    return e.what();
  }
  return "(no error)";
}

class BindKeyImport : public ::testing::TestWithParam<dns::Algorithm> {};

TEST_P(BindKeyImport, KeepsTheKeyTagAndDsAndIsFoundLikeAGeneratedKey) {
  TempDir dir;
  std::string base = bind_keygen(dir.path(), GetParam(), "Example.TEST", true);
  ImportedKey imported = read_bind_key(base + ".private", for_zone("example.test"));
  EXPECT_EQ(imported.key.key_tag, tag_in_file_name(base));
  EXPECT_EQ(imported.key.role, KeyRole::ksk);
  EXPECT_EQ(imported.key.flags, 257);
  EXPECT_TRUE(imported.warnings.empty());

  auto store = open_file_keystore(dir.path() + "/keys");
  KeyInfo stored = store->import_key(imported);
  EXPECT_EQ(stored.key_tag, imported.key.key_tag);
  std::vector<KeyInfo> listed = store->list_keys("example.test.");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].public_key, imported.key.public_key);
  EXPECT_EQ(listed[0].locator, stored.locator);
  EXPECT_EQ(mode_of(stored.locator), 0600);

  std::string stored_key_file = stored.locator.substr(0, stored.locator.size() - 8) + ".key";
  EXPECT_EQ(ds_fields(run("dnssec-dsfromkey -2 " + stored_key_file)), ds_fields(run("dnssec-dsfromkey -2 " + base + ".key")));
  EXPECT_EQ(ds_fields(ds_text(listed[0], dns::DigestType::sha256, 0)), ds_fields(run("dnssec-dsfromkey -2 " + base + ".key")));
  expect_signs(*store, listed[0]);
}

TEST_P(BindKeyImport, IntoSoftHsmCreatesASensitiveObjectThatSigns) {
  TempDir dir;
  std::string base = bind_keygen(dir.path(), GetParam(), "example.test", false);
  ImportedKey imported = read_bind_key(base + ".key", for_zone("example.test."));
  EXPECT_EQ(imported.key.role, KeyRole::zsk);
  testing::SoftHsmToken token;
  {
    auto store = open_pkcs11_keystore(kSoftHsmModule, "wiresign-test", "1234");
    KeyInfo stored = store->import_key(imported);
    EXPECT_EQ(stored.key_tag, tag_in_file_name(base));
    std::vector<KeyInfo> listed = store->list_keys("example.test.");
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].public_key, imported.key.public_key);
    EXPECT_EQ(listed[0].role, KeyRole::zsk);
    expect_signs(*store, listed[0]);
    EXPECT_NE(error_of([&] { store->import_key(imported); }).find("already in the keystore"), std::string::npos);

    auto module = Pkcs11Module::open(kSoftHsmModule);
    Pkcs11Session session(module, module->find_token("wiresign-test"));
    session.login("1234");
    CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE query[] = {{CKA_CLASS, &private_class, sizeof private_class}};
    auto objects = session.find_objects(query);
    ASSERT_EQ(objects.size(), 1u);
    EXPECT_TRUE(session.bool_attribute(objects[0], CKA_SENSITIVE));
    EXPECT_FALSE(session.bool_attribute(objects[0], CKA_EXTRACTABLE));
    EXPECT_FALSE(session.bool_attribute(objects[0], CKA_DECRYPT));
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, BindKeyImport, ::testing::ValuesIn(testing::kAllAlgorithms),
                         testing::algorithm_test_name);

TEST(KeyImport, RefusesAKeyOfAnotherZone) {
  TempDir dir;
  std::string base = bind_keygen(dir.path(), dns::Algorithm::ecdsap256sha256, "example.test", true);
  std::string error = error_of([&] { read_bind_key(base + ".key", for_zone("example.org")); });
  EXPECT_NE(error.find("for zone example.test., not example.org."), std::string::npos) << error;

  // A file renamed for another zone than the DNSKEY inside says.
  std::string renamed = dir.path() + "/Kexample.org.+013+" + std::to_string(tag_in_file_name(base));
  run("cp " + base + ".key " + renamed + ".key && cp " + base + ".private " + renamed + ".private");
  error = error_of([&] { read_bind_key(renamed + ".key", for_zone("example.test")); });
  EXPECT_NE(error.find("file name is for zone example.org."), std::string::npos) << error;
}

TEST(KeyImport, RefusesARoleTheFlagsContradict) {
  TempDir dir;
  std::string base = bind_keygen(dir.path(), dns::Algorithm::ed25519, "example.test", true);
  ImportOptions options = for_zone("example.test");
  options.role = KeyRole::zsk;
  std::string error = error_of([&] { read_bind_key(base + ".key", options); });
  EXPECT_NE(error.find("change the key tag"), std::string::npos) << error;
  options.role = KeyRole::csk;
  EXPECT_EQ(read_bind_key(base + ".key", options).key.role, KeyRole::csk);
}

TEST(KeyImport, RefusesAPrivateKeyOfAnotherKey) {
  TempDir dir;
  std::string first = bind_keygen(dir.path(), dns::Algorithm::ecdsap256sha256, "example.test", true);
  std::string second = bind_keygen(dir.path(), dns::Algorithm::ecdsap256sha256, "example.test", false);
  run("cp " + second + ".private " + first + ".private");
  std::string error = error_of([&] { read_bind_key(first + ".key", for_zone("example.test")); });
  EXPECT_NE(error.find("does not match its public key"), std::string::npos) << error;
}

TEST(KeyImport, RefusesARevokedKey) {
  TempDir dir;
  std::string base = bind_keygen(dir.path(), dns::Algorithm::ecdsap256sha256, "example.test", true);
  std::string revoked = run("dnssec-revoke -K " + dir.path() + " " + base + ".key");
  while (!revoked.empty() && revoked.back() == '\n') revoked.pop_back();
  std::string path = revoked.find('/') == std::string::npos ? dir.path() + "/" + revoked : revoked;
  std::string error = error_of([&] { read_bind_key(path + ".key", for_zone("example.test")); });
  EXPECT_NE(error.find("revoked"), std::string::npos) << error;
}

TEST(KeyImport, WarnsAboutAReadablePrivateFileAndWeakRsa) {
  TempDir dir;
  std::string base = run("dnssec-keygen -q -K " + dir.path() + " -a RSASHA256 -b 1024 example.test");
  base = dir.path() + "/" + base.substr(0, base.find('\n'));
  ::chmod((base + ".private").c_str(), 0644);
  ImportedKey imported = read_bind_key(base + ".private", for_zone("example.test"));
  ASSERT_EQ(imported.warnings.size(), 2u);
  EXPECT_NE(imported.warnings[0].find("readable by other users (mode 0644)"), std::string::npos);
  EXPECT_NE(imported.warnings[1].find("1024 bits"), std::string::npos);
}

TEST(KeyImport, PemKeyGetsTheDnskeyBindComputes) {
  TempDir dir;
  std::string pem = dir.path() + "/ksk.pem";
  run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + pem);
  ImportOptions options = for_zone("example.test");
  options.role = KeyRole::ksk;
  EXPECT_NE(error_of([&] { read_pem_key(pem, options); }).find("needs --algorithm"), std::string::npos);
  options.algorithm = dns::Algorithm::ed25519;
  EXPECT_NE(error_of([&] { read_pem_key(pem, options); }).find("the key is EC P-256"), std::string::npos);
  options.algorithm = dns::Algorithm::ecdsap256sha256;
  ImportedKey imported = read_key_for_import(pem, options);
  auto store = open_file_keystore(dir.path() + "/keys");
  KeyInfo stored = store->import_key(imported);
  std::string key_file = stored.locator.substr(0, stored.locator.size() - 8) + ".key";
  // BIND reads the file we wrote, and its DS names the tag we computed.
  std::string ds = ds_fields(run("dnssec-dsfromkey -2 " + key_file));
  EXPECT_EQ(ds.substr(0, ds.find(' ')), std::to_string(stored.key_tag));
  EXPECT_EQ(ds, ds_fields(ds_text(stored, dns::DigestType::sha256, 0)));
  expect_signs(*store, store->list_keys("example.test")[0]);
}

TEST(KeyImport, RefusesAnEncryptedPemWithoutPrompting) {
  TempDir dir;
  std::string pem = dir.path() + "/locked.pem";
  run("openssl genpkey -algorithm ED25519 -aes-256-cbc -pass pass:secret -out " + pem);
  ImportOptions options = for_zone("example.test");
  options.role = KeyRole::csk;
  options.algorithm = dns::Algorithm::ed25519;
  EXPECT_NE(error_of([&] { read_pem_key(pem, options); }).find("encrypted"), std::string::npos);
}

TEST(KeyImport, KeyTagCheckTellsADuplicateFromAClash) {
  KeyInfo existing;
  existing.zone = "example.test.";
  existing.key_tag = 4711;
  existing.public_key = {1, 2, 3};
  existing.locator = "/keys/Kexample.test.+013+04711.private";
  KeyInfo same = existing;
  same.locator = "/old/Kexample.test.+013+04711.key";
  EXPECT_NE(error_of([&] { check_key_tag_free({existing}, same); }).find("already in the keystore"), std::string::npos);
  KeyInfo other = same;
  other.public_key = {4, 5, 6};
  EXPECT_NE(error_of([&] { check_key_tag_free({existing}, other); }).find("already used by another key"),
            std::string::npos);
  other.key_tag = 4712;
  EXPECT_EQ(error_of([&] { check_key_tag_free({existing}, other); }), "(no error)");
}

TEST(KeyImport, ParsesPkcs11IdsInTheFormsToolsPrint) {
  EXPECT_EQ(parse_hex_id("0a0B0c"), (std::vector<uint8_t>{0x0a, 0x0b, 0x0c}));
  EXPECT_EQ(parse_hex_id("0x0a:0b:0c"), (std::vector<uint8_t>{0x0a, 0x0b, 0x0c}));
  EXPECT_FALSE(parse_hex_id("abc"));
  EXPECT_FALSE(parse_hex_id("zz"));
  EXPECT_FALSE(parse_hex_id(""));
}

TEST(KeyAdoption, TakesOverATokenObjectByLabelWithoutCopyingIt) {
  testing::SoftHsmToken token;
  run(std::string("pkcs11-tool --module ") + kSoftHsmModule +
      " --token-label wiresign-test --login --pin 1234 --keypairgen --key-type EC:prime256v1"
      " --label ods-key --id 0a0b0c0d --usage-sign");
  auto store = open_pkcs11_keystore(kSoftHsmModule, "wiresign-test", "1234");
  EXPECT_TRUE(store->list_keys("example.test.").empty());

  AdoptRequest request;
  request.zone = "example.test";
  request.role = KeyRole::ksk;
  request.algorithm = dns::Algorithm::ecdsap256sha256;
  request.label = "ods-key";
  std::vector<std::string> notes;
  request.key_tag = 1;  // the wrong tag: refused before anything changes
  EXPECT_NE(error_of([&] { store->adopt_key(request, notes); }).find("(--key-tag)"), std::string::npos);
  request.key_tag.reset();
  request.algorithm = dns::Algorithm::ed25519;
  EXPECT_NE(error_of([&] { store->adopt_key(request, notes); }).find("is a key for 13"), std::string::npos);
  request.algorithm = dns::Algorithm::ecdsap256sha256;

  KeyInfo adopted = store->adopt_key(request, notes);
  EXPECT_NE(adopted.locator.find("id=%0a%0b%0c%0d"), std::string::npos) << adopted.locator;
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes.back().find("from \"ods-key\""), std::string::npos);
  std::vector<KeyInfo> listed = store->list_keys("example.test.");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key_tag, adopted.key_tag);
  EXPECT_EQ(listed[0].flags, 257);
  expect_signs(*store, listed[0]);
  // Still one private key object in the token: adopted, not copied.
  std::string objects = run(std::string("pkcs11-tool --module ") + kSoftHsmModule +
                            " --token-label wiresign-test --login --pin 1234 --list-objects --type privkey");
  EXPECT_EQ(objects.find("Private Key Object"), objects.rfind("Private Key Object")) << objects;
  EXPECT_NE(objects.find("never extractable"), std::string::npos) << objects;

  request.label.clear();
  request.id = {0x0a, 0x0b, 0x0c, 0x0d};
  EXPECT_NE(error_of([&] { store->adopt_key(request, notes); }).find("already a wiresign key"), std::string::npos);
}

TEST(KeyAdoption, FilesKeystoreRefusesAdoption) {
  TempDir dir;
  auto store = open_file_keystore(dir.path());
  std::vector<std::string> notes;
  EXPECT_NE(error_of([&] { store->adopt_key(AdoptRequest{}, notes); }).find("not one"), std::string::npos);
}

}  // namespace
}  // namespace wiresign::keystore
