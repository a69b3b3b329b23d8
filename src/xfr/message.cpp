// Parsing and building DNS messages. Compression pointers are followed only
// backwards (RFC 1035 §4.1.4), which bounds the work and rules out loops.
#include "xfr/message.h"

#include <map>

#include "dns/record.h"
#include "dns/rr_type.h"

namespace wiresign::xfr {
namespace {

constexpr uint16_t kTypeOpt = 41;

// How the names inside an RDATA are laid out, for the types whose names may
// be compressed (RFC 1035 types, and those RFC 3597 §4 lists for decompression).
struct RdataLayout {
  uint8_t prefix;  // fixed octets before the first name
  uint8_t names;   // consecutive names after the prefix
};

std::optional<RdataLayout> rdata_layout(uint16_t type) {
  namespace t = dns::rr_type;
  switch (type) {
    case t::NS: case 3: case 4: case t::CNAME: case 7: case 8: case 9: case t::PTR: case t::DNAME:
      return RdataLayout{0, 1};
    case t::SOA: case 14 /* MINFO */: case 17 /* RP */:
      return RdataLayout{0, 2};
    case t::MX: case 18 /* AFSDB */: case 21 /* RT */: case 36 /* KX */:
      return RdataLayout{2, 1};
    case 26 /* PX */:
      return RdataLayout{2, 2};
    case t::SRV:
      return RdataLayout{6, 1};
    default:
      return std::nullopt;
  }
}

// Only the RFC 1035 types may be compressed when we write (RFC 3597 §4).
bool compress_rdata_names(uint16_t type) {
  namespace t = dns::rr_type;
  return type == t::NS || type == t::CNAME || type == t::SOA || type == t::PTR || type == t::MX ||
         (type >= 3 && type <= 9) || type == 14;
}

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> wire) : wire_(wire) {}

  size_t position() const { return pos_; }
  bool at_end() const { return pos_ == wire_.size(); }

  uint8_t u8() {
    need(1);
    return wire_[pos_++];
  }
  uint16_t u16() {
    need(2);
    uint16_t v = dns::get_u16(wire_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    need(4);
    uint32_t v = dns::get_u32(wire_.data() + pos_);
    pos_ += 4;
    return v;
  }
  std::span<const uint8_t> bytes(size_t n) {
    need(n);
    auto out = wire_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // Reads a possibly compressed name at the current position into `out`.
  void name(std::string& out) { pos_ = read_name_at(pos_, out); }

 private:
  void need(size_t n) const {
    if (wire_.size() - pos_ < n)
      throw MessageError("message truncated at octet " + std::to_string(pos_));
  }

  // Returns the position after the name as it stands at `pos` (after the
  // first pointer, if any).
  size_t read_name_at(size_t pos, std::string& out) const {
    out.clear();
    size_t end = 0;
    size_t limit = pos;  // pointers must go strictly backwards from here
    for (;;) {
      if (pos >= wire_.size()) throw MessageError("name runs past the end of the message");
      uint8_t length = wire_[pos];
      if ((length & 0xc0) == 0xc0) {
        if (pos + 1 >= wire_.size()) throw MessageError("truncated compression pointer");
        size_t target = static_cast<size_t>(length & 0x3f) << 8 | wire_[pos + 1];
        if (end == 0) end = pos + 2;
        if (target >= limit) throw MessageError("compression pointer does not point backwards");
        // No name starts in the header; a name there would also change
        // meaning when the counts change (as appending a TSIG does).
        if (target < 12) throw MessageError("compression pointer into the header");
        limit = target;
        pos = target;
        continue;
      }
      if (length & 0xc0) throw MessageError("unknown label type " + std::to_string(length >> 6));
      if (pos + 1 + length > wire_.size()) throw MessageError("label runs past the end of the message");
      out.append(reinterpret_cast<const char*>(wire_.data() + pos), 1 + length);
      if (out.size() > 255) throw MessageError("name longer than 255 octets");
      pos += 1 + length;
      if (length == 0) return end ? end : pos;
    }
  }

  std::span<const uint8_t> wire_;
  size_t pos_ = 0;
};

Record read_record(Reader& reader, std::string& scratch) {
  Record record;
  reader.name(record.owner);
  record.type = reader.u16();
  record.rclass = reader.u16();
  record.ttl = reader.u32();
  uint16_t length = reader.u16();
  size_t start = reader.position();
  auto layout = rdata_layout(record.type);
  if (!layout) {
    auto data = reader.bytes(length);
    record.rdata.assign(data.begin(), data.end());
    return record;
  }
  auto prefix = reader.bytes(std::min<size_t>(layout->prefix, length));
  record.rdata.assign(prefix.begin(), prefix.end());
  for (int i = 0; i < layout->names; ++i) {
    reader.name(scratch);
    record.rdata.insert(record.rdata.end(), scratch.begin(), scratch.end());
  }
  if (reader.position() > start + length) throw MessageError("RDATA longer than its RDLENGTH");
  auto rest = reader.bytes(start + length - reader.position());
  record.rdata.insert(record.rdata.end(), rest.begin(), rest.end());
  return record;
}

// Writes names with compression: remembers where each suffix was written.
class Writer {
 public:
  std::vector<uint8_t> out;

  void name(std::string_view wire, bool compress) {
    size_t pos = 0;
    while (pos < wire.size() && wire[pos] != 0) {
      std::string key = lower(wire.substr(pos));
      if (compress) {
        auto it = offsets_.find(key);
        if (it != offsets_.end()) {
          dns::put_u16(out, static_cast<uint16_t>(0xc000 | it->second));
          return;
        }
      }
      if (out.size() < 0x4000) offsets_.emplace(std::move(key), static_cast<uint16_t>(out.size()));
      size_t length = static_cast<uint8_t>(wire[pos]);
      out.insert(out.end(), wire.begin() + static_cast<long>(pos), wire.begin() + static_cast<long>(pos + 1 + length));
      pos += 1 + length;
    }
    out.push_back(0);
  }

  void record(const Record& r) {
    name(r.owner, true);
    dns::put_u16(out, r.type);
    dns::put_u16(out, r.rclass);
    dns::put_u32(out, r.ttl);
    size_t length_at = out.size();
    dns::put_u16(out, 0);
    auto layout = rdata_layout(r.type);
    if (layout && compress_rdata_names(r.type) && r.rdata.size() >= layout->prefix) {
      out.insert(out.end(), r.rdata.begin(), r.rdata.begin() + layout->prefix);
      size_t pos = layout->prefix;
      for (int i = 0; i < layout->names && pos < r.rdata.size(); ++i) {
        size_t start = pos;
        while (pos < r.rdata.size() && r.rdata[pos] != 0) pos += 1 + r.rdata[pos];
        ++pos;
        name({reinterpret_cast<const char*>(r.rdata.data() + start), std::min(pos, r.rdata.size()) - start}, true);
      }
      if (pos < r.rdata.size()) out.insert(out.end(), r.rdata.begin() + static_cast<long>(pos), r.rdata.end());
    } else {
      out.insert(out.end(), r.rdata.begin(), r.rdata.end());
    }
    size_t length = out.size() - length_at - 2;
    out[length_at] = static_cast<uint8_t>(length >> 8);
    out[length_at + 1] = static_cast<uint8_t>(length);
  }

 private:
  static std::string lower(std::string_view wire) {
    std::string s(wire);
    for (auto& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return s;
  }
  std::map<std::string, uint16_t> offsets_;
};

}  // namespace

Message parse_message(std::span<const uint8_t> wire) {
  Reader reader(wire);
  Message message;
  Header& h = message.header;
  h.id = reader.u16();
  uint16_t flags = reader.u16();
  h.qr = flags & 0x8000;
  h.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
  h.aa = flags & 0x0400;
  h.tc = flags & 0x0200;
  h.rd = flags & 0x0100;
  h.ra = flags & 0x0080;
  h.ad = flags & 0x0020;
  h.cd = flags & 0x0010;
  h.rcode = static_cast<uint8_t>(flags & 0xf);
  uint16_t counts[4];
  for (auto& c : counts) c = reader.u16();
  std::string scratch;
  for (uint16_t i = 0; i < counts[0]; ++i) {
    Question q;
    reader.name(q.name);
    q.type = reader.u16();
    q.qclass = reader.u16();
    message.questions.push_back(std::move(q));
  }
  for (uint16_t i = 0; i < counts[1]; ++i) message.answers.push_back(read_record(reader, scratch));
  for (uint16_t i = 0; i < counts[2]; ++i) message.authority.push_back(read_record(reader, scratch));
  for (uint16_t i = 0; i < counts[3]; ++i) {
    Record r = read_record(reader, scratch);
    if (r.type != kTypeOpt) {
      message.additional.push_back(std::move(r));
      continue;
    }
    // RFC 6891 §6.1.1: at most one OPT, owned by the root.
    if (message.edns) throw MessageError("more than one OPT record");
    if (r.owner.size() != 1) throw MessageError("OPT record not owned by the root");
    Edns edns;
    edns.udp_size = std::max<uint16_t>(512, r.rclass);
    edns.extended_rcode = static_cast<uint8_t>(r.ttl >> 24);
    edns.version = static_cast<uint8_t>(r.ttl >> 16);
    edns.dnssec_ok = r.ttl & 0x8000;
    message.edns = edns;
  }
  if (!reader.at_end()) throw MessageError("junk after the last record");
  return message;
}

std::vector<uint8_t> build_message(const Message& message) {
  Writer w;
  const Header& h = message.header;
  dns::put_u16(w.out, h.id);
  uint16_t flags = static_cast<uint16_t>((h.qr ? 0x8000 : 0) | (h.opcode & 0xf) << 11 | (h.aa ? 0x0400 : 0) |
                                         (h.tc ? 0x0200 : 0) | (h.rd ? 0x0100 : 0) | (h.ra ? 0x0080 : 0) |
                                         (h.ad ? 0x0020 : 0) | (h.cd ? 0x0010 : 0) | (h.rcode & 0xf));
  dns::put_u16(w.out, flags);
  dns::put_u16(w.out, static_cast<uint16_t>(message.questions.size()));
  dns::put_u16(w.out, static_cast<uint16_t>(message.answers.size()));
  dns::put_u16(w.out, static_cast<uint16_t>(message.authority.size()));
  dns::put_u16(w.out, static_cast<uint16_t>(message.additional.size() + (message.edns ? 1 : 0)));
  for (const auto& q : message.questions) {
    w.name(q.name, true);
    dns::put_u16(w.out, q.type);
    dns::put_u16(w.out, q.qclass);
  }
  for (const auto* section : {&message.answers, &message.authority, &message.additional})
    for (const auto& r : *section) w.record(r);
  if (message.edns) {
    w.out.push_back(0);  // root owner
    dns::put_u16(w.out, kTypeOpt);
    dns::put_u16(w.out, message.edns->udp_size);
    uint32_t ttl = uint32_t{message.edns->extended_rcode} << 24 | uint32_t{message.edns->version} << 16 |
                   (message.edns->dnssec_ok ? 0x8000u : 0u);
    dns::put_u32(w.out, ttl);
    dns::put_u16(w.out, 0);
  }
  return w.out;
}

}  // namespace wiresign::xfr
