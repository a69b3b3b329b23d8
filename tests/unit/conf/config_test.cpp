// Loading wiresign.yaml: every field of a full config, the defaults, and the
// errors an operator sees, each with file:line and the zone/policy it is about.
#include "conf/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace wiresign::conf {
namespace {

namespace fs = std::filesystem;

// A private directory holding the config and its PIN file, removed afterwards.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "wiresign-conf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    pin_file_ = write_file("hsm.pin", "1234\n", 0600);
    config_path_ = (dir_ / "wiresign.yaml").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_file(const std::string& name, const std::string& text, mode_t mode) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

  Config parse(const std::string& text) { return parse_config(text, config_path_); }

  // The problems parse_config reports, or a single "no error" entry.
  std::vector<std::string> problems(const std::string& text) {
    try {
      parse(text);
    } catch (const ConfigError& e) {
      return e.problems();
    }
    return {"no error"};
  }

  // `problems(text)` for a one-problem config; fails the test otherwise.
  std::string problem(const std::string& text) {
    auto all = problems(text);
    EXPECT_EQ(all.size(), 1u) << ::testing::PrintToString(all);
    return all.empty() ? "" : all.front();
  }

  std::string at(int line) const { return config_path_ + ":" + std::to_string(line) + ": "; }

  fs::path dir_;
  std::string pin_file_;
  std::string config_path_;
};

// The example from the documentation, line for line; tests below refer to its line numbers.
std::string full_example(const std::string& pin_file) {
  return "server:\n"                                                                       // 1
         "  listen: [\"127.0.0.1:5353\", \"[::1]:5353\"]\n"                                // 2
         "  state-dir: /var/lib/wiresign\n"                                                // 3
         "keystores:\n"                                                                    // 4
         "  - {name: hsm, backend: pkcs11, module: /usr/lib/softhsm/libsofthsm2.so, "     //
         "token-label: wiresign, pin-file: " + pin_file + "}\n"                            // 5
         "  - {name: local, backend: files, directory: /var/lib/wiresign/keys}\n"          // 6
         "tsig-keys:\n"                                                                    // 7
         "  - {name: xfr, algorithm: hmac-sha256, secret: \"c2VjcmV0LWtleS1ieXRlcw==\"}\n" // 8
         "policies:\n"                                                                     // 9
         "  - name: default\n"                                                             // 10
         "    keystore: hsm\n"                                                             // 11
         "    algorithm: ecdsap256sha256\n"                                                // 12
         "    signatures: {validity: 14d, refresh: 5d, jitter: 12h, inception-offset: 1h}\n"  // 13
         "    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}\n"      // 14
         "    serial: unixtime\n"                                                          // 15
         "zones:\n"                                                                        // 16
         "  - name: example.com\n"                                                         // 17
         "    policy: default\n"                                                           // 18
         "    primaries: [\"192.0.2.1:53\"]\n"                                             // 19
         "    primary-tsig: xfr\n"                                                         // 20
         "    allow-notify: [\"192.0.2.1\"]\n"                                             // 21
         "    notify: [\"198.51.100.1:53\"]\n"                                             // 22
         "    allow-transfer: [\"198.51.100.0/24\", \"::1\"]\n"                            // 23
         "    transfer-tsig: xfr\n";                                                       // 24
}

// Replaces the first occurrence of `from` in the full example.
std::string example_with(const std::string& pin_file, const std::string& from, const std::string& to) {
  std::string text = full_example(pin_file);
  auto pos = text.find(from);
  if (pos == std::string::npos) ADD_FAILURE() << "not in the example: " << from;
  else text.replace(pos, from.size(), to);
  return text;
}

TEST_F(ConfigTest, ReadsEveryFieldOfTheFullExample) {
  Config config = parse(full_example(pin_file_));
  EXPECT_EQ(config.path, config_path_);

  EXPECT_EQ(config.server.listen, (std::vector<std::string>{"127.0.0.1:5353", "[::1]:5353"}));
  EXPECT_EQ(config.server.state_dir, "/var/lib/wiresign");
  EXPECT_EQ(config.server.where.line, 2);  // where its settings start

  ASSERT_EQ(config.keystores.size(), 2u);
  const auto& hsm = config.keystores[0];
  EXPECT_EQ(hsm.name, "hsm");
  EXPECT_EQ(hsm.backend, KeystoreConfig::Backend::pkcs11);
  EXPECT_EQ(hsm.module, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(hsm.token_label, "wiresign");
  EXPECT_EQ(hsm.pin_file, pin_file_);
  EXPECT_EQ(hsm.pin, "1234");
  EXPECT_EQ(hsm.where.str(), config_path_ + ":5");
  const auto& local = config.keystores[1];
  EXPECT_EQ(local.name, "local");
  EXPECT_EQ(local.backend, KeystoreConfig::Backend::files);
  EXPECT_EQ(local.directory, "/var/lib/wiresign/keys");
  EXPECT_EQ(local.where.line, 6);

  ASSERT_EQ(config.tsig_keys.size(), 1u);
  EXPECT_EQ(config.tsig_keys[0].name, "xfr");
  EXPECT_EQ(config.tsig_keys[0].algorithm, "hmac-sha256");
  EXPECT_EQ(std::string(config.tsig_keys[0].secret.begin(), config.tsig_keys[0].secret.end()),
            "secret-key-bytes");

  ASSERT_EQ(config.policies.size(), 1u);
  const auto& policy = config.policies[0];
  EXPECT_EQ(policy.name, "default");
  EXPECT_EQ(policy.keystore, "hsm");
  EXPECT_EQ(policy.algorithm, dns::Algorithm::ecdsap256sha256);
  EXPECT_EQ(policy.signatures.validity_s, 14u * 86400);
  EXPECT_EQ(policy.signatures.refresh_s, 5u * 86400);
  EXPECT_EQ(policy.signatures.jitter_s, 12u * 3600);
  EXPECT_EQ(policy.signatures.inception_offset_s, 3600u);
  EXPECT_EQ(policy.denial.type, DenialConfig::Type::nsec3);
  EXPECT_EQ(policy.denial.iterations, 0);
  EXPECT_EQ(policy.denial.salt_length, 0);
  EXPECT_FALSE(policy.denial.opt_out);
  EXPECT_EQ(policy.serial, SerialPolicy::unixtime);
  EXPECT_EQ(policy.where.line, 10);

  ASSERT_EQ(config.zones.size(), 1u);
  const auto& zone = config.zones[0];
  EXPECT_EQ(zone.name, "example.com.");
  EXPECT_EQ(zone.policy, "default");
  EXPECT_EQ(zone.primaries, (std::vector<std::string>{"192.0.2.1:53"}));
  EXPECT_EQ(zone.file, "");
  EXPECT_EQ(zone.primary_tsig, "xfr");
  EXPECT_EQ(zone.allow_notify, (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(zone.notify, (std::vector<std::string>{"198.51.100.1:53"}));
  EXPECT_EQ(zone.allow_transfer, (std::vector<std::string>{"198.51.100.0/24", "::1"}));
  EXPECT_EQ(zone.transfer_tsig, "xfr");
  EXPECT_EQ(zone.where.line, 17);
}

TEST_F(ConfigTest, FindsEntriesByName) {
  Config config = parse(full_example(pin_file_));
  EXPECT_EQ(config.find_keystore("local"), &config.keystores[1]);
  EXPECT_EQ(config.find_policy("default"), &config.policies[0]);
  EXPECT_EQ(config.find_tsig_key("xfr"), &config.tsig_keys[0]);
  EXPECT_EQ(config.find_zone("Example.COM"), &config.zones[0]);
  EXPECT_EQ(config.find_zone("example.com."), &config.zones[0]);
  EXPECT_EQ(config.find_keystore("nope"), nullptr);
  EXPECT_EQ(config.find_policy("nope"), nullptr);
  EXPECT_EQ(config.find_tsig_key("nope"), nullptr);
  EXPECT_EQ(config.find_zone("example.net"), nullptr);
}

TEST_F(ConfigTest, LoadsFromAFile) {
  write_file("wiresign.yaml", full_example(pin_file_), 0644);
  Config config = load_config(config_path_);
  EXPECT_EQ(config.zones.at(0).name, "example.com.");
}

TEST_F(ConfigTest, NamesAMissingConfigFile) {
  try {
    load_config((dir_ / "absent.yaml").string());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "absent.yaml").string() + ": cannot read: No such file or directory");
  }
}

TEST_F(ConfigTest, AnEmptyFileIsAnEmptyConfig) {
  Config config = parse("");
  EXPECT_TRUE(config.zones.empty());
  EXPECT_EQ(config.server.state_dir, "/var/lib/wiresign");
}

TEST_F(ConfigTest, FillsInDefaults) {
  Config config = parse(
      "keystores: [{name: k, backend: files, directory: /keys}]\n"
      "policies: [{name: p, keystore: k}]\n"
      "zones:\n"
      "  - {name: Example.ORG., policy: p, primaries: [\"192.0.2.1\", \"[2001:db8::53]:5300\"]}\n");
  EXPECT_EQ(config.server.state_dir, "/var/lib/wiresign");
  const auto& policy = config.policies.at(0);
  EXPECT_EQ(policy.algorithm, dns::Algorithm::ecdsap256sha256);
  EXPECT_EQ(policy.rsa_bits, 2048u);
  EXPECT_EQ(policy.key_scheme, KeyScheme::ksk_zsk);
  EXPECT_EQ(policy.dnskey_ttl_s, 3600u);
  EXPECT_EQ(policy.signatures.validity_s, 14u * 86400);
  EXPECT_EQ(policy.denial.type, DenialConfig::Type::nsec3);
  EXPECT_EQ(policy.serial, SerialPolicy::unixtime);
  const auto& zone = config.zones.at(0);
  EXPECT_EQ(zone.name, "example.org.");
  EXPECT_EQ(zone.primaries, (std::vector<std::string>{"192.0.2.1:53", "[2001:db8::53]:5300"}));
  // Without allow-notify, the primaries may notify us.
  EXPECT_EQ(zone.allow_notify, (std::vector<std::string>{"192.0.2.1", "2001:db8::53"}));
  EXPECT_TRUE(zone.allow_transfer.empty());
}

TEST_F(ConfigTest, ReadsTheExtraPolicyKeys) {
  Config config = parse(
      "keystores: [{name: k, backend: pkcs11, module: /lib/p11.so, token-label: t, pin: \"0000\"}]\n"
      "policies:\n"
      "  - {name: rsa, keystore: k, algorithm: rsasha256, key-size: 3072, keys: csk, dnskey-ttl: 1d,\n"
      "     serial: datecounter, denial: {type: nsec}}\n"
      "  - {name: ed, keystore: k, algorithm: ED25519, serial: keep,\n"
      "     denial: {type: nsec3, iterations: 10, salt-length: 8, opt-out: true}}\n");
  EXPECT_EQ(config.keystores.at(0).pin, "0000");
  EXPECT_EQ(config.keystores.at(0).pin_file, "");
  const auto& rsa = config.policies.at(0);
  EXPECT_EQ(rsa.algorithm, dns::Algorithm::rsasha256);
  EXPECT_EQ(rsa.rsa_bits, 3072u);
  EXPECT_EQ(rsa.key_scheme, KeyScheme::csk);
  EXPECT_EQ(rsa.dnskey_ttl_s, 86400u);
  EXPECT_EQ(rsa.serial, SerialPolicy::datecounter);
  EXPECT_EQ(rsa.denial.type, DenialConfig::Type::nsec);
  const auto& ed = config.policies.at(1);
  EXPECT_EQ(ed.algorithm, dns::Algorithm::ed25519);
  EXPECT_EQ(ed.serial, SerialPolicy::keep);
  // RFC 9276 would have 0 iterations and no salt, but that is for lint to say.
  EXPECT_EQ(ed.denial.iterations, 10);
  EXPECT_EQ(ed.denial.salt_length, 8);
  EXPECT_TRUE(ed.denial.opt_out);
}

TEST_F(ConfigTest, ResolvesRelativePathsAgainstTheConfigDirectory) {
  write_file("token.pin", "  5678  \nsecond line\n", 0600);
  Config config = parse(
      "server: {state-dir: state}\n"
      "keystores:\n"
      "  - {name: hsm, backend: pkcs11, module: libsofthsm2.so, token-label: t, pin-file: token.pin}\n"
      "  - {name: local, backend: files, directory: ./keys/../keys}\n"
      "policies: [{name: p, keystore: local}]\n"
      "zones: [{name: example.com, policy: p, file: zones/example.com.zone}]\n");
  EXPECT_EQ(config.server.state_dir, (dir_ / "state").string());
  EXPECT_EQ(config.keystores.at(0).pin_file, (dir_ / "token.pin").string());
  EXPECT_EQ(config.keystores.at(0).pin, "5678");
  // A bare library name is left for the dynamic loader to find.
  EXPECT_EQ(config.keystores.at(0).module, "libsofthsm2.so");
  EXPECT_EQ(config.keystores.at(1).directory, (dir_ / "keys").string());
  EXPECT_EQ(config.zones.at(0).file, (dir_ / "zones/example.com.zone").string());
  EXPECT_TRUE(config.zones.at(0).primaries.empty());
  EXPECT_TRUE(config.zones.at(0).allow_notify.empty());
}

TEST_F(ConfigTest, ReportsAnUndefinedPolicyWithFileLineAndZone) {
  auto text = example_with(pin_file_, "    policy: default\n", "    policy: fast\n");
  EXPECT_EQ(problem(text), at(18) + "zone \"example.com\": policy \"fast\" is not defined");
}

TEST_F(ConfigTest, ReportsAnUnknownKeyWithItsLineAndASuggestion) {
  auto text = example_with(pin_file_, "{validity: 14d,", "{validty: 14d,");
  EXPECT_EQ(problem(text),
            at(13) + "policy \"default\": signatures: unknown key \"validty\" (did you mean \"validity\"?)");
  EXPECT_EQ(problem("zones:\n  - name: example.com\n    polcy: x\n    file: z\n    policy: p\n"
                    "policies: [{name: p, keystore: k}]\nkeystores: [{name: k, backend: files, directory: d}]\n"),
            at(3) + "zone \"example.com\": unknown key \"polcy\" (did you mean \"policy\"?)");
  EXPECT_EQ(problem("severs: {}\n"), at(1) + "unknown key \"severs\" (did you mean \"server\"?)");
  EXPECT_EQ(problem("server: {listen: [], colour: blue}\n"), at(1) + "server: unknown key \"colour\"");
}

TEST_F(ConfigTest, ReportsEveryProblemAtOnceInFileOrder) {
  auto text = example_with(pin_file_, "    keystore: hsm\n", "    keystore: hsn\n");
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"primary-tsig: xfr", "primary-tsig: xrf"},
           {"serial: unixtime", "serial: monotonic"},
           {"\"198.51.100.1:53\"", "\"198.51.100.1:99999\""},
           {"algorithm: hmac-sha256", "algorithm: hmac-md5"}}) {
    text.replace(text.find(from), from.size(), to);
  }
  auto all = problems(text);
  ASSERT_EQ(all.size(), 5u) << ::testing::PrintToString(all);
  EXPECT_EQ(all[0], at(8) + "tsig-key \"xfr\": algorithm \"hmac-md5\" is not one of hmac-sha1, hmac-sha224, "
                            "hmac-sha256, hmac-sha384, hmac-sha512");
  EXPECT_EQ(all[1], at(11) + "policy \"default\": keystore \"hsn\" is not defined (did you mean \"hsm\"?)");
  EXPECT_EQ(all[2], at(15) + "policy \"default\": serial \"monotonic\" is not one of keep, increment, "
                             "unixtime, datecounter");
  EXPECT_EQ(all[3], at(20) + "zone \"example.com\": primary-tsig: tsig-key \"xrf\" is not defined "
                             "(did you mean \"xfr\"?)");
  EXPECT_EQ(all[4], at(22) + "zone \"example.com\": notify: \"198.51.100.1:99999\" is not an address "
                             "(like 192.0.2.1:53 or [2001:db8::1]:53)");
  try {
    parse(text);
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), all[0] + "\n" + all[1] + "\n" + all[2] + "\n" + all[3] + "\n" + all[4]);
  }
}

TEST_F(ConfigTest, TurnsYamlSyntaxErrorsIntoFileLine) {
  auto message = problem("server:\n  listen: [\"127.0.0.1:53\"\nzones: []\n");
  EXPECT_EQ(message.rfind(config_path_ + ":", 0), 0u) << message;
  EXPECT_NE(message.find("YAML syntax error"), std::string::npos) << message;
  EXPECT_EQ(problem("zones:\n  - name: a\n   bad: indentation\n").rfind(at(3), 0), 0u);
}

TEST_F(ConfigTest, RefusesDuplicateNames) {
  auto text = example_with(pin_file_, "  - {name: local,", "  - {name: hsm,");
  text += "  - name: example.net\n    policy: default\n    file: x\n"  // 25
          "  - name: example.net\n    policy: default\n    file: x\n";  // 28
  auto all = problems(text);
  ASSERT_EQ(all.size(), 2u) << ::testing::PrintToString(all);
  EXPECT_EQ(all[0], at(6) + "keystore \"hsm\" is defined twice (first at " + config_path_ + ":5)");
  EXPECT_EQ(all[1], at(28) + "zone \"example.net\" is defined twice (first at " + config_path_ + ":25)");

  EXPECT_EQ(problem("keystores: [{name: k, backend: files, directory: d}]\n"
                    "policies:\n  - {name: p, keystore: k}\n  - {name: p, keystore: k}\n"),
            at(4) + "policy \"p\" is defined twice (first at " + config_path_ + ":3)");
  EXPECT_EQ(problem("tsig-keys:\n  - {name: t, algorithm: hmac-sha1, secret: AAAA}\n"
                    "  - {name: t, algorithm: hmac-sha1, secret: AAAA}\n"),
            at(3) + "tsig-key \"t\" is defined twice (first at " + config_path_ + ":2)");
  // Zone names compare after normalization.
  EXPECT_EQ(problem("keystores: [{name: k, backend: files, directory: d}]\npolicies: [{name: p, keystore: k}]\n"
                    "zones:\n  - {name: example.com, policy: p, file: a}\n"
                    "  - {name: EXAMPLE.com., policy: p, file: b}\n"),
            at(5) + "zone \"EXAMPLE.com.\" is defined twice (first at " + config_path_ + ":4)");
}

TEST_F(ConfigTest, ChecksKeystoreBackendFields) {
  auto all = problems(
      "keystores:\n"
      "  - {name: a, backend: files}\n"
      "  - {name: b, backend: pkcs11, module: /m.so}\n"
      "  - {name: c, backend: sqlite}\n"
      "  - {backend: files, directory: /d}\n"
      "  - {name: e, backend: files, directory: /d, module: /m.so}\n"
      "  - {name: f, backend: pkcs11, module: /m.so, token-label: t, pin: \"1\", pin-file: /p}\n");
  ASSERT_EQ(all.size(), 7u) << ::testing::PrintToString(all);
  EXPECT_EQ(all[0], at(2) + "keystore \"a\": directory is required");
  EXPECT_EQ(all[1], at(3) + "keystore \"b\": token-label is required");
  EXPECT_EQ(all[2], at(3) + "keystore \"b\": pin-file is required (or an inline pin)");
  EXPECT_EQ(all[3], at(4) + "keystore \"c\": backend \"sqlite\" is not files or pkcs11");
  EXPECT_EQ(all[4], at(5) + "keystore #4: name is required");
  EXPECT_EQ(all[5], at(6) + "keystore \"e\": unknown key \"module\"");
  EXPECT_EQ(all[6], at(7) + "keystore \"f\": give either pin or pin-file, not both");
}

TEST_F(ConfigTest, RefusesAPinFileOthersCanRead) {
  ::chmod(pin_file_.c_str(), 0644);
  EXPECT_EQ(problem(full_example(pin_file_)),
            at(5) + "keystore \"hsm\": pin-file " + pin_file_ + " is readable by others (mode 0644); chmod 600 it");
  ::chmod(pin_file_.c_str(), 0640);
  EXPECT_NE(problem(full_example(pin_file_)).find("(mode 0640); chmod 600 it"), std::string::npos);
  ::chmod(pin_file_.c_str(), 0400);
  EXPECT_EQ(parse(full_example(pin_file_)).keystores.at(0).pin, "1234");
}

TEST_F(ConfigTest, NamesAMissingOrEmptyPinFile) {
  auto missing = (dir_ / "missing.pin").string();
  EXPECT_EQ(problem(full_example(missing)),
            at(5) + "keystore \"hsm\": pin-file " + missing + ": No such file or directory");
  auto empty = write_file("empty.pin", "\n", 0600);
  EXPECT_EQ(problem(full_example(empty)),
            at(5) + "keystore \"hsm\": pin-file " + empty + " has no PIN on its first line");
}

TEST_F(ConfigTest, ChecksTsigKeys) {
  auto all = problems(
      "tsig-keys:\n"
      "  - {name: a, algorithm: hmac-sha512, secret: \"not base64!\"}\n"
      "  - {name: b, algorithm: HMAC-SHA384, secret: \"AAEC\"}\n"
      "  - {name: c, secret: \"AAEC\"}\n");
  ASSERT_EQ(all.size(), 2u) << ::testing::PrintToString(all);
  EXPECT_EQ(all[0], at(2) + "tsig-key \"a\": secret is not valid base64");
  EXPECT_EQ(all[1], at(4) + "tsig-key \"c\": algorithm is required");
  Config config = parse("tsig-keys: [{name: b, algorithm: HMAC-SHA384, secret: \"AAEC\"}]\n");
  EXPECT_EQ(config.tsig_keys.at(0).algorithm, "hmac-sha384");
  EXPECT_EQ(config.tsig_keys.at(0).secret, (std::vector<uint8_t>{0, 1, 2}));
}

TEST_F(ConfigTest, ChecksSignatureTimings) {
  auto policy = [](const std::string& signatures) {
    return "keystores: [{name: k, backend: files, directory: d}]\n"
           "policies:\n"
           "  - name: p\n"
           "    keystore: k\n"
           "    signatures: " + signatures + "\n";
  };
  EXPECT_EQ(problem(policy("{validity: 5d, refresh: 5d}")),
            at(5) + "policy \"p\": signatures: refresh 5d must be less than validity 5d");
  EXPECT_EQ(problem(policy("{validity: 3d}")),
            at(5) + "policy \"p\": signatures: refresh 5d (the default) must be less than validity 3d");
  EXPECT_EQ(problem(policy("{refresh: 1d, jitter: 1d}")),
            at(5) + "policy \"p\": signatures: jitter 1d must be less than refresh 1d");
  EXPECT_EQ(problem(policy("{inception-offset: 2d}")),
            at(5) + "policy \"p\": signatures: inception-offset 2d is more than 1d; it only needs to cover clock skew");
  EXPECT_EQ(problem(policy("{validity: 0}")), at(5) + "policy \"p\": signatures: validity must be more than 0");
  EXPECT_EQ(problem(policy("{validity: 14x}")),
            at(5) + "policy \"p\": signatures: validity: \"14x\" is not a duration "
                    "(like 14d, 12h, 30m, 45s, 2w, 1d12h or seconds)");
  EXPECT_EQ(problem(policy("14d")),
            at(5) + "policy \"p\": signatures: expected a mapping of settings, found a single value");
  for (const std::string share : {"0%", "150%", "lots"})
    EXPECT_EQ(problem(policy("{slice-share: " + share + "}")),
              at(5) + "policy \"p\": signatures: slice-share: \"" + share +
                  "\" is not a percentage above 0% and up to 100% (like 2%)");
  Config config = parse(policy("{validity: 3w, refresh: 1w2d, jitter: 1d12h, inception-offset: 300}"));
  EXPECT_EQ(config.policies.at(0).signatures.validity_s, 21u * 86400);
  EXPECT_EQ(config.policies.at(0).signatures.refresh_s, 9u * 86400);
  EXPECT_EQ(config.policies.at(0).signatures.jitter_s, 36u * 3600);
  EXPECT_EQ(config.policies.at(0).signatures.inception_offset_s, 300u);
  EXPECT_DOUBLE_EQ(config.policies.at(0).signatures.slice_share, 0.02) << "the default";
  config = parse(policy("{slice-share: 5%}"));
  EXPECT_DOUBLE_EQ(config.policies.at(0).signatures.slice_share, 0.05);
}

TEST_F(ConfigTest, ChecksPolicyValues) {
  auto all = problems(
      "keystores: [{name: k, backend: files, directory: d}]\n"
      "policies:\n"
      "  - {name: a, keystore: k, algorithm: dsa}\n"
      "  - {name: b, keystore: k, algorithm: rsasha256, key-size: 512}\n"
      "  - {name: c, keystore: k, algorithm: ed25519, key-size: 2048}\n"
      "  - {name: d, keystore: k, keys: zsk-only, dnskey-ttl: forever}\n"
      "  - {name: e, keystore: k, denial: {type: nsec5}}\n"
      "  - {name: f, keystore: k, denial: {iterations: 501, salt-length: 256, opt-out: maybe}}\n"
      "  - {name: g, keystore: k, denial: {type: nsec, iterations: 0}}\n"
      "  - {keystore: k}\n");
  std::vector<std::string> expected = {
      at(3) + "policy \"a\": algorithm \"dsa\" is not one of rsasha256, ecdsap256sha256, ecdsap384sha384, ed25519",
      at(4) + "policy \"b\": key-size: \"512\" is not a number from 1024 to 4096",
      at(5) + "policy \"c\": key-size applies only to algorithm rsasha256",
      at(6) + "policy \"d\": keys \"zsk-only\" is not ksk-zsk or csk",
      at(6) + "policy \"d\": dnskey-ttl: \"forever\" is not a duration (like 14d, 12h, 30m, 45s, 2w, 1d12h or seconds)",
      at(7) + "policy \"e\": denial: type \"nsec5\" is not nsec or nsec3",
      at(8) + "policy \"f\": denial: iterations: \"501\" is not a number from 0 to 500",
      at(8) + "policy \"f\": denial: salt-length: \"256\" is not a number from 0 to 255",
      at(8) + "policy \"f\": denial: opt-out: \"maybe\" is not true or false",
      at(9) + "policy \"g\": denial: iterations applies only to type nsec3",
      at(10) + "policy #8: name is required",
  };
  EXPECT_EQ(all, expected);
}

TEST_F(ConfigTest, ChecksZoneNamesSourcesAndAddresses) {
  auto all = problems(
      "keystores: [{name: k, backend: files, directory: d}]\n"
      "policies: [{name: p, keystore: k}]\n"
      "zones:\n"
      "  - {name: \"exa mple.com\", policy: p, file: z}\n"                                     // 4
      "  - {name: a..b, policy: p, file: z}\n"                                                 // 5
      "  - {name: c.example, policy: p}\n"                                                     // 6
      "  - {name: d.example, policy: p, file: z, primaries: [\"192.0.2.1\"]}\n"                // 7
      "  - {name: e.example, policy: p, primaries: [\"192.0.2.300:53\"]}\n"                    // 8
      "  - {name: f.example, policy: p, file: z, allow-transfer: [\"10.0.0.0/33\"]}\n"         // 9
      "  - {name: g.example, policy: p, file: z, primary-tsig: t}\n"                           // 10
      "  - {name: h.example, file: z}\n"                                                       // 11
      "  - {name: i.example, policy: p, file: z, transfer-tsig: nope}\n"                       // 12
      "  - {name: j.example, policy: p, primaries: []}\n");                                    // 13
  std::vector<std::string> expected = {
      at(4) + "zone \"exa mple.com\": \"exa mple.com\" is not a valid zone name (character ' ')",
      at(5) + "zone \"a..b\": \"a..b\" is not a valid zone name (empty label in 'a..b.')",
      at(6) + "zone \"c.example\": primaries or file is required (where the unsigned zone comes from)",
      at(7) + "zone \"d.example\": give either primaries or file, not both",
      at(8) + "zone \"e.example\": primaries: \"192.0.2.300:53\" is not an address (like 192.0.2.1:53 or [2001:db8::1]:53)",
      at(9) + "zone \"f.example\": allow-transfer: \"10.0.0.0/33\" is not an address or prefix "
              "(like 192.0.2.1, 198.51.100.0/24, 2001:db8::/32)",
      at(10) + "zone \"g.example\": primary-tsig: tsig-key \"t\" is not defined",
      at(10) + "zone \"g.example\": primary-tsig needs primaries to sign transfers with",
      at(11) + "zone \"h.example\": policy is required",
      at(12) + "zone \"i.example\": transfer-tsig: tsig-key \"nope\" is not defined",
      at(13) + "zone \"j.example\": primaries is an empty list",
  };
  EXPECT_EQ(all, expected);
}

TEST_F(ConfigTest, ReadsThePipelineLimitsAndResignBump) {
  Config config = parse(
      "keystores: [{name: k, backend: files, directory: d}]\n"
      "policies: [{name: p, keystore: k, serial: keep, resign-bump: true}]\n"
      "zones:\n"
      "  - {name: a.example, policy: p, file: z, max-removed-share: 20%, journal-max-entries: 7,"
      " journal-max-size: 64M, max-records: 1000, transfer-timeout: 10m, max-transfer-size: 1G}\n"
      "  - {name: b.example, policy: p, file: z, max-removed-share: 100}\n"
      "  - {name: c.example, policy: p, file: z}\n");
  EXPECT_TRUE(config.policies[0].resign_bump);
  EXPECT_DOUBLE_EQ(config.zones[0].max_removed_share, 0.2);
  EXPECT_EQ(config.zones[0].journal_max_entries, 7u);
  EXPECT_EQ(config.zones[0].journal_max_bytes, 64u << 20);
  EXPECT_EQ(config.zones[0].max_records, 1000u);
  EXPECT_EQ(config.zones[0].transfer_timeout_s, 600u);
  EXPECT_EQ(config.zones[0].max_transfer_bytes, 1ull << 30);
  EXPECT_DOUBLE_EQ(config.zones[1].max_removed_share, 1.0);
  EXPECT_DOUBLE_EQ(config.zones[2].max_removed_share, 0.5);  // the defaults
  EXPECT_EQ(config.zones[2].journal_max_entries, 100u);
  EXPECT_EQ(config.zones[2].journal_max_bytes, 256u << 20);
  EXPECT_EQ(config.zones[2].max_records, 50'000'000u);
  EXPECT_EQ(config.zones[2].transfer_timeout_s, 7200u);
  EXPECT_EQ(config.zones[2].max_transfer_bytes, 4ull << 30);
}

TEST_F(ConfigTest, ChecksThePipelineLimitsAndResignBump) {
  auto all = problems(
      "keystores: [{name: k, backend: files, directory: d}]\n"
      "policies:\n"
      "  - {name: p, keystore: k}\n"
      "  - {name: q, keystore: k, serial: increment, resign-bump: true}\n"                         // 4
      "zones:\n"
      "  - {name: a.example, policy: p, file: z, max-removed-share: 150%}\n"                        // 6
      "  - {name: b.example, policy: p, file: z, max-removed-share: half}\n"                        // 7
      "  - {name: c.example, policy: p, file: z, journal-max-entries: 0, journal-max-size: 12X}\n"    // 8
      "  - {name: d.example, policy: p, file: z, transfer-timeout: soon, max-transfer-size: big}\n");  // 9
  std::vector<std::string> expected = {
      at(4) + "policy \"q\": resign-bump applies only to serial: keep (the other serial policies always "
              "publish a newer serial)",
      at(6) + "zone \"a.example\": max-removed-share: \"150%\" is not a percentage from 0% to 100% (like 50%)",
      at(7) + "zone \"b.example\": max-removed-share: \"half\" is not a percentage from 0% to 100% (like 50%)",
      at(8) + "zone \"c.example\": journal-max-entries: \"0\" is not a number from 1 to 1000000",
      at(8) + "zone \"c.example\": journal-max-size: \"12X\" is not a size (like 64M, 1G or 500000)",
      at(9) + "zone \"d.example\": max-transfer-size: \"big\" is not a size (like 64M, 1G or 500000)",
      at(9) + "zone \"d.example\": transfer-timeout: \"soon\" is not a duration (like 14d, 12h, 30m, 45s, 2w, 1d12h or seconds)",
  };
  EXPECT_EQ(all, expected);
}

TEST_F(ConfigTest, ReportsSectionsOfTheWrongShape) {
  auto all = problems("zones: {name: example.com}\nkeystores: hsm\nserver: [1]\n");
  std::vector<std::string> expected = {
      at(1) + "zones must be a list (entries start with \"- \")",
      at(2) + "keystores must be a list (entries start with \"- \")",
      at(3) + "server: expected a mapping of settings, found a list",
  };
  EXPECT_EQ(all, expected);
  EXPECT_EQ(problem("server:\n  listen: [\"127.0.0.1:53\"]\n  listen: [\"::1\"]\n"),
            at(3) + "server: \"listen\" is given twice (first at line 2)");
  EXPECT_EQ(problem("keystores: [{name: k, backend: files, directory: d}]\npolicies: [{name: p, keystore: k}]\n"
                    "zones:\n  - name: example.com\n    policy: p\n    file: a\n    file: b\n"),
            at(7) + "zone \"example.com\": \"file\" is given twice (first at line 6)");
  EXPECT_EQ(problem("server: {listen: [\"localhost:53\"]}\n"),
            at(1) + "server: listen: \"localhost:53\" is not an address (like 127.0.0.1:53 or [::1]:53)");
}

TEST_F(ConfigTest, ReadsShareKeysAndInsecure) {
  Config config = parse(
      "keystores: [{name: k, backend: files, directory: d}]\n"
      "policies: [{name: p, keystore: k, share-keys: true}, {name: q, keystore: k}]\n"
      "zones:\n"
      "  - {name: a.example, policy: p, file: z, insecure: true}\n"
      "  - {name: b.example, policy: q, file: z}\n");
  EXPECT_TRUE(config.policies[0].lifecycle.share_keys);
  EXPECT_FALSE(config.policies[1].lifecycle.share_keys);
  EXPECT_TRUE(config.zones[0].insecure);
  EXPECT_FALSE(config.zones[1].insecure);
}

TEST(SerialPolicyFromName, KnowsTheFourPolicies) {
  EXPECT_EQ(serial_policy_from_name("keep"), SerialPolicy::keep);
  EXPECT_EQ(serial_policy_from_name("increment"), SerialPolicy::increment);
  EXPECT_EQ(serial_policy_from_name("unixtime"), SerialPolicy::unixtime);
  EXPECT_EQ(serial_policy_from_name("datecounter"), SerialPolicy::datecounter);
  EXPECT_EQ(serial_policy_from_name("date"), std::nullopt);
}

}  // namespace
}  // namespace wiresign::conf
