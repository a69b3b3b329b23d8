// Asking a primary: its SOA serial (RFC 1035 §4.3.5 refresh check), the
// whole zone by AXFR over TCP (RFC 5936), and the changes since our serial by
// IXFR (RFC 1995), TSIG-signed when a key is given; and applying those changes.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conf/address.h"
#include "xfr/message.h"
#include "xfr/tsig.h"

namespace wiresign::xfr {

struct PrimaryRequest {
  conf::SocketAddress primary;
  std::string zone;  // wire
  const TsigKey* tsig = nullptr;
  std::chrono::milliseconds timeout{5000};  // for each wait: connecting, each part of a message
  // A whole transfer (AXFR/IXFR) is cut off after this long, or after this
  // many octets of answer messages; 0: no limit.
  std::chrono::seconds max_transfer_time{0};
  uint64_t max_transfer_bytes = 0;
};

// The primary's SOA serial for the zone. Throws TransportError or
// MessageError (with the primary and the reason) on any failure.
uint32_t query_primary_serial(const PrimaryRequest& request);

// The zone's records as transferred, SOA first, without the closing SOA.
// Refuses transfers over `max_records`. Throws TransportError/MessageError.
std::vector<Record> transfer_zone(const PrimaryRequest& request, size_t max_records = 50'000'000);

// One difference sequence of an incremental transfer (RFC 1995 §4).
struct IxfrDiff {
  Record old_soa;               // the version it starts from
  std::vector<Record> removed;  // without the SOA
  Record new_soa;               // the version it leads to
  std::vector<Record> added;    // without the SOA
};

// What an IXFR request brought back.
struct IxfrResult {
  bool full = false;            // the primary answered with a whole zone (AXFR form) ...
  std::vector<Record> records;  // ... then these (SOA first, no closing SOA), as transfer_zone returns
  std::vector<IxfrDiff> diffs;  // otherwise the diffs, in order (empty: we are up to date, answer was just the SOA)
};

// Asks the primary by IXFR over TCP for the changes since `current_soa` (our
// SOA record of the zone, sent in the authority section, RFC 1995 §3).
// TSIG-signed when request.tsig is set, every answer message checked. A
// primary whose serial is not newer than ours is taken at its first SOA (we
// are up to date). Throws TransportError/MessageError, naming the zone and
// primary, when the primary refuses, when the answer is malformed (diffs that
// do not chain from our serial to the primary's, records after the final SOA,
// a newer SOA with nothing after it), or larger than max_records.
IxfrResult transfer_zone_incremental(const PrimaryRequest& request, const Record& current_soa,
                                     size_t max_records = 50'000'000);

// The answer records of a zone transfer, handed out one at a time whatever
// the message boundaries. Each message `receive` returns is checked (ID,
// RCODE, TSIG chained to the message before, RFC 8945 §5.3.1) before any of
// its records is used; at most `max_messages` are read, so a primary sending
// empty messages cannot keep us forever. The functions above read from a TCP
// connection through it; tests and fuzzers feed it prepared messages.
class TransferAnswer {
 public:
  using Receive = std::function<std::vector<uint8_t>()>;
  // `request_mac` is the MAC of our signed request (empty when unsigned).
  TransferAnswer(const PrimaryRequest& request, uint16_t id, std::vector<uint8_t> request_mac, size_t max_messages,
                 Receive receive);

  Record next();
  // Whether the message read last holds records not handed out yet.
  bool message_has_more() const { return next_ < answer_.answers.size(); }

 private:
  void read_message();

  const PrimaryRequest& request_;
  uint16_t id_;
  std::vector<uint8_t> mac_;  // the request's, then each answer message's
  size_t max_messages_;
  Receive receive_;
  size_t messages_ = 0;
  uint64_t bytes_ = 0;
  Message answer_;
  size_t next_ = 0;
};

// What transfer_zone makes of an AXFR answer: the records, SOA first,
// without the closing SOA. Throws MessageError as transfer_zone does.
std::vector<Record> read_axfr_answer(const PrimaryRequest& request, TransferAnswer& answer, size_t max_records);

// What transfer_zone_incremental makes of an IXFR answer to a request that
// carried serial `ours`. Throws as transfer_zone_incremental does.
IxfrResult read_ixfr_answer(const PrimaryRequest& request, TransferAnswer& answer, uint32_t ours,
                            size_t max_records);

// Applies diffs to a zone's records (SOA first, as transfer_zone returns them)
// and returns the new records (new SOA first). Records match by owner (any
// case), type, class and RDATA octets; TTLs do not take part, so a removal and
// re-addition changes a TTL. Throws MessageError naming the record when a diff
// does not apply cleanly (it removes a record not in the zone, adds one
// already there, or starts from another serial); the caller then falls back
// to AXFR. Only the records the diffs touch are indexed: a large zone costs
// one pass.
std::vector<Record> apply_ixfr(const std::vector<Record>& zone, const std::vector<IxfrDiff>& diffs);

}  // namespace wiresign::xfr
