// Signing a change to the version in service instead of the whole zone
// (DESIGN.md, data model): only the changed names' RRsets, the denial
// records around them (NSEC: the changed names' and the one before each
// name that joins or leaves the chain, RFC 4034 §4.1.1; NSEC3: the changed
// names', the empty non-terminals that appear or vanish above them, and the
// ring neighbours, RFC 5155 §7.1), the names below a cut that comes or goes,
// and the apex SOA are signed again; every other RRSIG stays. Changes of the
// keys, the NSEC3 parameters or the denial TTL are left to whole-zone
// signing, with the reason.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "signer/nsec3_chain.h"
#include "signer/zone.h"
#include "signer/zone_sign.h"

namespace wiresign::signer {

// What signing a change reads of the version in service.
class SignedVersionView {
 public:
  virtual ~SignedVersionView() = default;
  // Appends the records owned by `owner` (wire, any case), signatures and
  // denial records included; none when it owns none.
  virtual void records_at(std::string_view owner, std::vector<dns::RecordView>& out) const = 0;
  // Whether some name other than an NSEC3 owner lies below `owner`.
  virtual bool has_names_below(std::string_view owner) const = 0;
  // The names other than NSEC3 owners in canonical order (RFC 4034 §6.1):
  // the first after `owner`, the last before it (`owner` need not exist).
  virtual std::optional<std::string> name_after(std::string_view owner) const = 0;
  virtual std::optional<std::string> name_before(std::string_view owner) const = 0;
  // The NSEC3 ring in hash order: the first hash after `hash` (after none:
  // the first of all), the last before it (before none: the last of all).
  virtual std::optional<Nsec3Hash> nsec3_after(const std::optional<Nsec3Hash>& hash) const = 0;
  virtual std::optional<Nsec3Hash> nsec3_before(const std::optional<Nsec3Hash>& hash) const = 0;
};

struct UnsignedRecord {
  std::string owner;  // wire
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
  dns::RecordView view() const { return {owner, type, dns::kClassIN, ttl, rdata}; }
};

// A new unsigned version as a change to the one in service: its SOA, and
// the records it removes and adds (no DNSSEC records, no SOA among them).
struct UnsignedChange {
  UnsignedRecord soa;
  std::vector<UnsignedRecord> removed;
  std::vector<UnsignedRecord> added;
  // Names (wire) and NSEC3 records (by hash) signed again though their data
  // stays: a slice of a re-sign. Each of their RRSIGs is kept or renewed by
  // SignOptions::reuse_until, like any other.
  std::vector<std::string> resign;
  std::vector<Nsec3Hash> resign_hashed;
};

// One owner's records in the new signed version, as sign_zone writes them
// in OutputForm::wire; empty when the owner is gone.
struct OwnerBlock {
  std::string owner;    // wire, lower case
  bool hashed = false;  // an NSEC3 owner (sign_zone writes those after every other name)
  std::string records;
};

struct SignedChange {
  std::vector<OwnerBlock> blocks;  // the apex first, then names in canonical order, then NSEC3 owners in hash order
  SignStats stats;
  size_t names_added = 0, names_removed = 0;
};

// Whether `keys` and `options` give the apex DNSSEC records (DNSKEY, CDS,
// CDNSKEY, NSEC3PARAM) of `previous` and sign with the same keys, with `soa`
// as the new SOA; when not, `why`. Signs nothing.
bool same_keys_and_parameters(const SignedVersionView& previous, const dns::Name& origin, const UnsignedRecord& soa,
                              const ZoneKeys& keys, const SignOptions& options, std::string& why);

// Signs `change` to `previous` under `keys` and `options` (whose `reuse`
// offers the previous version's signatures). nullopt, with `why_not` set,
// when the change needs whole-zone signing (or would touch more than
// `max_names` names, or remove more than `max_net_removed` names net of
// those it adds: before any signature is made); dns::ZoneFileError naming `source` when the changed
// names break a zone rule (check_zone).
std::optional<SignedChange> sign_change(const SignedVersionView& previous, const dns::Name& origin,
                                        const UnsignedChange& change, const ZoneKeys& keys,
                                        const SignOptions& options, const std::string& source,
                                        const WarningSink& warn, std::string& why_not,
                                        size_t max_names = SIZE_MAX, size_t max_net_removed = SIZE_MAX);

}  // namespace wiresign::signer
