// One resource record in wire form, as it moves between reader, signer and writer.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wiresign::dns {

// A record whose owner and RDATA live elsewhere (an arena or a buffer).
struct RecordView {
  std::string_view owner;  // wire form
  uint16_t type = 0;
  uint16_t rclass = 1;
  uint32_t ttl = 0;
  std::span<const uint8_t> rdata;
};

// Wire form of one RR without compression: owner type class ttl rdlength rdata.
void append_record_wire(std::vector<uint8_t>& out, const RecordView& rr);

inline void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
// Offset of SERIAL in SOA RDATA: it follows MNAME and RNAME (RFC 1035 §3.3.13).
// Returns a value past the end when the RDATA is too short.
inline size_t soa_serial_offset(std::span<const uint8_t> soa_rdata) {
  size_t pos = 0;
  for (int names = 0; names < 2 && pos < soa_rdata.size(); ++names) {
    while (pos < soa_rdata.size() && soa_rdata[pos] != 0) pos += 1 + soa_rdata[pos];
    ++pos;
  }
  return pos;
}

// SERIAL of SOA RDATA; nullopt when the RDATA is too short to hold one.
inline std::optional<uint32_t> soa_serial(std::span<const uint8_t> soa_rdata);
// Writes SERIAL into SOA RDATA; false (nothing written) when it is too short.
inline bool set_soa_serial(std::span<uint8_t> soa_rdata, uint32_t serial);

// True when a is newer than b in serial-number arithmetic (RFC 1982 §3.2).
inline bool serial_newer(uint32_t a, uint32_t b) { return a != b && static_cast<int32_t>(a - b) > 0; }

inline uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get_u32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

inline std::optional<uint32_t> soa_serial(std::span<const uint8_t> soa_rdata) {
  size_t pos = soa_serial_offset(soa_rdata);
  if (pos + 4 > soa_rdata.size()) return std::nullopt;
  return get_u32(soa_rdata.data() + pos);
}
inline bool set_soa_serial(std::span<uint8_t> soa_rdata, uint32_t serial) {
  size_t pos = soa_serial_offset(soa_rdata);
  if (pos + 4 > soa_rdata.size()) return false;
  for (int i = 0; i < 4; ++i) soa_rdata[pos + i] = static_cast<uint8_t>(serial >> (24 - 8 * i));
  return true;
}

}  // namespace wiresign::dns
