// Structural checks an unsigned zone must pass before it is signed
// (RFC 1034 §3.6.2, RFC 2181 §5.2, RFC 4035 §2.4, RFC 6672 §2.3).
#pragma once
#include <string>

#include "signer/zone.h"

namespace wiresign::signer {

// Throws dns::ZoneFileError ("FILE:LINE: ...") on: no SOA at the apex, more
// than one SOA, SOA below the apex, no NS at the apex, CNAME and other data,
// several CNAMEs at one name, DS where there is no delegation, data below a
// DNAME. Normalises RRsets whose TTLs differ to the lowest TTL, warning once
// per RRset.
void check_zone(Zone& zone, const std::string& file, const WarningSink& warn);

}  // namespace wiresign::signer
