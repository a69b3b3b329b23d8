// ldns's objects owned by std::unique_ptr, for the self-check's sources
// (self_check*.cpp), the only code that calls ldns after parsing. Include
// it last: <ldns/ldns.h> defines `bool`, `true` and `false` as macros, which
// upset standard headers included after it.
#pragma once
#include <memory>

#include <ldns/ldns.h>
#include <openssl/evp.h>

namespace wiresign::signer::self_check {

struct LdnsFree {
  void operator()(ldns_rr* record) const { ldns_rr_free(record); }
  void operator()(ldns_rr_list* list) const { ldns_rr_list_deep_free(list); }
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
  void operator()(ldns_buffer* buffer) const { ldns_buffer_free(buffer); }
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
using RrPtr = std::unique_ptr<ldns_rr, LdnsFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, LdnsFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsFree>;
using BufferPtr = std::unique_ptr<ldns_buffer, LdnsFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, LdnsFree>;
using MdPtr = std::unique_ptr<EVP_MD, LdnsFree>;

}  // namespace wiresign::signer::self_check
