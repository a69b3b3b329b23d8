// RRSIG verification for the self-checks (signature_verifier.h).
#include "signer/signature_verifier.h"

#include <new>
#include <utility>

namespace wiresign::signer::self_check {
namespace {

// ldns's RRSIG validity test (RFC 4034 §3.1.5, serial arithmetic).
ldns_status check_validity(const ldns_rr* rrsig, time_t now) {
  auto inception = static_cast<int32_t>(ldns_rdf2native_time_t(ldns_rr_rrsig_inception(rrsig)));
  auto expiration = static_cast<int32_t>(ldns_rdf2native_time_t(ldns_rr_rrsig_expiration(rrsig)));
  auto at = static_cast<int32_t>(now);
  if (expiration - inception < 0) return LDNS_STATUS_CRYPTO_EXPIRATION_BEFORE_INCEPTION;
  if (at - inception < 0) return LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED;
  if (expiration - at < 0) return LDNS_STATUS_CRYPTO_SIG_EXPIRED;
  return LDNS_STATUS_OK;
}

// RFC 4035 §5.3.2: the RRset as signed, built with ldns's own functions the
// way ldns_verify_rrsig_keylist does: the original TTL, a wildcard owner
// where the RRSIG has fewer labels than the owner, lower case, canonical
// order; after the RRSIG RDATA without its signature.
ldns_status signed_data(ldns_buffer* out, const ldns_rr_list* rrset, const ldns_rr* rrsig) {
  RrListPtr clone(ldns_rr_list_clone(rrset));
  if (!clone) return LDNS_STATUS_MEM_ERR;
  const uint32_t original_ttl = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(rrsig));
  const uint8_t labels = ldns_rdf2native_int8(ldns_rr_rrsig_labels(rrsig));
  for (size_t i = 0; i < ldns_rr_list_rr_count(clone.get()); ++i) {
    ldns_rr* record = ldns_rr_list_rr(clone.get(), i);
    if (labels < ldns_dname_label_count(ldns_rr_owner(record))) {
      RdfPtr chopped(ldns_rdf_clone(ldns_rr_owner(record)));
      while (chopped && labels < ldns_dname_label_count(chopped.get()))
        chopped.reset(ldns_dname_left_chop(chopped.get()));
      ldns_rdf* wildcard = nullptr;
      if (!chopped || ldns_str2rdf_dname(&wildcard, "*") != LDNS_STATUS_OK) return LDNS_STATUS_MEM_ERR;
      ldns_dname_cat(wildcard, chopped.get());
      ldns_rdf_deep_free(ldns_rr_owner(record));
      ldns_rr_set_owner(record, wildcard);
    }
    ldns_rr_set_ttl(record, original_ttl);
    ldns_rr2canonical(record);
  }
  ldns_rr_list_sort(clone.get());
  if (ldns_rrsig2buffer_wire(out, rrsig) != LDNS_STATUS_OK) return LDNS_STATUS_MEM_ERR;
  return ldns_rr_list2buffer_wire(out, clone.get());
}

}  // namespace

SignatureVerifier::SignatureVerifier(uint32_t now) : now_(now), keys_(ldns_rr_list_new()) {
  if (!keys_) throw std::bad_alloc();
}

void SignatureVerifier::add_key(RrPtr dnskey) {
  if (!dnskey) return;
  const ldns_rr* key_rr = dnskey.get();
  ldns_rr_list_push_rr(keys_.get(), dnskey.release());
  if (ldns_rr_rd_count(key_rr) < 4) return;
  const uint8_t algorithm = ldns_rdf2native_int8(ldns_rr_dnskey_algorithm(key_rr));
  if (algorithm != LDNS_ECDSAP256SHA256 && algorithm != LDNS_ECDSAP384SHA384) return;
  const ldns_rdf* public_key = ldns_rr_dnskey_key(key_rr);
  if (!public_key) return;
  EcdsaKey key{algorithm, ldns_calc_keytag(key_rr),
               PkeyPtr(ldns_ecdsa2pkey_raw(ldns_rdf_data(public_key), ldns_rdf_size(public_key), algorithm)),
               RdfPtr(ldns_rdf_clone(ldns_rr_owner(key_rr)))};
  if (key.key && key.owner) ecdsa_keys_.push_back(std::move(key));
}

ldns_status SignatureVerifier::verify(const ldns_rr_list* rrset, const ldns_rr* rrsig) {
  if (const EcdsaKey* key = ecdsa_key(rrsig)) return verify_ecdsa(*key, rrset, rrsig);
  return ldns_verify_rrsig_keylist_time(rrset, rrsig, keys_.get(), now_, nullptr);
}

// The ECDSA key an RRSIG names (algorithm and key tag), when there is exactly one.
const SignatureVerifier::EcdsaKey* SignatureVerifier::ecdsa_key(const ldns_rr* rrsig) const {
  if (ldns_rr_rd_count(rrsig) < 9) return nullptr;
  const uint8_t algorithm = ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(rrsig));
  const uint16_t key_tag = ldns_rdf2native_int16(ldns_rr_rrsig_keytag(rrsig));
  const EcdsaKey* found = nullptr;
  const ldns_rdf* signer = ldns_rr_rrsig_signame(rrsig);
  for (const auto& key : ecdsa_keys_) {
    if (key.algorithm != algorithm || key.key_tag != key_tag) continue;
    if (!signer || ldns_dname_compare(signer, key.owner.get()) != 0) return nullptr;
    if (found) return nullptr;  // two keys with one tag: ldns tries each
    found = &key;
  }
  return found;
}

ldns_status SignatureVerifier::verify_ecdsa(const EcdsaKey& key, const ldns_rr_list* rrset, const ldns_rr* rrsig) {
  if (!digest_[0]) {
    digest_[0].reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    digest_[1].reset(EVP_MD_fetch(nullptr, "SHA384", nullptr));
    signed_.reset(ldns_buffer_new(LDNS_MAX_PACKETLEN));
    signature_.reset(ldns_buffer_new(128));
    if (!digest_[0] || !digest_[1] || !signed_ || !signature_) throw std::bad_alloc();
  }
  ldns_buffer_clear(signed_.get());
  ldns_buffer_clear(signature_.get());
  ldns_status status = signed_data(signed_.get(), rrset, rrsig);
  if (status != LDNS_STATUS_OK) return status;
  status = ldns_convert_ecdsa_rrsig_rdf2asn1(signature_.get(), ldns_rr_rrsig_sig(rrsig));
  if (status != LDNS_STATUS_OK) return status;
  status = ldns_verify_rrsig_evp_raw(ldns_buffer_begin(signature_.get()), ldns_buffer_position(signature_.get()),
                                     signed_.get(), key.key.get(),
                                     digest_[key.algorithm == LDNS_ECDSAP256SHA256 ? 0 : 1].get());
  if (status != LDNS_STATUS_OK) return status;
  return check_validity(rrsig, now_);
}

}  // namespace wiresign::signer::self_check
