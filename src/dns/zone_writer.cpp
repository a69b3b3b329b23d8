// Printing records as master-file lines. The fast paths matter: a large zone
// is mostly RRSIG, NSEC3, A and AAAA, printed millions of times.
#include "dns/zone_writer.h"

#include <arpa/inet.h>

#include <charconv>
#include <ctime>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "dns/rr_type.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include <ldns/ldns.h>

namespace wiresign::dns {
namespace {

void append_uint(std::string& out, uint32_t v) {
  char buf[12];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, result.ptr);
}

// Where the uncompressed wire name at rdata[pos] ends, or 0 when the RDATA
// does not hold a whole one there: RDATA a primary sent may be anything, and
// such a record is printed by the generic path instead.
size_t name_end(std::span<const uint8_t> rdata, size_t pos) {
  while (pos < rdata.size()) {
    uint8_t length = rdata[pos];
    if (length == 0) return pos + 1;
    if (length > 63) return 0;
    pos += 1 + length;
  }
  return 0;
}

std::string name_text(std::span<const uint8_t> rdata, size_t from, size_t to) {
  return to_text({reinterpret_cast<const char*>(rdata.data() + from), to - from});
}

void append_type_bitmap(std::string& out, std::span<const uint8_t> bitmap) {
  size_t pos = 0;
  while (pos + 2 <= bitmap.size()) {
    unsigned window = bitmap[pos];
    unsigned length = bitmap[pos + 1];
    pos += 2;
    for (unsigned i = 0; i < length && pos + i < bitmap.size(); ++i) {
      for (unsigned bit = 0; bit < 8; ++bit) {
        if (bitmap[pos + i] & (0x80 >> bit)) {
          out.push_back(' ');
          out += type_name(static_cast<uint16_t>(window * 256 + i * 8 + bit));
        }
      }
    }
    pos += length;
  }
}

bool append_rdata_fast(std::string& out, uint16_t type, std::span<const uint8_t> rd) {
  char addr[INET6_ADDRSTRLEN];
  switch (type) {
    case rr_type::A:
      if (rd.size() != 4 || !inet_ntop(AF_INET, rd.data(), addr, sizeof addr)) return false;
      out += addr;
      return true;
    case rr_type::AAAA:
      if (rd.size() != 16 || !inet_ntop(AF_INET6, rd.data(), addr, sizeof addr)) return false;
      out += addr;
      return true;
    case rr_type::NS:
    case rr_type::CNAME:
    case rr_type::PTR:
    case rr_type::DNAME:
      if (name_end(rd, 0) != rd.size()) return false;
      out += name_text(rd, 0, rd.size());
      return true;
    case rr_type::MX: {
      if (rd.size() < 3 || name_end(rd, 2) != rd.size()) return false;
      append_uint(out, get_u16(rd.data()));
      out.push_back(' ');
      out += name_text(rd, 2, rd.size());
      return true;
    }
    case rr_type::RRSIG: {
      size_t signer_end = rd.size() < 19 ? 0 : name_end(rd, 18);
      if (!signer_end) return false;
      out += type_name(get_u16(rd.data()));
      out.push_back(' ');
      append_uint(out, rd[2]);
      out.push_back(' ');
      append_uint(out, rd[3]);
      out.push_back(' ');
      append_uint(out, get_u32(rd.data() + 4));
      out.push_back(' ');
      append_timestamp(out, get_u32(rd.data() + 8));
      out.push_back(' ');
      append_timestamp(out, get_u32(rd.data() + 12));
      out.push_back(' ');
      append_uint(out, get_u16(rd.data() + 16));
      out.push_back(' ');
      out += name_text(rd, 18, signer_end);
      out.push_back(' ');
      append_base64(out, rd.subspan(signer_end));
      return true;
    }
    case rr_type::NSEC: {
      size_t next_end = name_end(rd, 0);
      if (!next_end) return false;
      out += name_text(rd, 0, next_end);
      append_type_bitmap(out, rd.subspan(next_end));
      return true;
    }
    case rr_type::NSEC3: {
      if (rd.size() < 5 || 5 + size_t{rd[4]} >= rd.size() || 6 + size_t{rd[4]} + rd[5 + rd[4]] > rd.size())
        return false;
      append_uint(out, rd[0]);
      out.push_back(' ');
      append_uint(out, rd[1]);
      out.push_back(' ');
      append_uint(out, get_u16(rd.data() + 2));
      out.push_back(' ');
      size_t salt_length = rd[4];
      if (salt_length == 0) out.push_back('-');
      else append_hex(out, rd.subspan(5, salt_length), false);
      out.push_back(' ');
      size_t pos = 5 + salt_length;
      size_t hash_length = rd[pos];
      append_base32hex(out, rd.subspan(pos + 1, hash_length));
      append_type_bitmap(out, rd.subspan(pos + 1 + hash_length));
      return true;
    }
    case rr_type::DNSKEY:
    case rr_type::CDNSKEY:
    case rr_type::DS:
    case rr_type::CDS: {
      // Both start with a 16-bit field and two octets (flags or key tag,
      // then protocol/algorithm or algorithm/digest type); then the key in
      // base64 or the digest in hex.
      if (rd.size() < 5) return false;
      append_uint(out, get_u16(rd.data()));
      out.push_back(' ');
      append_uint(out, rd[2]);
      out.push_back(' ');
      append_uint(out, rd[3]);
      out.push_back(' ');
      if (type == rr_type::DNSKEY || type == rr_type::CDNSKEY) append_base64(out, rd.subspan(4));
      else append_hex(out, rd.subspan(4));
      return true;
    }
    default:
      return false;
  }
}

// Everything else goes through ldns's printer, which knows every type.
void append_rdata_ldns(std::string& out, uint16_t type, std::span<const uint8_t> rd) {
  std::vector<uint8_t> wire;
  put_u16(wire, static_cast<uint16_t>(rd.size()));
  wire.insert(wire.end(), rd.begin(), rd.end());
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_type(rr, static_cast<ldns_rr_type>(type));
  size_t pos = 0;
  ldns_status status = ldns_wire2rdf(rr, wire.data(), wire.size(), &pos);
  ldns_buffer* buffer = ldns_buffer_new(256);
  if (status == LDNS_STATUS_OK && ldns_rr_rd_count(rr) > 0) {
    for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
      if (i) ldns_buffer_printf(buffer, " ");
      ldns_rdf2buffer_str(buffer, ldns_rr_rdf(rr, i));
    }
    out.append(reinterpret_cast<const char*>(ldns_buffer_begin(buffer)), ldns_buffer_position(buffer));
  } else {
    // RFC 3597 generic form keeps data ldns cannot parse intact.
    out += "\\# ";
    append_uint(out, static_cast<uint32_t>(rd.size()));
    if (!rd.empty()) {
      out.push_back(' ');
      append_hex(out, rd);
    }
  }
  ldns_buffer_free(buffer);
  ldns_rr_free(rr);
}

}  // namespace

void append_timestamp(std::string& out, uint32_t seconds_since_epoch) {
  std::time_t t = seconds_since_epoch;
  std::tm tm{};
  gmtime_r(&t, &tm);
  auto two = [&](int v) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
  };
  int year = tm.tm_year + 1900;
  two(year / 100);
  two(year % 100);
  two(tm.tm_mon + 1);
  two(tm.tm_mday);
  two(tm.tm_hour);
  two(tm.tm_min);
  two(tm.tm_sec);
}

void append_rdata_text(std::string& out, uint16_t type, std::span<const uint8_t> rdata) {
  size_t mark = out.size();
  if (append_rdata_fast(out, type, rdata)) return;
  out.resize(mark);
  append_rdata_ldns(out, type, rdata);
}

void append_record_text(std::string& out, const RecordView& rr) {
  out += to_text(rr.owner);
  out.push_back('\t');
  append_uint(out, rr.ttl);
  out += rr.rclass == kClassIN ? "\tIN\t" : "\tCLASS" + std::to_string(rr.rclass) + "\t";
  out += type_name(rr.type);
  out.push_back('\t');
  append_rdata_text(out, rr.type, rr.rdata);
  out.push_back('\n');
}

void append_record_wire(std::vector<uint8_t>& out, const RecordView& rr) {
  out.insert(out.end(), rr.owner.begin(), rr.owner.end());
  put_u16(out, rr.type);
  put_u16(out, rr.rclass);
  put_u32(out, rr.ttl);
  put_u16(out, static_cast<uint16_t>(rr.rdata.size()));
  out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
}

}  // namespace wiresign::dns
