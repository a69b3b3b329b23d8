// Answers to what secondaries ask of the signer (pure logic, no sockets):
// SOA and exact-match queries with their RRSIGs when DO is set (RFC 4035
// §3.1.1), AXFR as a stream of messages that starts and ends with the SOA
// (RFC 5936 §2.2), and the refusals: REFUSED for zones not served or
// sources not allowed, NOTIMP for other opcodes, FORMERR for bad questions.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "xfr/message.h"
#include "xfr/journal.h"
#include "xfr/signed_zone.h"

namespace wiresign::xfr {

// Finds the zone a question name belongs to (or null: not served here). A
// shared pointer: the answer is built from a version that a publication on
// another thread may replace meanwhile, so the answer holds it.
using ZoneLookup = std::function<std::shared_ptr<const SignedZone>(std::string_view qname_wire)>;

// The answer to a single-message query (anything but AXFR/IXFR). Over UDP,
// an answer larger than the client's EDNS buffer (512 without EDNS) comes back
// with TC set and no records, so that the client retries over TCP.
Message answer_query(const Message& query, const ZoneLookup& zones, bool over_udp);

// A signed zone's record as a message record (copies owner and RDATA).
Record to_record(const dns::RecordView& rr);

// An RCODE-only answer echoing the question (REFUSED, NOTAUTH, FORMERR...).
Message error_answer(const Message& query, uint8_t rcode);

// The messages of a full zone transfer of `zone`, each at most
// `max_message_octets` (RFC 5936 §2.2: SOA first and last; the question only
// in the first message). Built to wire form; a caller that signs with TSIG
// does so message by message.
std::vector<std::vector<uint8_t>> build_axfr(const Message& query, const SignedZone& zone,
                                             size_t max_message_octets = 16384);

// The messages of an incremental transfer (RFC 1995 §4): the current SOA,
// then each diff (old SOA, deletions, new SOA, additions), then the current
// SOA again. `diffs` leads from the client's serial to the zone's.
std::vector<std::vector<uint8_t>> build_ixfr(const Message& query, const SignedZone& zone,
                                             const std::vector<const ZoneDiff*>& diffs,
                                             size_t max_message_octets = 16384);

// The serial of the SOA an IXFR request carries in its authority section.
std::optional<uint32_t> ixfr_client_serial(const Message& query);

}  // namespace wiresign::xfr
