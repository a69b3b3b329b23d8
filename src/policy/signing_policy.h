// The signing policy a zone is signed under: algorithm and key scheme,
// signature timing, denial of existence and serial arithmetic. Built from a
// conf::PolicyConfig (or command-line options) and handed to the signer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "conf/config.h"
#include "dns/algorithm.h"

namespace wiresign::policy {

struct SigningPolicy {
  std::string name = "default";
  dns::Algorithm algorithm = dns::Algorithm::ecdsap256sha256;
  unsigned rsa_bits = 2048;
  bool csk = false;  // one key signs everything
  uint32_t dnskey_ttl_s = 3600;

  uint32_t validity_s = 14 * 86400;
  uint32_t refresh_s = 5 * 86400;
  uint32_t jitter_s = 12 * 3600;
  uint32_t inception_offset_s = 3600;
  // A re-sign publishes at most this share of the names (at least 100
  // owners), the earliest due first; more only when slices would be late.
  double resign_slice_share = 0.02;

  bool nsec3 = true;
  uint16_t nsec3_iterations = 0;  // RFC 9276 §3.1
  uint8_t nsec3_salt_length = 0;  // RFC 9276 §3.1: no salt
  bool opt_out = false;

  conf::SerialPolicy serial = conf::SerialPolicy::unixtime;
  bool resign_bump = false;  // keep: publish last serial + 1 when the input's has not moved

  // Key lifecycle (RFC 7583 §3.2 names in brackets); lifetimes of 0 are unlimited.
  uint32_t ksk_lifetime_s = 0;
  uint32_t zsk_lifetime_s = 0;
  uint32_t csk_lifetime_s = 0;
  uint32_t zone_max_ttl_s = 86400;             // [TTLsig]
  uint32_t propagation_delay_s = 3600;         // [Dprp]
  uint32_t parent_ds_ttl_s = 86400;            // [TTLds]
  uint32_t parent_propagation_delay_s = 3600;  // [DprpP]
  // [Dreg] How long the parent (registrar, registry) takes to act on a DS
  // change: not a wait of the rollover (that waits for the DS to be seen),
  // but what the lint and the timeline assume.
  uint32_t parent_registration_delay_s = 86400;
  uint32_t publish_safety_s = 3600;
  uint32_t retire_safety_s = 3600;
  unsigned standby_ksk = 0;  // with csk: standby CSKs
  unsigned standby_zsk = 0;
  bool cds = false;  // publish CDS/CDNSKEY for the DS the parent should have
  std::string ds_hook;
  uint32_t ds_check_interval_s = 3600;
  // Zones under this policy sign with the same keys (OpenDNSSEC's
  // ShareKeys): a key one zone generated is taken by the others when they
  // need one of its role, each zone still rolling it in and out by its own
  // states and its own parent's DS.
  bool share_keys = false;
  // The zone's `insecure` (a zone setting, not a policy one): the zone is
  // leaving DNSSEC, DS first (KeyRing::going_insecure).
  bool insecure = false;
};

SigningPolicy policy_from_config(const conf::PolicyConfig& config);

// RRSIG validity window for a signature made at `now` (RFC 4034 §3.1.5):
// inception is set back by the inception offset to absorb clock skew;
// expiration is shortened by up to the jitter, by a per-RRset spread value
// in [0, 2^32), so that a zone's signatures do not all expire at once.
struct SignatureWindow {
  uint32_t inception = 0;
  uint32_t expiration = 0;
};
SignatureWindow signature_window(const SigningPolicy& policy, uint32_t now, uint32_t spread);

}  // namespace wiresign::policy
