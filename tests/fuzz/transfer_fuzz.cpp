// Fuzzes what a secondary does with a primary's transfer answer: the
// per-message checks (ID, RCODE, TSIG), the AXFR and IXFR (RFC 1995 §4)
// readers, and apply_ixfr on the diffs an IXFR brings. Input: one octet of
// flags (bit 0: IXFR rather than AXFR; bit 1: the request was TSIG-signed),
// then the answer messages, each with a two-octet length as over TCP.
#include <arpa/inet.h>

#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "fuzz/fuzz_targets.h"
#include "xfr/inbound.h"
#include "xfr/transport.h"
#include "xfr/tsig.h"

namespace wiresign::fuzz {
namespace {

// The query ID the seed answers in tests/fuzz/corpus/transfer carry.
constexpr uint16_t kId = 0x2a2a;

xfr::Record record(const char* owner, uint16_t type, std::vector<uint8_t> rdata, uint32_t ttl = 300) {
  return {dns::Name::from_text(owner).wire(), type, 1, ttl, std::move(rdata)};
}

std::vector<uint8_t> name_octets(const char* text) {
  std::string wire = dns::Name::from_text(text).wire();
  return {wire.begin(), wire.end()};
}

xfr::Record soa(uint32_t serial) {
  std::vector<uint8_t> rdata = name_octets("ns1.example.test.");
  auto rname = name_octets("hostmaster.example.test.");
  rdata.insert(rdata.end(), rname.begin(), rname.end());
  for (uint32_t v : {serial, 3600u, 900u, 1209600u, 300u}) dns::put_u32(rdata, v);
  return record("example.test.", dns::rr_type::SOA, rdata, 3600);
}

// The zone a secondary holds at serial 41 (as in tests/unit/xfr/ixfr_test.cpp).
const std::vector<xfr::Record>& zone_41() {
  static const std::vector<xfr::Record> zone = {
      soa(41),
      record("example.test.", dns::rr_type::NS, name_octets("ns1.example.test."), 3600),
      record("ns1.example.test.", dns::rr_type::A, {192, 0, 2, 53}),
      record("www.example.test.", dns::rr_type::A, {192, 0, 2, 1}),
      record("old.example.test.", dns::rr_type::TXT, {3, 'b', 'y', 'e'}),
  };
  return zone;
}

}  // namespace

int fuzz_transfer(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool ixfr = data[0] & 1;
  const bool signed_request = data[0] & 2;
  static const xfr::TsigKey key = *xfr::make_tsig_key("xfr.key", "hmac-sha256", std::vector<uint8_t>(32, 0x5a));
  xfr::PrimaryRequest request;
  request.primary = {"192.0.2.1", 53, false};
  request.zone = dns::Name::from_text("example.test.").wire();
  request.tsig = signed_request ? &key : nullptr;

  size_t pos = 1;
  auto receive = [&]() -> std::vector<uint8_t> {
    if (size - pos < 2) throw xfr::TransportError("the primary hung up");
    size_t length = dns::get_u16(data + pos);
    pos += 2;
    if (size - pos < length) throw xfr::TransportError("the primary hung up in a message");
    std::vector<uint8_t> message(data + pos, data + pos + length);
    pos += length;
    return message;
  };
  constexpr size_t kMaxRecords = 10000;
  std::vector<uint8_t> request_mac;
  if (signed_request) request_mac.assign(32, 0x11);
  xfr::TransferAnswer answer(request, kId, request_mac, kMaxRecords + 1, receive);
  try {
    if (!ixfr) {
      auto records = xfr::read_axfr_answer(request, answer, kMaxRecords);
      if (records.empty() || records.front().type != dns::rr_type::SOA) std::abort();
      return 0;
    }
    xfr::IxfrResult result = xfr::read_ixfr_answer(request, answer, 41, kMaxRecords);
    if (result.full || result.diffs.empty()) return 0;
    auto records = xfr::apply_ixfr(zone_41(), result.diffs);
    if (records.empty() || records.front().type != dns::rr_type::SOA) std::abort();
  } catch (const xfr::MessageError&) {
  } catch (const xfr::TransportError&) {
  }
  return 0;
}

}  // namespace wiresign::fuzz

WIRESIGN_FUZZ_TARGET(fuzz_transfer)
