// TSIG (RFC 8945): signing and verifying DNS messages with a shared key,
// hmac-sha256/384/512 and hmac-sha1 for old setups. Works on wire form, since
// the MAC covers the message exactly as sent.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wiresign::xfr {

struct TsigKey {
  std::string name;       // wire, lower case
  std::string algorithm;  // wire, lower case: "hmac-sha256." etc.
  std::vector<uint8_t> secret;
};

// "hmac-sha256" (presentation, with or without the trailing dot) -> a key;
// nullopt for an algorithm we do not do.
std::optional<TsigKey> make_tsig_key(const std::string& name, const std::string& algorithm,
                                     std::vector<uint8_t> secret);

namespace tsig_error {
constexpr uint16_t none = 0, badsig = 16, badkey = 17, badtime = 18, badtrunc = 22;
}

struct TsigSignOptions {
  uint64_t time_signed = 0;          // seconds since the epoch (48 bits on the wire)
  uint16_t fudge = 300;              // RFC 8945 §10: 300 s recommended
  std::vector<uint8_t> request_mac;  // for a response: the MAC of the request
  bool timers_only = false;          // later messages of a multi-message answer (§5.3.1)
  uint16_t error = tsig_error::none;
  std::vector<uint8_t> other;        // Other Data: the server's time in a BADTIME answer (§5.2.3)
};

// Appends a TSIG record to `wire` (a complete message without one) and
// increments ARCOUNT. Returns the MAC, which the next message of the
// exchange needs.
std::vector<uint8_t> tsig_sign(std::vector<uint8_t>& wire, const TsigKey& key, const TsigSignOptions& options);

// Appends the unsigned TSIG record of an error answer (RFC 8945 §5.3.2: MAC
// size 0) naming `key_name` and `algorithm` (wire), and increments ARCOUNT.
void tsig_append_unsigned(std::vector<uint8_t>& wire, const std::string& key_name, const std::string& algorithm,
                          uint64_t time_signed, uint16_t error);

struct TsigVerification {
  enum class Outcome { unsigned_message, ok, formerr, badkey, badsig, badtime, badtrunc };
  Outcome outcome = Outcome::unsigned_message;
  std::string key_name;     // wire, as in the record
  std::string algorithm;    // wire, lower case, as in the record
  std::vector<uint8_t> mac; // the MAC received (for signing the answer)
  uint64_t time_signed = 0;
  uint16_t original_id = 0;
  std::string describe() const;
};

// Finds the TSIG record (last in the additional section) and checks it with
// the key of that name among `keys`, against `now` and its fudge.
// `request_mac` is empty for a request.
TsigVerification tsig_verify(std::span<const uint8_t> wire, std::span<const TsigKey> keys, uint64_t now,
                             std::span<const uint8_t> request_mac = {}, bool timers_only = false);

}  // namespace wiresign::xfr
