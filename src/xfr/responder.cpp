// Building answers from a signed zone held in memory.
#include "xfr/responder.h"

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
  const SignedZone* zone = zones(q.name);
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

std::vector<std::vector<uint8_t>> build_axfr(const Message& query, const SignedZone& zone,
                                             size_t max_message_octets) {
  std::vector<std::vector<uint8_t>> messages;
  Message current = reply_skeleton(query);
  current.header.aa = true;
  size_t estimate = build_message(current).size();
  auto flush = [&] {
    messages.push_back(build_message(current));
    current.answers.clear();
    current.questions.clear();  // RFC 5936 §2.2.1: the question only in the first message
    current.edns.reset();       // and EDNS likewise: later messages go plain
    estimate = build_message(current).size();
  };
  auto add = [&](const dns::RecordView& rr) {
    // Uncompressed size bounds the compressed one, so a message never overflows.
    size_t size = rr.owner.size() + 10 + rr.rdata.size();
    if (!current.answers.empty() && estimate + size > max_message_octets) flush();
    current.answers.push_back(to_record(rr));
    estimate += size;
  };
  add(zone.soa());
  zone.for_each_record_but_soa(add);
  add(zone.soa());
  flush();
  return messages;
}

}  // namespace wiresign::xfr
