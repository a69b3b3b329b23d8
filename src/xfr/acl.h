// Address access lists (allow-notify, allow-transfer): an address matches an
// entry when it lies in its prefix; IPv4-mapped IPv6 sources match IPv4 entries.
#pragma once
#include <string>
#include <vector>

#include "conf/address.h"

namespace wiresign::xfr {

// `source` is a textual IPv4 or IPv6 address (as a socket reports it).
bool address_allowed(const std::string& source, const std::vector<conf::AddressPrefix>& acl);

// Parses config entries ("198.51.100.0/24", "::1"); invalid ones were refused at load.
std::vector<conf::AddressPrefix> parse_acl(const std::vector<std::string>& entries);

}  // namespace wiresign::xfr
