// DNS messages (RFC 1035 §4.1) parsed into plain structs and built back to
// wire form with name compression; EDNS0 (RFC 6891) OPT handled on the side.
// Network code hands these structs on; it does not decide policy.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace wiresign::xfr {

// A message that cannot be parsed; the text says where and why.
class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace opcode {
constexpr uint8_t query = 0, notify = 4, update = 5;
}
namespace rcode {
constexpr uint8_t noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5, notauth = 9;
}

struct Header {
  uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;  // the low four bits; EDNS extends it
};

struct Question {
  std::string name;  // wire, as received (case kept)
  uint16_t type = 0;
  uint16_t qclass = 1;
};

// A record with its owner and every name inside its RDATA decompressed.
struct Record {
  std::string owner;  // wire
  uint16_t type = 0;
  uint16_t rclass = 1;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
};

struct Edns {
  uint16_t udp_size = 1232;
  uint8_t version = 0;
  bool dnssec_ok = false;
  uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit RCODE
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;  // without the OPT record
  std::optional<Edns> edns;
};

// Parses a whole message; throws MessageError on truncation, bad pointers
// (forward, looping, into the header, or out of bounds), names over 255
// octets, or trailing junk.
Message parse_message(std::span<const uint8_t> wire);

// Builds the wire form. Owner names and the names inside RDATA of the
// RFC 1035 types are compressed (RFC 3597 §4 forbids it for other types).
std::vector<uint8_t> build_message(const Message& message);

}  // namespace wiresign::xfr
