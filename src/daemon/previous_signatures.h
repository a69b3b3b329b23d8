// The published signed version as a source of reusable RRSIGs: what makes
// re-signing incremental (only changed or due RRsets get new signatures);
// and as what a change is signed against (signer::sign_change).
#pragma once
#include <memory>

#include "signer/incremental_sign.h"
#include "signer/zone_sign.h"
#include "xfr/signed_zone.h"

namespace wiresign::daemon {

class PreviousSignatures : public signer::SignatureSource {
 public:
  explicit PreviousSignatures(std::shared_ptr<const xfr::SignedZone> zone) : zone_(std::move(zone)) {}
  void signatures_over(const signer::RRsetToSign& rrset, std::vector<std::span<const uint8_t>>& out) const override;

 private:
  std::shared_ptr<const xfr::SignedZone> zone_;
};

// The version in service as signer::sign_change reads it.
class ServedVersionView : public signer::SignedVersionView {
 public:
  explicit ServedVersionView(const xfr::SignedZone& zone) : zone_(zone) {}
  void records_at(std::string_view owner, std::vector<dns::RecordView>& out) const override;
  bool has_names_below(std::string_view owner) const override { return zone_.has_names_below(owner); }
  std::optional<std::string> name_after(std::string_view owner) const override {
    auto name = zone_.name_after(owner);
    return name ? std::optional<std::string>(*name) : std::nullopt;
  }
  std::optional<std::string> name_before(std::string_view owner) const override {
    auto name = zone_.name_before(owner);
    return name ? std::optional<std::string>(*name) : std::nullopt;
  }
  std::optional<signer::Nsec3Hash> nsec3_after(const std::optional<signer::Nsec3Hash>& hash) const override;
  std::optional<signer::Nsec3Hash> nsec3_before(const std::optional<signer::Nsec3Hash>& hash) const override;

 private:
  const xfr::SignedZone& zone_;
};

// The hash an NSEC3 owner's first label spells (RFC 5155 §3: base32hex);
// nullopt for no owner; throws when the label is not a hash.
std::optional<signer::Nsec3Hash> nsec3_owner_hash(std::string_view owner);

// The NSEC3 salt of a signed version (from its NSEC3PARAM), so that a
// re-sign keeps the chain and the journal holds only real changes.
std::optional<std::vector<uint8_t>> nsec3_salt_of(const xfr::SignedZone& zone);

// The earliest RRSIG expiration in a signed version (seconds since the
// epoch), or nullopt when it has none.
std::optional<uint32_t> earliest_expiration(const xfr::SignedZone& zone);

}  // namespace wiresign::daemon
