// Network addresses as the config writes them: "192.0.2.1:53", "[2001:db8::1]:53"
// for peers and listeners, "198.51.100.0/24" or a bare address for ACL entries.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wiresign::conf {

struct SocketAddress {
  std::string ip;  // as written, without brackets: "192.0.2.1", "2001:db8::1"
  uint16_t port = 53;
  bool v6 = false;
  // "192.0.2.1:53" or "[2001:db8::1]:53", the form ZoneConfig and ServerConfig hold.
  std::string str() const;
};

// "ip:port" or "[v6]:port"; with `default_port` non-zero the port may be left
// out ("192.0.2.1", "2001:db8::1"). nullopt when not an address (checked with inet_pton).
std::optional<SocketAddress> parse_socket_address(std::string_view text, uint16_t default_port = 0);

// An ACL entry: a bare address or a prefix "ip/len" (len up to 32 or 128).
struct AddressPrefix {
  std::string ip;
  unsigned length = 0;  // 32 or 128 for a bare address
  bool v6 = false;
};
std::optional<AddressPrefix> parse_address_prefix(std::string_view text);

}  // namespace wiresign::conf
