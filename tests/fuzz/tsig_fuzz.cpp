// Fuzzes TSIG verification (RFC 8945 §5.2): any message verifies to one of
// the outcomes without reading out of bounds. In "sign" mode the harness
// signs the input message itself and checks that verification agrees (ok
// within the fudge, BADTIME outside it). Input: one octet of flags (bits 0-1:
// the key's algorithm; bit 2: a response, checked against a request MAC;
// bit 3: timers only; bit 4: sign mode), then in sign mode six octets of Time
// Signed and two of fudge, then the message.
#include <cstdlib>

#include "dns/record.h"
#include "fuzz/fuzz_targets.h"
#include "xfr/message.h"
#include "xfr/tsig.h"

namespace wiresign::fuzz {

int fuzz_tsig(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  ++data, --size;
  static const char* const algorithms[] = {"hmac-sha256", "hmac-sha1", "hmac-sha512", "hmac-sha384"};
  const std::vector<xfr::TsigKey> keys = {
      *xfr::make_tsig_key("xfr.key", algorithms[flags & 3], std::vector<uint8_t>(32, 0x5a)),
      *xfr::make_tsig_key("other.key", "hmac-sha256", std::vector<uint8_t>(16, 0xa5)),
  };
  constexpr uint64_t kNow = 1764000000;  // the server's clock
  std::vector<uint8_t> request_mac;
  if (flags & 4) request_mac.assign(32, 0x11);
  const bool timers_only = flags & 8;

  if (!(flags & 16)) {
    xfr::TsigVerification result = xfr::tsig_verify({data, size}, keys, kNow, request_mac, timers_only);
    (void)result.describe();
    return 0;
  }
  if (size < 8) return 0;
  xfr::TsigSignOptions options;
  options.time_signed = uint64_t{dns::get_u16(data)} << 32 | dns::get_u32(data + 2);
  options.fudge = dns::get_u16(data + 6);
  options.request_mac = request_mac;
  options.timers_only = timers_only;
  std::vector<uint8_t> message(data + 8, data + size);
  try {
    (void)xfr::parse_message(message);
  } catch (const xfr::MessageError&) {
    return 0;  // tsig_sign expects a message, not any octets
  }
  if (dns::get_u16(message.data() + 10) == 0xffff) return 0;  // no room for one more record
  std::vector<uint8_t> mac = xfr::tsig_sign(message, keys[0], options);
  xfr::TsigVerification result = xfr::tsig_verify(message, keys, kNow, request_mac, timers_only);
  uint64_t skew = kNow > options.time_signed ? kNow - options.time_signed : options.time_signed - kNow;
  auto expected = skew > options.fudge ? xfr::TsigVerification::Outcome::badtime : xfr::TsigVerification::Outcome::ok;
  if (result.outcome != expected || result.mac != mac) std::abort();  // we do not verify what we signed
  return 0;
}

}  // namespace wiresign::fuzz

WIRESIGN_FUZZ_TARGET(fuzz_tsig)
