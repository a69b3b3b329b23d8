// The check a signed zone passes before it is published (DESIGN.md promise 3),
// by a code path other than the signer's: ldns verifies the RRSIGs (RFC 4035
// §5.3) and hashes NSEC3 owners (RFC 5155 §5); the denial chain (RFC 4034 §4,
// RFC 5155 §7.1) is rebuilt from the zone's own records and compared.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"

namespace wiresign::signer {

struct SelfCheckOptions {
  uint32_t now = 0;           // validation time (seconds since the epoch); 0: the current time
  unsigned threads = 1;       // RRSIG verification and NSEC3 hashing run in parallel
  size_t max_problems = 10;   // stop collecting after this many (0: no limit)
  // DNSKEY RDATAs of keys that sign but are not published yet (an algorithm
  // rollover's new key, RFC 6781 §4.1.4): their RRSIGs verify against these.
  std::vector<std::vector<uint8_t>> unpublished_signers;
};

struct SelfCheckReport {
  size_t rrsigs_verified = 0;        // RRSIGs ldns verified successfully at `now`
  size_t chain_links_checked = 0;    // NSEC or NSEC3 records checked
  std::vector<std::string> problems; // each names the owner, type and what is wrong; empty = good
};

// Checks a whole signed zone, `zone_wire`, as sign_zone writes it in
// OutputForm::wire: uncompressed records one after another (owner, type,
// class, TTL, RDLENGTH, RDATA). Record order does not matter for the result;
// the signer's order (canonical, then NSEC3 in hash order) is the fast path.
//
// `rrsigs_to_check` lists RRSIG records (each one uncompressed wire record)
// to verify with ldns against the RRset they cover and the apex DNSKEY RRset
// of `zone_wire`; each must also be in the zone. nullptr verifies every RRSIG
// of the zone; an empty list verifies none (a chain-only check). RRSIGs not
// verified still have their validity period and signer name checked.
//
// Always, over the whole zone: the apex has SOA, NS and DNSKEY; every RRset
// that must be signed (RFC 4035 §2.2: authoritative data, and DS and NSEC at
// delegations) has an RRSIG, and nothing else has one; the NSEC chain links
// every authoritative name and delegation in canonical order with exact type
// bitmaps, or (NSEC3PARAM at the apex) every such name and empty non-terminal
// has an NSEC3 (insecure delegations may lack one under an opt-out NSEC3),
// the NSEC3 records form one closed ring in hash order, and bitmaps match.
// Problems are reported, not thrown; only a failing ldns call (out of memory)
// throws.
SelfCheckReport self_check_zone(const dns::Name& origin, std::string_view zone_wire,
                                const std::vector<std::string_view>* rrsigs_to_check, const SelfCheckOptions& options);

}  // namespace wiresign::signer
