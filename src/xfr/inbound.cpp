// The inbound side's questions to a primary: serial, AXFR, IXFR.
#include "xfr/inbound.h"

#include <ctime>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "xfr/transport.h"

namespace wiresign::xfr {
namespace {

constexpr uint16_t kTypeIxfr = 251;
constexpr uint16_t kTypeAxfr = 252;

std::vector<uint8_t> make_query(const PrimaryRequest& request, uint16_t type, uint16_t id,
                                std::vector<uint8_t>& request_mac, std::vector<Record> authority = {}) {
  Message query;
  query.header.id = id;
  query.questions.push_back({request.zone, type, dns::kClassIN});
  query.authority = std::move(authority);
  std::vector<uint8_t> wire = build_message(query);
  if (request.tsig) {
    TsigSignOptions options;
    options.time_signed = static_cast<uint64_t>(std::time(nullptr));
    request_mac = tsig_sign(wire, *request.tsig, options);
  }
  return wire;
}

uint16_t random_id() {
  std::random_device random;
  return static_cast<uint16_t>(random());
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

std::string rcode_text(uint8_t value) {
  static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  std::string text = "RCODE " + std::to_string(value);
  if (value < std::size(names)) text += std::string(" (") + names[value] + ")";
  return text;
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
      throw MessageError(who(request) + ": primary answered " + rcode_text(answer.header.rcode));
  }
}

// max_records plus the closing SOA, without wrapping around.
size_t with_closing_soa(size_t max_records) {
  return max_records == std::numeric_limits<size_t>::max() ? max_records : max_records + 1;
}

uint32_t soa_serial(const Record& soa, const std::string& where) {
  size_t pos = dns::soa_serial_offset(soa.rdata);
  if (pos + 4 > soa.rdata.size()) throw MessageError(where + ": SOA RDATA too short to hold a serial");
  return dns::get_u32(soa.rdata.data() + pos);
}

// A transfer request sent over a new TCP connection, and its answer read
// from that connection.
class TransferExchange {
 public:
  TransferExchange(const PrimaryRequest& request, uint16_t type, std::vector<Record> authority, size_t max_messages)
      : connection_(request.primary, request.timeout) {
    if (request.max_transfer_time.count())
      connection_.set_deadline(std::chrono::steady_clock::now() + request.max_transfer_time, "transfer-timeout");
    const uint16_t id = random_id();
    std::vector<uint8_t> mac;
    connection_.send(make_query(request, type, id, mac, std::move(authority)));
    answer_.emplace(request, id, std::move(mac), max_messages, [this] { return connection_.receive(); });
  }
  TransferAnswer& answer() { return *answer_; }

 private:
  TcpConnection connection_;
  std::optional<TransferAnswer> answer_;
};

bool is_zone_soa(const PrimaryRequest& request, const Record& record) {
  return record.type == dns::rr_type::SOA && dns::canonical_compare(record.owner, request.zone) == 0;
}

}  // namespace

uint32_t query_primary_serial(const PrimaryRequest& request) {
  auto id = random_id();
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

TransferAnswer::TransferAnswer(const PrimaryRequest& request, uint16_t id, std::vector<uint8_t> request_mac,
                               size_t max_messages, Receive receive)
    : request_(request), id_(id), mac_(std::move(request_mac)), max_messages_(max_messages),
      receive_(std::move(receive)) {}

Record TransferAnswer::next() {
  while (next_ == answer_.answers.size()) read_message();
  return std::move(answer_.answers[next_++]);
}

void TransferAnswer::read_message() {
  if (messages_ == max_messages_)
    throw MessageError(who(request_) + ": transfer of more than " + std::to_string(max_messages_) + " messages");
  auto wire = receive_();
  bytes_ += wire.size() + 2;  // with the TCP length prefix
  if (request_.max_transfer_bytes && bytes_ > request_.max_transfer_bytes)
    throw MessageError(who(request_) + ": transfer larger than " + std::to_string(request_.max_transfer_bytes) +
                       " octets (max-transfer-size); cut off after " + std::to_string(messages_) + " messages");
  try {
    answer_ = parse_message(wire);
  } catch (const MessageError& e) {
    throw MessageError(who(request_) + ": " + e.what());
  }
  check_answer(request_, answer_, id_);
  check_tsig(request_, wire, mac_, messages_ > 0);
  ++messages_;
  next_ = 0;
}

std::vector<Record> transfer_zone(const PrimaryRequest& request, size_t max_records) {
  TransferExchange exchange(request, kTypeAxfr, {}, with_closing_soa(max_records));
  return read_axfr_answer(request, exchange.answer(), max_records);
}

std::vector<Record> read_axfr_answer(const PrimaryRequest& request, TransferAnswer& answer, size_t max_records) {
  std::vector<Record> records;
  for (;;) {
    Record record = answer.next();
    if (records.empty() && record.type != dns::rr_type::SOA)
      throw MessageError(who(request) + ": AXFR does not start with the SOA");
    if (!records.empty() && is_zone_soa(request, record)) return records;  // RFC 5936 §2.2: the closing SOA ends it
    records.push_back(std::move(record));
    if (records.size() > max_records)
      throw MessageError(who(request) + ": AXFR larger than " + std::to_string(max_records) + " records");
  }
}

IxfrResult transfer_zone_incremental(const PrimaryRequest& request, const Record& current_soa,
                                     size_t max_records) {
  const std::string where = who(request) + ": IXFR";
  if (current_soa.type != dns::rr_type::SOA)
    throw MessageError(where + ": our SOA record is a " + dns::type_name(current_soa.type));
  const uint32_t ours = soa_serial(current_soa, where + ": our SOA");
  TransferExchange exchange(request, kTypeIxfr, {current_soa}, with_closing_soa(max_records));
  return read_ixfr_answer(request, exchange.answer(), ours, max_records);
}

IxfrResult read_ixfr_answer(const PrimaryRequest& request, TransferAnswer& answer, uint32_t ours,
                            size_t max_records) {
  const std::string where = who(request) + ": IXFR";
  size_t received = 0;
  auto take = [&] {
    Record record = answer.next();
    if (++received > with_closing_soa(max_records))
      throw MessageError(where + " larger than " + std::to_string(max_records) + " records");
    return record;
  };
  auto expect_end = [&] {
    if (answer.message_has_more()) throw MessageError(where + ": records after the final SOA");
  };

  IxfrResult result;
  Record first = take();
  if (!is_zone_soa(request, first)) throw MessageError(where + ": answer does not start with the zone's SOA");
  const uint32_t theirs = soa_serial(first, where);
  // RFC 1995 §2: a client as new as the server gets the server's SOA alone.
  // Like BIND, stop at it rather than wait for records that need not come.
  if (!dns::serial_newer(theirs, ours)) return result;

  Record second;
  try {
    second = take();
  } catch (const TransportError& e) {
    // A single SOA that is newer than ours: the primary has no diffs for us
    // (RFC 1995 §4 gives this answer over UDP to say "ask over TCP").
    throw TransportError(where + ": the primary has serial " + std::to_string(theirs) + " (ours " +
                         std::to_string(ours) + ") but sent only its SOA (" + e.what() + "); AXFR needed");
  }

  if (!is_zone_soa(request, second)) {
    // RFC 1995 §4: the whole zone instead, in AXFR form (RFC 5936 §2.2).
    result.full = true;
    result.records.push_back(std::move(first));
    result.records.push_back(std::move(second));
    for (;;) {
      Record record = take();
      if (!is_zone_soa(request, record)) {
        result.records.push_back(std::move(record));
        continue;
      }
      uint32_t closing = soa_serial(record, where);
      if (closing != theirs)
        throw MessageError(where + ": full zone of serial " + std::to_string(theirs) + " closed by serial " +
                           std::to_string(closing));
      expect_end();
      return result;
    }
  }

  const uint32_t start = soa_serial(second, where);
  if (start == theirs) {  // AXFR form of a zone that holds only its SOA
    result.full = true;
    result.records.push_back(std::move(first));
    expect_end();
    return result;
  }
  if (start != ours)
    throw MessageError(where + ": changes start at serial " + std::to_string(start) + ", ours is " +
                       std::to_string(ours));

  // Each diff: old SOA, removals, new SOA, additions. The SOA after the
  // additions starts the next diff, or is the final one once the primary's
  // serial is reached; either way it must carry the serial just reached.
  IxfrDiff diff;
  diff.old_soa = std::move(second);
  bool in_added = false;
  for (;;) {
    Record record = take();
    if (record.type != dns::rr_type::SOA) {
      (in_added ? diff.added : diff.removed).push_back(std::move(record));
      continue;
    }
    if (!is_zone_soa(request, record))
      throw MessageError(where + ": SOA of " + dns::to_text(record.owner) + " among the changes");
    const uint32_t serial = soa_serial(record, where);
    const uint32_t from = soa_serial(diff.old_soa, where);
    if (!in_added) {
      if (!dns::serial_newer(serial, from))
        throw MessageError(where + ": diff from serial " + std::to_string(from) + " leads to serial " +
                           std::to_string(serial) + ", not a newer one");
      if (dns::serial_newer(serial, theirs))
        throw MessageError(where + ": diff leads to serial " + std::to_string(serial) + ", past the primary's " +
                           std::to_string(theirs));
      diff.new_soa = std::move(record);
      in_added = true;
      continue;
    }
    const uint32_t reached = soa_serial(diff.new_soa, where);
    if (serial != reached)
      throw MessageError(where + ": diff chain broken: serial " + std::to_string(from) + " to " +
                         std::to_string(reached) + " is followed by an SOA of serial " + std::to_string(serial));
    result.diffs.push_back(std::move(diff));
    if (serial == theirs) {
      expect_end();
      return result;
    }
    diff = IxfrDiff{};
    diff.old_soa = std::move(record);
    in_added = false;
  }
}

}  // namespace wiresign::xfr
