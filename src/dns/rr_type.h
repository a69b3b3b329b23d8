// RR type and class numbers wiresign handles specially (RFC 1035, RFC 4034,
// RFC 5155, RFC 7344), and their mnemonics.
#pragma once
#include <cstdint>
#include <string>

namespace wiresign::dns {

namespace rr_type {
constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16,
                   AAAA = 28, SRV = 33, NAPTR = 35, DNAME = 39, DS = 43, RRSIG = 46,
                   NSEC = 47, DNSKEY = 48, NSEC3 = 50, NSEC3PARAM = 51, CDS = 59,
                   CDNSKEY = 60, CAA = 257;
}  // namespace rr_type

constexpr uint16_t kClassIN = 1;

// "AAAA", or "TYPE65534" for types without a mnemonic (RFC 3597).
std::string type_name(uint16_t type);

// Types only the signer may create: they are dropped from unsigned input.
bool is_dnssec_generated_type(uint16_t type);

}  // namespace wiresign::dns
