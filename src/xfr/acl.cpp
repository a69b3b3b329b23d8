// Prefix matching for access lists.
#include "xfr/acl.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace wiresign::xfr {
namespace {

// 16 octets: IPv4 addresses as IPv4-mapped IPv6 (::ffff:a.b.c.d).
bool to_v6_bytes(const std::string& text, std::array<uint8_t, 16>& out, bool& was_v4) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out.fill(0);
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    was_v4 = true;
    return true;
  }
  was_v4 = false;
  return inet_pton(AF_INET6, text.c_str(), out.data()) == 1;
}

}  // namespace

bool address_allowed(const std::string& source, const std::vector<conf::AddressPrefix>& acl) {
  std::array<uint8_t, 16> address{};
  bool source_v4 = false;
  if (!to_v6_bytes(source, address, source_v4)) return false;
  for (const auto& entry : acl) {
    std::array<uint8_t, 16> prefix{};
    bool entry_v4 = false;
    if (!to_v6_bytes(entry.ip, prefix, entry_v4)) continue;
    unsigned bits = entry_v4 ? entry.length + 96 : entry.length;
    bool match = true;
    for (unsigned i = 0; i < bits && match; ++i) {
      uint8_t mask = static_cast<uint8_t>(0x80 >> (i % 8));
      match = (address[i / 8] & mask) == (prefix[i / 8] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::vector<conf::AddressPrefix> parse_acl(const std::vector<std::string>& entries) {
  std::vector<conf::AddressPrefix> acl;
  for (const auto& entry : entries)
    if (auto prefix = conf::parse_address_prefix(entry)) acl.push_back(*prefix);
  return acl;
}

}  // namespace wiresign::xfr
