// The "policies" section: algorithm, key scheme, signature timings (RFC 6781
// §4.4), authenticated denial (NSEC, or NSEC3 with RFC 9276 parameters), serial,
// and the key lifecycle timings of RFC 7583.
#include "conf/config_reader.h"
#include "conf/duration.h"

namespace wiresign::conf {
namespace {

void read_signatures(Fields& policy, const YAML::Node& node, SignaturesConfig& out) {
  Fields fields(policy.problems(), node, policy.context() + ": signatures");
  fields.allow_only({"validity", "refresh", "jitter", "inception-offset", "slice-share"});
  if (auto v = fields.duration("validity")) out.validity_s = *v;
  if (auto v = fields.duration("refresh")) out.refresh_s = *v;
  if (auto v = fields.duration("jitter")) out.jitter_s = *v;
  if (auto v = fields.duration("inception-offset")) out.inception_offset_s = *v;
  if (auto share = fields.string("slice-share")) {
    std::optional<double> value = parse_percentage(*share);
    if (value && *value > 0)
      out.slice_share = *value;
    else
      fields.problem(*fields.find("slice-share"),
                     "slice-share: \"" + *share + "\" is not a percentage above 0% and up to 100% (like 2%)");
  }

  // Each check points at the value that is most likely the mistake.
  auto at = [&](std::string_view key) { return fields.has(key) ? *fields.find(key) : fields.node(); };
  // A value nobody wrote must not look like a typo in the file.
  auto value = [&](std::string_view key, uint32_t seconds) {
    return std::string(key) + " " + duration_text(seconds) + (fields.has(key) ? "" : " (the default)");
  };
  if (out.validity_s == 0) {
    fields.problem(at("validity"), "validity must be more than 0");
    return;
  }
  // Signatures are renewed `refresh` before they expire; renewing at or after
  // issue would re-sign the zone continuously.
  if (out.refresh_s >= out.validity_s)
    fields.problem(at("refresh"), value("refresh", out.refresh_s) + " must be less than " +
                                      value("validity", out.validity_s));
  else if (out.jitter_s >= out.refresh_s)
    fields.problem(at("jitter"), value("jitter", out.jitter_s) + " must be less than " +
                                     value("refresh", out.refresh_s));
  // The offset only covers clock skew between us and validators; a large one
  // eats into the validity and hides a wrong clock.
  if (out.inception_offset_s >= out.validity_s)
    fields.problem(at("inception-offset"), value("inception-offset", out.inception_offset_s) +
                                               " must be less than " + value("validity", out.validity_s));
  else if (out.inception_offset_s > 86400)
    fields.problem(at("inception-offset"), value("inception-offset", out.inception_offset_s) +
                                               " is more than 1d; it only needs to cover clock skew");
}

void read_denial(Fields& policy, const YAML::Node& node, DenialConfig& out) {
  Fields fields(policy.problems(), node, policy.context() + ": denial");
  fields.allow_only({"type", "iterations", "salt-length", "opt-out"});
  if (auto type = fields.string("type")) {
    if (*type == "nsec")
      out.type = DenialConfig::Type::nsec;
    else if (*type == "nsec3")
      out.type = DenialConfig::Type::nsec3;
    else
      fields.problem(*fields.find("type"), "type \"" + *type + "\" is not nsec or nsec3");
  }
  // RFC 9276 §3.1 asks for 0 iterations and no salt; more is accepted here
  // (lint's business), but 500 is where validators stop trying (RFC 9276 §3.2).
  if (auto v = fields.number("iterations", 0, 500)) out.iterations = static_cast<uint16_t>(*v);
  if (auto v = fields.number("salt-length", 0, 255)) out.salt_length = static_cast<uint8_t>(*v);
  if (auto v = fields.boolean("opt-out")) out.opt_out = *v;
  if (out.type == DenialConfig::Type::nsec) {
    for (std::string_view key : {"iterations", "salt-length", "opt-out"})
      if (fields.has(key))
        fields.problem(*fields.find(key), std::string(key) + " applies only to type nsec3");
  }
}

// A key lifetime: a duration, or "unlimited" (kept as 0: roll only on request).
void read_lifetime(Fields& fields, std::string_view key, uint32_t& out) {
  const YAML::Node* value = fields.find(key);
  if (!value) return;
  if (value->IsScalar() && value->Scalar() == "unlimited") {
    out = 0;
    return;
  }
  auto seconds = fields.duration(key);
  if (!seconds) return;
  if (*seconds == 0)
    fields.problem(*value, std::string(key) + " must be more than 0 (or \"unlimited\")");
  else
    out = *seconds;
}

// The key lifecycle settings (RFC 7583 timings), flat under the policy like
// BIND's dnssec-policy and Knot's policy; see KeyLifecycleConfig.
void read_lifecycle(Fields& fields, KeyLifecycleConfig& out) {
  read_lifetime(fields, "ksk-lifetime", out.ksk_lifetime_s);
  read_lifetime(fields, "zsk-lifetime", out.zsk_lifetime_s);
  read_lifetime(fields, "csk-lifetime", out.csk_lifetime_s);
  for (auto [key, slot] : {std::pair{"zone-max-ttl", &out.zone_max_ttl_s},
                           std::pair{"propagation-delay", &out.propagation_delay_s},
                           std::pair{"parent-ds-ttl", &out.parent_ds_ttl_s},
                           std::pair{"parent-propagation-delay", &out.parent_propagation_delay_s},
                           std::pair{"parent-registration-delay", &out.parent_registration_delay_s},
                           std::pair{"publish-safety", &out.publish_safety_s},
                           std::pair{"retire-safety", &out.retire_safety_s}}) {
    if (auto seconds = fields.duration(key)) *slot = *seconds;
  }
  if (auto seconds = fields.duration("ds-check-interval")) {
    if (*seconds == 0)
      fields.problem(*fields.find("ds-check-interval"), "ds-check-interval must be more than 0");
    else
      out.ds_check_interval_s = *seconds;
  }
  if (auto count = fields.number("standby-ksk", 0, 4)) out.standby_ksk = *count;
  if (auto count = fields.number("standby-zsk", 0, 4)) out.standby_zsk = *count;
  if (auto cds = fields.boolean("cds")) out.cds = *cds;
  if (auto hook = fields.string("ds-hook")) out.ds_hook = *hook;
  if (auto share = fields.boolean("share-keys")) out.share_keys = *share;
}

void read_policy(ConfigReader& reader, const YAML::Node& node, size_t index) {
  Fields fields(reader.problems, node, "policy #" + std::to_string(index + 1));
  PolicyConfig policy;
  policy.where = reader.problems.where(node);
  auto name = fields.string("name", true);
  if (name) fields.set_context("policy \"" + *name + "\"");
  fields.allow_only({"name", "keystore", "algorithm", "key-size", "keys", "dnskey-ttl", "signatures",
                     "denial", "serial", "resign-bump", "ksk-lifetime", "zsk-lifetime", "csk-lifetime",
                     "zone-max-ttl", "propagation-delay", "parent-ds-ttl", "parent-propagation-delay",
                     "parent-registration-delay", "publish-safety", "retire-safety", "standby-ksk", "standby-zsk",
                     "cds", "ds-hook", "ds-check-interval", "share-keys"});

  if (auto keystore = fields.string("keystore", true)) {
    policy.keystore = *keystore;
    if (!reader.config.find_keystore(*keystore))
      fields.problem(*fields.find("keystore"), not_defined("keystore", *keystore, reader.config.keystores));
  }
  bool algorithm_known = true;
  if (auto algorithm = fields.string("algorithm")) {
    auto alg = dns::algorithm_from_name(*algorithm);
    algorithm_known = alg.has_value();
    if (alg)
      policy.algorithm = *alg;
    else
      fields.problem(*fields.find("algorithm"),
                     "algorithm \"" + *algorithm +
                         "\" is not one of rsasha256, ecdsap256sha256, ecdsap384sha384, ed25519");
  }
  if (auto bits = fields.number("key-size", 1024, 4096)) {
    policy.rsa_bits = *bits;
    // Only RSA has a choice of size; for the others it would be silently ignored.
    if (algorithm_known && policy.algorithm != dns::Algorithm::rsasha256)
      fields.problem(*fields.find("key-size"), "key-size applies only to algorithm rsasha256");
  }
  if (auto keys = fields.string("keys")) {
    if (*keys == "ksk-zsk")
      policy.key_scheme = KeyScheme::ksk_zsk;
    else if (*keys == "csk")
      policy.key_scheme = KeyScheme::csk;
    else
      fields.problem(*fields.find("keys"), "keys \"" + *keys + "\" is not ksk-zsk or csk");
  }
  if (auto ttl = fields.duration("dnskey-ttl")) policy.dnskey_ttl_s = *ttl;
  if (auto* signatures = fields.find("signatures")) read_signatures(fields, *signatures, policy.signatures);
  if (auto* denial = fields.find("denial")) read_denial(fields, *denial, policy.denial);
  if (auto serial = fields.string("serial")) {
    if (auto policy_serial = serial_policy_from_name(*serial))
      policy.serial = *policy_serial;
    else
      fields.problem(*fields.find("serial"),
                     "serial \"" + *serial + "\" is not one of keep, increment, unixtime, datecounter");
  }
  if (auto bump = fields.boolean("resign-bump")) {
    policy.resign_bump = *bump;
    if (*bump && policy.serial != SerialPolicy::keep)
      fields.problem(*fields.find("resign-bump"), "resign-bump applies only to serial: keep (the other "
                                                  "serial policies always publish a newer serial)");
  }
  read_lifecycle(fields, policy.lifecycle);
  // A KSK or ZSK lifetime under a CSK policy (or the reverse) would be
  // silently ignored; it is more likely a mistake than an intent.
  bool csk = policy.key_scheme == KeyScheme::csk;
  for (std::string_view key : {"ksk-lifetime", "zsk-lifetime", "standby-zsk"})
    if (csk && fields.has(key))
      fields.problem(*fields.find(key),
                     std::string(key) + " applies only to keys: ksk-zsk (use csk-lifetime, standby-ksk)");
  if (!csk && fields.has("csk-lifetime"))
    fields.problem(*fields.find("csk-lifetime"), "csk-lifetime applies only to keys: csk");
  if (!name || !check_unique(fields, reader.config.policies, *name, "policy")) return;
  policy.name = *name;
  reader.config.policies.push_back(std::move(policy));
}

}  // namespace

void read_policies(ConfigReader& reader, const YAML::Node& section) {
  for_each_entry(reader, section, "policies",
                 [&](const YAML::Node& node, size_t index) { read_policy(reader, node, index); });
}

}  // namespace wiresign::conf
