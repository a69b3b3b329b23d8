// Parsing of the addresses and ACL prefixes written in the config; the text
// form is kept so that messages and the daemon show what the operator wrote.
#include "conf/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace wiresign::conf {
namespace {

bool is_ipv4(const std::string& ip) {
  in_addr a{};
  return inet_pton(AF_INET, ip.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& ip) {
  in6_addr a{};
  return inet_pton(AF_INET6, ip.c_str(), &a) == 1;
}

// Decimal number with no sign or spaces, at most `max`.
std::optional<unsigned> parse_number(std::string_view text, unsigned max) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max)
    return std::nullopt;
  return value;
}

}  // namespace

std::string SocketAddress::str() const {
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::optional<SocketAddress> parse_socket_address(std::string_view text, uint16_t default_port) {
  SocketAddress out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.ip = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      has_port = true;
    }
    if (!is_ipv6(out.ip)) return std::nullopt;
    out.v6 = true;
  } else if (text.find(':') != text.rfind(':')) {
    // Two or more colons without brackets can only be a bare IPv6 address;
    // "2001:db8::1:53" would be ambiguous, so a port needs the brackets.
    out.ip = std::string(text);
    if (!is_ipv6(out.ip)) return std::nullopt;
    out.v6 = true;
  } else {
    auto colon = text.find(':');
    out.ip = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    if (!is_ipv4(out.ip)) return std::nullopt;
  }
  if (has_port) {
    auto port = parse_number(port_text, 65535);
    if (!port || *port == 0) return std::nullopt;
    out.port = static_cast<uint16_t>(*port);
  } else {
    if (default_port == 0) return std::nullopt;
    out.port = default_port;
  }
  return out;
}

std::optional<AddressPrefix> parse_address_prefix(std::string_view text) {
  AddressPrefix out;
  auto slash = text.find('/');
  out.ip = std::string(text.substr(0, slash));
  if (is_ipv4(out.ip)) {
    out.length = 32;
  } else if (is_ipv6(out.ip)) {
    out.v6 = true;
    out.length = 128;
  } else {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    auto length = parse_number(text.substr(slash + 1), out.length);
    if (!length) return std::nullopt;
    out.length = *length;
  }
  return out;
}

}  // namespace wiresign::conf
