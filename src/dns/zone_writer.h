// Presentation form of records (RFC 1035 §5.1, RFC 4034 §2.2/§3.2/§4.2,
// RFC 5155 §3.3). The records a signer makes in bulk (RRSIG, NSEC, NSEC3)
// and the common data types are printed here directly; the rest through ldns.
#pragma once
#include <cstdint>
#include <string>

#include "dns/record.h"

namespace wiresign::dns {

// Appends "owner<TAB>ttl<TAB>IN<TAB>TYPE<TAB>rdata\n" to `out`.
void append_record_text(std::string& out, const RecordView& rr);

// Only the RDATA part.
void append_rdata_text(std::string& out, uint16_t type, std::span<const uint8_t> rdata);

// RFC 4034 §3.2 timestamp: YYYYMMDDHHmmSS in UTC.
void append_timestamp(std::string& out, uint32_t seconds_since_epoch);

}  // namespace wiresign::dns
