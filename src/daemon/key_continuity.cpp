// The served DNSKEY RRset against the keys a keystore still holds.
#include "daemon/key_continuity.h"

#include <algorithm>

#include "dns/record.h"
#include "dns/rr_type.h"
#include "keystore/dnskey.h"

namespace wiresign::daemon {

void check_served_keys_available(const xfr::SignedZone& served, const std::vector<keystore::KeyInfo>& available,
                                 const std::string& keystore_name) {
  std::vector<std::vector<uint8_t>> held;
  for (const auto& key : available) held.push_back(keystore::dnskey_rdata(key));
  std::string missing;
  bool any_ksk = false;
  for (const auto& rr : served.lookup(served.origin().wire(), dns::rr_type::DNSKEY, false)) {
    if (rr.rdata.size() < 4 || !(dns::get_u16(rr.rdata.data()) & 1)) continue;  // SEP bit: a KSK or CSK
    any_ksk = true;
    std::vector<uint8_t> rdata(rr.rdata.begin(), rr.rdata.end());
    if (std::find(held.begin(), held.end(), rdata) != held.end()) return;  // one KSK left keeps the chain
    missing += (missing.empty() ? "" : ", ") + std::to_string(keystore::compute_key_tag(rr.rdata));
  }
  if (!any_ksk) return;
  throw keystore::KeystoreError(
      "keystore \"" + keystore_name + "\" holds none of the KSKs the version in service publishes (key tag " +
      missing + "); not creating new keys, since their DNSKEY would match no DS at the parent. Make the token " +
      "or key directory with those keys available again (the last good version stays in service meanwhile)");
}

}  // namespace wiresign::daemon
