// Fuzzes the DNS message parser (RFC 1035 §4.1, compression, EDNS0): any
// input either parses or throws MessageError, and what parses builds back to
// wire form that parses to the same message (names compared without regard
// to case, since compression may point at an earlier spelling).
#include <cstdlib>

#include "fuzz/fuzz_targets.h"
#include "xfr/message.h"
#include "xfr/responder.h"

namespace wiresign::fuzz {
namespace {

bool same_octets_any_case(const auto& a, const auto& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
    if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool same_records(const std::vector<xfr::Record>& a, const std::vector<xfr::Record>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].rclass != b[i].rclass || a[i].ttl != b[i].ttl ||
        !same_octets_any_case(a[i].owner, b[i].owner) || !same_octets_any_case(a[i].rdata, b[i].rdata))
      return false;
  }
  return true;
}

}  // namespace

int fuzz_message(const uint8_t* data, size_t size) {
  xfr::Message message;
  try {
    message = xfr::parse_message({data, size});
  } catch (const xfr::MessageError&) {
    return 0;
  }
  auto wire = xfr::build_message(message);
  xfr::Message again = xfr::parse_message(wire);  // must not throw
  bool same = again.questions.size() == message.questions.size() && same_records(again.answers, message.answers) &&
              same_records(again.authority, message.authority) &&
              same_records(again.additional, message.additional) &&
              again.edns.has_value() == message.edns.has_value() && again.header.id == message.header.id;
  for (size_t i = 0; same && i < message.questions.size(); ++i)
    same = again.questions[i].type == message.questions[i].type &&
           same_octets_any_case(again.questions[i].name, message.questions[i].name);
  if (!same) std::abort();  // build_message does not round-trip what parse_message read
  // What the server does with a request before it looks at zones.
  if (!message.questions.empty()) {
    (void)xfr::ixfr_client_serial(message);
    (void)xfr::build_message(xfr::error_answer(message, xfr::rcode::refused));
  }
  return 0;
}

}  // namespace wiresign::fuzz

WIRESIGN_FUZZ_TARGET(fuzz_message)
