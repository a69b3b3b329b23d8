// Signing a whole zone: classify names (apex, delegation, occluded, empty
// non-terminal), build the NSEC or NSEC3 chain, sign every authoritative
// RRset in parallel (one signing context per key per thread), and stream
// the signed zone out in canonical order as it is produced.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keystore/keystore.h"
#include "policy/signing_policy.h"
#include "signer/rrset_sign.h"
#include "signer/zone.h"

namespace wiresign::signer {

struct ZoneKeys {
  keystore::Keystore* keystore = nullptr;
  std::vector<keystore::KeyInfo> dnskey_signers;  // KSKs (or the CSK): sign DNSKEY, CDS, CDNSKEY
  std::vector<keystore::KeyInfo> zone_signers;    // ZSKs (or the CSK): sign everything else
  // ZSKs being replaced: an RRset's signature by one of them is kept, in
  // place of a new one by the zone signer of the same algorithm, until it
  // comes due (options.reuse_until); they make no new signatures. Their
  // DNSKEY stays published meanwhile.
  std::vector<keystore::KeyInfo> retiring_zone_signers;
  // The apex DNSKEY RRset when a rollover decides it (a successor published
  // before it signs, a retired key after it stopped, a standby key); empty:
  // the signers' keys. A signer need not be in it (an algorithm rollover
  // signs with the new algorithm before publishing its key, RFC 6781 §4.1.4).
  std::vector<keystore::KeyInfo> dnskeys;
  // RFC 7344: CDS (SHA-256) and CDNSKEY for these keys at the apex; or,
  // going insecure, the RFC 8078 §4 delete form.
  std::vector<keystore::KeyInfo> cds;
  bool cds_delete = false;
  // The zone has left DNSSEC (its DS is gone from every cache): it is
  // published without DNSKEY, NSEC/NSEC3 or RRSIG records, and the key
  // lists are empty.
  bool serve_unsigned = false;
};

// How sign_zone hands the signed zone over: master-file text, or each record's
// uncompressed wire form (owner, type, class, TTL, RDLENGTH, RDATA) in a row.
enum class OutputForm { text, wire };

// The signatures of the version published before, offered for reuse so that
// a new version re-signs only what changed or is due (incremental signing).
class SignatureSource {
 public:
  virtual ~SignatureSource() = default;
  // Appends to `out` the RRSIG RDATAs that covered exactly `rrset` (same
  // owner, type, TTL and RDATAs) in the earlier version. Called from every
  // signing thread at once.
  virtual void signatures_over(const RRsetToSign& rrset, std::vector<std::span<const uint8_t>>& out) const = 0;
};

struct SignOptions {
  policy::SigningPolicy policy;
  unsigned threads = 1;
  uint32_t now = 0;  // signing time, seconds since the epoch (the clock is the caller's)
  std::vector<uint8_t> nsec3_salt;  // policy.nsec3_salt_length octets, chosen by the caller
  OutputForm output = OutputForm::text;
  // The serial already published for this zone, if any: a new version must be
  // newer than it even when the input's serial has not moved (a re-sign).
  std::optional<uint32_t> published_serial;
  // When set, an RRSIG of `reuse` is kept instead of signing anew when it was
  // made by the same key over the same RRset, has begun (inception <= now)
  // and expires after `reuse_until`.
  const SignatureSource* reuse = nullptr;
  uint32_t reuse_until = 0;
};

struct SignStats {
  size_t names = 0;
  size_t records_in = 0;
  size_t rrsets_signed = 0;
  size_t rrsigs = 0;          // in the output, reused ones included
  size_t rrsigs_reused = 0;   // kept from the earlier version (SignOptions::reuse)
  size_t denial_records = 0;   // NSEC or NSEC3
  size_t empty_non_terminals = 0;
  size_t occluded_names = 0;
  uint32_t serial = 0;
};

struct SignProgress {
  size_t done = 0;   // units (names, then NSEC3 records) written so far
  size_t total = 0;
};

// Receives the signed zone in canonical order (then the NSEC3 records in hash
// order), chunk by chunk, in the SignOptions' output form. Chunks end on
// record boundaries.
using ChunkSink = std::function<void(std::string_view)>;
using ProgressSink = std::function<void(const SignProgress&)>;

// Makes a loaded zone ready to sign: adds the DNSKEY RRset and (for NSEC3)
// NSEC3PARAM at the apex, finalizes it, runs check_zone (errors name `file`),
// and sets the SOA serial by the policy. Returns the serial to publish.
uint32_t prepare_zone(Zone& zone, const ZoneKeys& keys, const SignOptions& options,
                      const std::string& file, const WarningSink& warn);

// Signs the prepared zone and writes it to `sink`. Throws on keystore errors.
SignStats sign_zone(const Zone& zone, const ZoneKeys& keys, const SignOptions& options,
                    const ChunkSink& sink, const ProgressSink& progress = {});

}  // namespace wiresign::signer
