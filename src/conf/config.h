// The wiresign YAML configuration, read into typed and validated settings.
// Every error names the file and line: "wiresign.yaml:14: zone "example.com":
// policy "fast" is not defined".
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/algorithm.h"

namespace wiresign::conf {

// Where a setting came from, for error messages.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string str() const { return line ? file + ":" + std::to_string(line) : file; }
};

// One or more problems in a configuration; what() lists them, one per line,
// each starting with file:line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct KeystoreConfig {
  enum class Backend { files, pkcs11 };
  std::string name;
  Backend backend = Backend::files;
  std::string directory;    // files
  std::string module;       // pkcs11: path of the PKCS#11 library
  std::string token_label;  // pkcs11
  std::string pin_file;     // pkcs11: file whose first line is the user PIN
  std::string pin;          // pkcs11: read from pin_file at load time (or given inline as "pin")
  SourceLocation where;
};

struct SignaturesConfig {
  uint32_t validity_s = 14 * 86400;
  uint32_t refresh_s = 5 * 86400;
  uint32_t jitter_s = 12 * 3600;
  uint32_t inception_offset_s = 3600;
  double slice_share = 0.02;  // at most this share of the names re-signed per publication
};

struct DenialConfig {
  enum class Type { nsec, nsec3 };
  Type type = Type::nsec3;
  uint16_t iterations = 0;   // RFC 9276: 0
  uint8_t salt_length = 0;   // RFC 9276: empty salt
  bool opt_out = false;
};

enum class SerialPolicy { keep, increment, unixtime, datecounter };
std::optional<SerialPolicy> serial_policy_from_name(std::string_view name);

enum class KeyScheme { ksk_zsk, csk };

// Key lifecycle timings (RFC 7583 §3.2 names in brackets), flat keys under a
// policy, spelt as in BIND's dnssec-policy and Knot's policy sections.
// A lifetime of 0 means "unlimited": the key is rolled only on request.
struct KeyLifecycleConfig {
  uint32_t ksk_lifetime_s = 0;                   // "ksk-lifetime"
  uint32_t zsk_lifetime_s = 0;                   // "zsk-lifetime"
  uint32_t csk_lifetime_s = 0;                   // "csk-lifetime"
  uint32_t zone_max_ttl_s = 86400;               // "zone-max-ttl": highest TTL in the zone [TTLsig]
  uint32_t propagation_delay_s = 3600;           // "propagation-delay": to all secondaries [Dprp]
  uint32_t parent_ds_ttl_s = 86400;              // "parent-ds-ttl" [TTLds]
  uint32_t parent_propagation_delay_s = 3600;    // "parent-propagation-delay" [DprpP]
  uint32_t parent_registration_delay_s = 86400;  // "parent-registration-delay" [Dreg]: the parent acting on a DS change
  uint32_t publish_safety_s = 3600;              // "publish-safety" [Ipub margin]
  uint32_t retire_safety_s = 3600;               // "retire-safety" [Iret margin]
  unsigned standby_ksk = 0;                      // "standby-ksk": published, unused KSKs
  unsigned standby_zsk = 0;                      // "standby-zsk"
  bool cds = false;                              // "cds": publish CDS/CDNSKEY (RFC 7344, RFC 8078)
  std::string ds_hook;                           // "ds-hook": command told of DS changes
  uint32_t ds_check_interval_s = 3600;           // "ds-check-interval": how often to look for the DS
  bool share_keys = false;                       // "share-keys": the policy's zones use the same keys
};

struct PolicyConfig {
  std::string name;
  std::string keystore;  // name of a KeystoreConfig
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  unsigned rsa_bits = 2048;                      // "key-size", RSA only
  KeyScheme key_scheme = KeyScheme::ksk_zsk;     // "keys: ksk-zsk | csk"
  uint32_t dnskey_ttl_s = 3600;                  // "dnskey-ttl"
  SignaturesConfig signatures;
  DenialConfig denial;
  SerialPolicy serial = SerialPolicy::unixtime;
  // With serial keep: the operator allows a re-sign whose input serial has
  // not moved to be published as the last serial + 1 ("resign-bump").
  bool resign_bump = false;
  KeyLifecycleConfig lifecycle;
  SourceLocation where;
};

struct TsigKeyConfig {
  std::string name;
  std::string algorithm;  // hmac-sha256 | hmac-sha384 | hmac-sha512 | hmac-sha1
  std::vector<uint8_t> secret;
  SourceLocation where;
};

struct ServerConfig {
  std::vector<std::string> listen;  // "127.0.0.1:5353", "[::1]:5353"
  std::string state_dir = "/var/lib/wiresign";
  std::string control;             // UNIX socket of the control API; empty: <state-dir>/control.sock
  std::string control_tcp;         // optional loopback "127.0.0.1:8953" for the control API
  std::string control_token_file;  // the bearer token control-tcp clients must send
  std::string metrics;             // optional loopback "127.0.0.1:9153" for /metrics
  uint32_t tcp_idle_timeout_s = 10;  // a TCP client idle this long between requests is closed
  uint32_t tcp_io_timeout_s = 30;    // ... or this slow to send a request or take an answer message
  unsigned max_tcp_clients = 100;    // TCP connections open at once
  // Zones worked on at once (refresh checks, transfers in, signings): the
  // size of the daemon's worker pool, whatever the number of zones.
  unsigned max_concurrent_zones = 4;
  // Run as this user ("user" or "user:group") once the ports are bound,
  // when started as root.
  std::string user;
  // "error", "warning" or "info" (every event): the least a log line must be to be written.
  std::string log_level = "info";
  // The control socket in effect.
  std::string control_socket() const { return control.empty() ? state_dir + "/control.sock" : control; }
  SourceLocation where;
};

struct ZoneConfig {
  std::string name;  // presentation form with trailing dot, lower case
  std::string policy;
  std::vector<std::string> primaries;  // "192.0.2.1:53"
  std::string file;                    // unsigned zone file instead of primaries
  std::string primary_tsig;
  std::vector<std::string> allow_notify;
  std::vector<std::string> notify;
  std::vector<std::string> allow_transfer;
  std::string transfer_tsig;
  // Sanity limit: an input that removes more than this share of the names of
  // the version in service is held back, not published (0..1).
  double max_removed_share = 0.5;
  // The journal of signed versions (IXFR out) keeps at most this many
  // versions and this many octets; older versions are answered by AXFR.
  unsigned journal_max_entries = 100;
  uint64_t journal_max_bytes = 256u << 20;
  // A transfer in of more records than this is refused (a runaway primary).
  size_t max_records = 50'000'000;
  // A transfer in that takes longer than this in all, or is bigger than
  // this many octets, is cut off (a primary trickling data or sending a
  // runaway zone cannot tie up a worker); 0: no limit.
  uint32_t transfer_timeout_s = 2 * 3600;        // "transfer-timeout" (as BIND's max-transfer-time-in)
  uint64_t max_transfer_bytes = 4ull << 30;      // "max-transfer-size"
  // Name servers of the parent zone asked whether a DS is there (RFC 7583
  // "DS seen"); empty: the operator confirms DS changes by hand.
  std::vector<std::string> parent_servers;  // "192.0.2.53:53"
  // Take the zone out of DNSSEC (RFC 8078 §4, RFC 6781 §4.3 in reverse):
  // the DS is withdrawn first (CDS/CDNSKEY delete form, ds-hook, parent
  // checked), and only once it is gone from every cache are the DNSKEYs,
  // signatures and denial chain left out; then the zone is served unsigned.
  // Set back to false, the zone is signed again with new keys.
  bool insecure = false;
  SourceLocation where;
};

struct Config {
  std::string path;
  ServerConfig server;
  std::vector<KeystoreConfig> keystores;
  std::vector<TsigKeyConfig> tsig_keys;
  std::vector<PolicyConfig> policies;
  std::vector<ZoneConfig> zones;

  const KeystoreConfig* find_keystore(std::string_view name) const;
  const PolicyConfig* find_policy(std::string_view name) const;
  const TsigKeyConfig* find_tsig_key(std::string_view name) const;
  // "Example.COM" and "example.com." both find zone "example.com.".
  const ZoneConfig* find_zone(std::string_view name) const;
};

// Reads and validates a config file. Throws ConfigError listing every problem
// found (unknown keys, bad values, dangling references), each with file:line.
Config load_config(const std::string& path);
// Same, from text (for tests); `path` is used in messages only.
Config parse_config(const std::string& text, const std::string& path);

}  // namespace wiresign::conf
