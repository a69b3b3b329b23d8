// SOA serial policies (RFC 1982 arithmetic, RFC 1912 §2.2 date counters).
#pragma once
#include <cstdint>
#include <ctime>

#include "conf/config.h"
#include "dns/record.h"

namespace wiresign::signer {

// The serial to publish for a zone whose input has `serial`, signed at `now`.
// `keep` returns the input serial; every other policy returns a serial newer
// than `serial` in RFC 1982 terms.
uint32_t next_serial(conf::SerialPolicy policy, uint32_t serial, std::time_t now);

using dns::serial_newer;

}  // namespace wiresign::signer
