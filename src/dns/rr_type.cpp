// RR type mnemonics, from ldns's descriptor table (RFC 3597 TYPEnnn otherwise).
#include "dns/rr_type.h"

#include <ldns/ldns.h>

namespace wiresign::dns {

std::string type_name(uint16_t type) {
  const ldns_rr_descriptor* descriptor = ldns_rr_descript(type);
  if (descriptor && descriptor->_name) return descriptor->_name;
  return "TYPE" + std::to_string(type);
}

bool is_dnssec_generated_type(uint16_t type) {
  // CDS/CDNSKEY too: they name the signer's keys (RFC 7344), which an
  // unsigned input cannot know; the policy's `cds` makes them.
  return type == rr_type::RRSIG || type == rr_type::NSEC || type == rr_type::NSEC3 ||
         type == rr_type::NSEC3PARAM || type == rr_type::DNSKEY || type == rr_type::CDS ||
         type == rr_type::CDNSKEY;
}

}  // namespace wiresign::dns
