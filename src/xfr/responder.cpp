// Building answers from a signed zone held in memory.
#include "xfr/responder.h"

#include "dns/name.h"
#include "dns/rr_type.h"

namespace wiresign::xfr {
namespace {

constexpr uint16_t kTypeAxfr = 252, kTypeIxfr = 251;

Message reply_skeleton(const Message& query) {
  Message reply;
  reply.header.id = query.header.id;
  reply.header.qr = true;
  reply.header.opcode = query.header.opcode;
  reply.header.rd = query.header.rd;
  reply.header.cd = query.header.cd;
  reply.questions = query.questions;
  if (query.edns) {
    Edns edns;
    edns.dnssec_ok = query.edns->dnssec_ok;
    reply.edns = edns;
  }
  return reply;
}

}  // namespace

Record to_record(const dns::RecordView& rr) {
  return {std::string(rr.owner), rr.type, rr.rclass, rr.ttl, {rr.rdata.begin(), rr.rdata.end()}};
}

Message error_answer(const Message& query, uint8_t rcode) {
  Message reply = reply_skeleton(query);
  reply.header.rcode = rcode;
  return reply;
}

Message answer_query(const Message& query, const ZoneLookup& zones, bool over_udp) {
  if (query.header.opcode != opcode::query) return error_answer(query, rcode::notimp);
  if (query.questions.size() != 1) return error_answer(query, rcode::formerr);
  const Question& q = query.questions[0];
  if (q.qclass != dns::kClassIN || q.type == kTypeAxfr || q.type == kTypeIxfr)
    return error_answer(query, rcode::refused);
  std::shared_ptr<const SignedZone> zone = zones(q.name);
  if (!zone) return error_answer(query, rcode::refused);

  bool dnssec = query.edns && query.edns->dnssec_ok;
  auto records = zone->lookup(q.name, q.type, dnssec);
  // Only exact matches are answered: the signer is not a public server and
  // has no denial proofs to offer, so anything else is refused.
  if (records.empty()) return error_answer(query, rcode::refused);
  Message reply = reply_skeleton(query);
  reply.header.aa = true;
  for (const auto& rr : records) reply.answers.push_back(to_record(rr));
  if (over_udp) {
    size_t limit = query.edns ? std::max<size_t>(512, query.edns->udp_size) : 512;
    if (build_message(reply).size() > limit) {
      reply.answers.clear();
      reply.header.tc = true;
    }
  }
  return reply;
}

namespace {

// Answer records packed into as few messages as `max_message_octets` allows;
// the question (and EDNS) only in the first message (RFC 5936 §2.2.1).
class TransferStream {
 public:
  TransferStream(const Message& query, size_t max_message_octets)
      : current_(reply_skeleton(query)), max_(max_message_octets) {
    current_.header.aa = true;
    estimate_ = build_message(current_).size();
  }
  void add(const dns::RecordView& rr) {
    // Uncompressed size bounds the compressed one, so a message never overflows.
    size_t size = rr.owner.size() + 10 + rr.rdata.size();
    if (!current_.answers.empty() && estimate_ + size > max_) flush();
    current_.answers.push_back(to_record(rr));
    estimate_ += size;
  }
  std::vector<std::vector<uint8_t>> finish() {
    flush();
    return std::move(messages_);
  }

 private:
  void flush() {
    messages_.push_back(build_message(current_));
    current_.answers.clear();
    current_.questions.clear();
    current_.edns.reset();
    estimate_ = build_message(current_).size();
  }
  Message current_;
  size_t max_;
  size_t estimate_ = 0;
  std::vector<std::vector<uint8_t>> messages_;
};

// Calls `visit` with each record of a buffer of uncompressed wire records.
template <typename F>
void for_each_wire_record(std::string_view records, F&& visit) {
  const auto* data = reinterpret_cast<const uint8_t*>(records.data());
  size_t pos = 0;
  while (pos < records.size()) {
    size_t start = pos;
    while (data[pos] != 0) pos += 1 + data[pos];
    ++pos;
    dns::RecordView rr;
    rr.owner = records.substr(start, pos - start);
    rr.type = dns::get_u16(data + pos);
    rr.rclass = dns::get_u16(data + pos + 2);
    rr.ttl = dns::get_u32(data + pos + 4);
    uint16_t length = dns::get_u16(data + pos + 8);
    rr.rdata = std::span<const uint8_t>(data + pos + 10, length);
    pos += 10 + length;
    visit(rr);
  }
}

}  // namespace

std::vector<std::vector<uint8_t>> build_axfr(const Message& query, const SignedZone& zone,
                                             size_t max_message_octets) {
  TransferStream stream(query, max_message_octets);
  stream.add(zone.soa());
  zone.for_each_record_but_soa([&](const dns::RecordView& rr) { stream.add(rr); });
  stream.add(zone.soa());
  return stream.finish();
}

std::vector<std::vector<uint8_t>> build_ixfr(const Message& query, const SignedZone& zone,
                                             const std::vector<const ZoneDiff*>& diffs, size_t max_message_octets) {
  TransferStream stream(query, max_message_octets);
  stream.add(zone.soa());
  for (const ZoneDiff* diff : diffs) {
    // Each list starts with its version's SOA: old SOA, deletions, new SOA, additions.
    for_each_wire_record(diff->removed, [&](const dns::RecordView& rr) { stream.add(rr); });
    for_each_wire_record(diff->added, [&](const dns::RecordView& rr) { stream.add(rr); });
  }
  stream.add(zone.soa());
  return stream.finish();
}

std::optional<uint32_t> ixfr_client_serial(const Message& query) {
  for (const auto& rr : query.authority) {
    if (rr.type != dns::rr_type::SOA || dns::canonical_compare(rr.owner, query.questions[0].name) != 0) continue;
    size_t pos = dns::soa_serial_offset(rr.rdata);
    if (pos + 4 <= rr.rdata.size()) return dns::get_u32(rr.rdata.data() + pos);
  }
  return std::nullopt;
}

}  // namespace wiresign::xfr
