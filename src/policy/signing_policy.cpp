// Turning configuration into the policy the signer follows, and the one
// timing rule the signer needs now: each RRSIG's validity window.
#include "policy/signing_policy.h"

namespace wiresign::policy {

SigningPolicy policy_from_config(const conf::PolicyConfig& config) {
  SigningPolicy policy;
  policy.name = config.name;
  policy.algorithm = config.algorithm;
  policy.rsa_bits = config.rsa_bits;
  policy.csk = config.key_scheme == conf::KeyScheme::csk;
  policy.dnskey_ttl_s = config.dnskey_ttl_s;
  policy.validity_s = config.signatures.validity_s;
  policy.refresh_s = config.signatures.refresh_s;
  policy.jitter_s = config.signatures.jitter_s;
  policy.inception_offset_s = config.signatures.inception_offset_s;
  policy.resign_slice_share = config.signatures.slice_share;
  policy.nsec3 = config.denial.type == conf::DenialConfig::Type::nsec3;
  policy.nsec3_iterations = config.denial.iterations;
  policy.nsec3_salt_length = config.denial.salt_length;
  policy.opt_out = config.denial.opt_out;
  policy.serial = config.serial;
  policy.resign_bump = config.resign_bump;
  const conf::KeyLifecycleConfig& lifecycle = config.lifecycle;
  policy.ksk_lifetime_s = lifecycle.ksk_lifetime_s;
  policy.zsk_lifetime_s = lifecycle.zsk_lifetime_s;
  policy.csk_lifetime_s = lifecycle.csk_lifetime_s;
  policy.zone_max_ttl_s = lifecycle.zone_max_ttl_s;
  policy.propagation_delay_s = lifecycle.propagation_delay_s;
  policy.parent_ds_ttl_s = lifecycle.parent_ds_ttl_s;
  policy.parent_propagation_delay_s = lifecycle.parent_propagation_delay_s;
  policy.parent_registration_delay_s = lifecycle.parent_registration_delay_s;
  policy.publish_safety_s = lifecycle.publish_safety_s;
  policy.retire_safety_s = lifecycle.retire_safety_s;
  policy.standby_ksk = lifecycle.standby_ksk;
  policy.standby_zsk = lifecycle.standby_zsk;
  policy.cds = lifecycle.cds;
  policy.ds_hook = lifecycle.ds_hook;
  policy.ds_check_interval_s = lifecycle.ds_check_interval_s;
  policy.share_keys = lifecycle.share_keys;
  return policy;
}

SignatureWindow signature_window(const SigningPolicy& policy, uint32_t now, uint32_t spread) {
  SignatureWindow window;
  window.inception = now - policy.inception_offset_s;
  uint32_t jitter = policy.jitter_s ? spread % (policy.jitter_s + 1) : 0;
  // Serial-number arithmetic (RFC 1982) on 32-bit times makes wrap-around harmless.
  window.expiration = now + policy.validity_s - jitter;
  return window;
}

}  // namespace wiresign::policy
