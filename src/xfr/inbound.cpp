// The inbound side's two questions to a primary.
#include "xfr/inbound.h"

#include <ctime>
#include <random>

#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "xfr/transport.h"

namespace wiresign::xfr {
namespace {

constexpr uint16_t kTypeAxfr = 252;

std::vector<uint8_t> make_query(const PrimaryRequest& request, uint16_t type, uint16_t id,
                                std::vector<uint8_t>& request_mac) {
  Message query;
  query.header.id = id;
  query.questions.push_back({request.zone, type, dns::kClassIN});
  std::vector<uint8_t> wire = build_message(query);
  if (request.tsig) {
    TsigSignOptions options;
    options.time_signed = static_cast<uint64_t>(std::time(nullptr));
    request_mac = tsig_sign(wire, *request.tsig, options);
  }
  return wire;
}

std::string who(const PrimaryRequest& request) {
  return dns::to_text(request.zone) + " from " + request.primary.str();
}

// Checks an answer's TSIG against the request MAC (or the previous message's).
void check_tsig(const PrimaryRequest& request, std::span<const uint8_t> wire, std::vector<uint8_t>& mac,
                bool timers_only) {
  if (!request.tsig) return;
  std::vector<TsigKey> keys{*request.tsig};
  TsigVerification result =
      tsig_verify(wire, keys, static_cast<uint64_t>(std::time(nullptr)), mac, timers_only);
  if (result.outcome != TsigVerification::Outcome::ok)
    throw MessageError(who(request) + ": answer refused: " + result.describe());
  mac = result.mac;
}

void check_answer(const PrimaryRequest& request, const Message& answer, uint16_t id) {
  if (answer.header.id != id || !answer.header.qr) throw MessageError(who(request) + ": answer does not match the query");
  switch (answer.header.rcode) {
    case rcode::noerror:
      return;
    case rcode::notauth:
      throw MessageError(who(request) + ": primary answered NOTAUTH" +
                         (request.tsig ? " (it rejected our TSIG key " + dns::to_text(request.tsig->name) + ")"
                                       : " (it may want a TSIG key: set primary-tsig)"));
    case rcode::refused:
      throw MessageError(who(request) + ": primary answered REFUSED (does it allow us to transfer the zone?)");
    default:
      throw MessageError(who(request) + ": primary answered RCODE " + std::to_string(answer.header.rcode));
  }
}

}  // namespace

uint32_t query_primary_serial(const PrimaryRequest& request) {
  std::random_device random;
  auto id = static_cast<uint16_t>(random());
  std::vector<uint8_t> mac;
  auto wire = udp_exchange(request.primary, make_query(request, dns::rr_type::SOA, id, mac), request.timeout);
  Message answer = parse_message(wire);
  check_answer(request, answer, id);
  check_tsig(request, wire, mac, false);
  for (const auto& record : answer.answers) {
    if (record.type == dns::rr_type::SOA && dns::canonical_compare(record.owner, request.zone) == 0) {
      size_t pos = dns::soa_serial_offset(record.rdata);
      if (pos + 4 <= record.rdata.size()) return dns::get_u32(record.rdata.data() + pos);
    }
  }
  throw MessageError(who(request) + ": no SOA in the answer (not authoritative for the zone?)");
}

std::vector<Record> transfer_zone(const PrimaryRequest& request, size_t max_records) {
  std::random_device random;
  auto id = static_cast<uint16_t>(random());
  std::vector<uint8_t> mac;
  TcpConnection connection(request.primary, request.timeout);
  connection.send(make_query(request, kTypeAxfr, id, mac));
  std::vector<Record> records;
  bool first = true;
  for (;;) {
    auto wire = connection.receive();
    Message answer = parse_message(wire);
    check_answer(request, answer, id);
    check_tsig(request, wire, mac, !first);
    for (auto& record : answer.answers) {
      if (records.empty() && record.type != dns::rr_type::SOA)
        throw MessageError(who(request) + ": AXFR does not start with the SOA");
      if (!records.empty() && record.type == dns::rr_type::SOA &&
          dns::canonical_compare(record.owner, request.zone) == 0)
        return records;  // RFC 5936 §2.2: the closing SOA ends the transfer
      records.push_back(std::move(record));
      if (records.size() > max_records)
        throw MessageError(who(request) + ": AXFR larger than " + std::to_string(max_records) + " records");
    }
    first = false;
  }
}

}  // namespace wiresign::xfr
