// One RRSIG's verification against the apex DNSKEYs, shared by the
// whole-zone check (self_check.cpp) and the change check
// (self_check_change.cpp). ldns decides; for ECDSA (RFC 6605) the key is
// converted for OpenSSL once per DNSKEY, not once per signature as
// ldns_verify_rrsig_keylist does (most of the cost of a check was that
// conversion). One verifier per thread: it owns its ldns objects.
// Include it last, as ldns_owned.h.
#pragma once
#include <cstdint>
#include <vector>

#include "signer/ldns_owned.h"

namespace wiresign::signer::self_check {

class SignatureVerifier {
 public:
  explicit SignatureVerifier(uint32_t now);
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  // A DNSKEY that signatures may be made with (the verifier keeps it).
  void add_key(RrPtr dnskey);
  // ldns's verdict on `rrsig` over `rrset` (the covered RRset, as in the
  // zone): RFC 4035 §5.3, validity period included.
  ldns_status verify(const ldns_rr_list* rrset, const ldns_rr* rrsig);

 private:
  struct EcdsaKey {
    uint8_t algorithm = 0;
    uint16_t key_tag = 0;
    PkeyPtr key;
    RdfPtr owner;
  };
  const EcdsaKey* ecdsa_key(const ldns_rr* rrsig) const;
  ldns_status verify_ecdsa(const EcdsaKey& key, const ldns_rr_list* rrset, const ldns_rr* rrsig);

  time_t now_;
  RrListPtr keys_;
  std::vector<EcdsaKey> ecdsa_keys_;
  MdPtr digest_[2];
  BufferPtr signed_, signature_;
};

}  // namespace wiresign::signer::self_check
