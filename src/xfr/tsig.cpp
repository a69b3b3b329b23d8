// TSIG MACs (RFC 8945 §4.3, §5.3): the digest covers the request MAC (in
// answers), the message as sent minus the TSIG record with its original ID,
// and the TSIG variables; later messages of a zone transfer cover only the
// timers. Checks run in the RFC's order: key, MAC, then time (§5.2).
#include "xfr/tsig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "dns/name.h"
#include "dns/record.h"
#include "xfr/message.h"

namespace wiresign::xfr {
namespace {

constexpr uint16_t kTypeTsig = 250;
constexpr uint16_t kClassAny = 255;

const EVP_MD* digest_for(const std::string& algorithm_wire) {
  std::string text = dns::to_text(algorithm_wire);
  if (text == "hmac-sha256.") return EVP_sha256();
  if (text == "hmac-sha384.") return EVP_sha384();
  if (text == "hmac-sha512.") return EVP_sha512();
  if (text == "hmac-sha224.") return EVP_sha224();
  if (text == "hmac-sha1.") return EVP_sha1();
  return nullptr;
}

// Skips a possibly compressed name in `wire` at `pos`.
size_t skip_name(std::span<const uint8_t> wire, size_t pos) {
  while (pos < wire.size()) {
    uint8_t length = wire[pos];
    if ((length & 0xc0) == 0xc0) return pos + 2;
    pos += 1 + length;
    if (length == 0) return pos;
  }
  throw MessageError("name runs past the end of the message");
}

// Offset of the last record of the message (where a TSIG must be).
size_t last_record_offset(std::span<const uint8_t> wire) {
  if (wire.size() < 12) throw MessageError("message shorter than its header");
  size_t questions = dns::get_u16(wire.data() + 4);
  size_t records = size_t{dns::get_u16(wire.data() + 6)} + dns::get_u16(wire.data() + 8) +
                   dns::get_u16(wire.data() + 10);
  if (records == 0) throw MessageError("no records");
  size_t pos = 12;
  for (size_t i = 0; i < questions; ++i) pos = skip_name(wire, pos) + 4;
  size_t last = pos;
  for (size_t i = 0; i < records; ++i) {
    last = pos;
    pos = skip_name(wire, pos) + 8;
    if (pos + 2 > wire.size()) throw MessageError("record truncated");
    pos += 2 + dns::get_u16(wire.data() + pos);
  }
  if (pos != wire.size()) throw MessageError("junk after the last record");
  return last;
}

void append(std::vector<uint8_t>& out, std::span<const uint8_t> data) { out.insert(out.end(), data.begin(), data.end()); }
void append(std::vector<uint8_t>& out, std::string_view data) { out.insert(out.end(), data.begin(), data.end()); }
void put_u48(std::vector<uint8_t>& out, uint64_t v) {
  dns::put_u16(out, static_cast<uint16_t>(v >> 32));
  dns::put_u32(out, static_cast<uint32_t>(v));
}

// One more record in ARCOUNT, for the TSIG record just appended.
void count_additional_record(std::vector<uint8_t>& wire) {
  uint16_t arcount = static_cast<uint16_t>(dns::get_u16(wire.data() + 10) + 1);
  wire[10] = static_cast<uint8_t>(arcount >> 8);
  wire[11] = static_cast<uint8_t>(arcount);
}

std::string lower(std::string wire) {
  dns::lowercase_name(wire.data(), wire.size());
  return wire;
}

struct Variables {
  uint64_t time_signed = 0;
  uint16_t fudge = 0;
  uint16_t error = 0;
  std::vector<uint8_t> other;
};

// The octets the MAC is computed over.
std::vector<uint8_t> mac_input(std::span<const uint8_t> message_without_tsig, const TsigKey& key,
                               std::span<const uint8_t> request_mac, const Variables& v, bool timers_only) {
  std::vector<uint8_t> data;
  if (!request_mac.empty()) {
    dns::put_u16(data, static_cast<uint16_t>(request_mac.size()));
    append(data, request_mac);
  }
  append(data, message_without_tsig);
  if (!timers_only) {
    append(data, key.name);
    dns::put_u16(data, kClassAny);
    dns::put_u32(data, 0);
    append(data, key.algorithm);
  }
  put_u48(data, v.time_signed);
  dns::put_u16(data, v.fudge);
  if (!timers_only) {
    dns::put_u16(data, v.error);
    dns::put_u16(data, static_cast<uint16_t>(v.other.size()));
    append(data, v.other);
  }
  return data;
}

std::vector<uint8_t> hmac(const TsigKey& key, std::span<const uint8_t> data) {
  const EVP_MD* md = digest_for(key.algorithm);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!md || !HMAC(md, key.secret.data(), static_cast<int>(key.secret.size()), data.data(), data.size(), out, &length))
    throw MessageError("HMAC failed for TSIG key " + dns::to_text(key.name));
  return {out, out + length};
}

}  // namespace

std::optional<TsigKey> make_tsig_key(const std::string& name, const std::string& algorithm,
                                     std::vector<uint8_t> secret) {
  TsigKey key;
  try {
    key.name = dns::Name::from_text(name.back() == '.' ? name : name + ".").wire();
    key.algorithm = dns::Name::from_text(algorithm.back() == '.' ? algorithm : algorithm + ".").wire();
  } catch (const dns::ParseError&) {
    return std::nullopt;
  }
  if (!digest_for(key.algorithm)) return std::nullopt;
  key.secret = std::move(secret);
  return key;
}

std::vector<uint8_t> tsig_sign(std::vector<uint8_t>& wire, const TsigKey& key, const TsigSignOptions& options) {
  if (wire.size() < 12) throw MessageError("message shorter than its header");
  Variables v{options.time_signed, options.fudge, options.error, options.other};
  std::vector<uint8_t> mac = hmac(key, mac_input(wire, key, options.request_mac, v, options.timers_only));
  uint16_t original_id = dns::get_u16(wire.data());

  append(wire, key.name);
  dns::put_u16(wire, kTypeTsig);
  dns::put_u16(wire, kClassAny);
  dns::put_u32(wire, 0);
  std::vector<uint8_t> rdata;
  append(rdata, key.algorithm);
  put_u48(rdata, v.time_signed);
  dns::put_u16(rdata, v.fudge);
  dns::put_u16(rdata, static_cast<uint16_t>(mac.size()));
  append(rdata, mac);
  dns::put_u16(rdata, original_id);
  dns::put_u16(rdata, v.error);
  dns::put_u16(rdata, static_cast<uint16_t>(v.other.size()));
  append(rdata, v.other);
  dns::put_u16(wire, static_cast<uint16_t>(rdata.size()));
  append(wire, rdata);
  count_additional_record(wire);
  return mac;
}

void tsig_append_unsigned(std::vector<uint8_t>& wire, const std::string& key_name, const std::string& algorithm,
                          uint64_t time_signed, uint16_t error) {
  if (wire.size() < 12) throw MessageError("message shorter than its header");
  uint16_t original_id = dns::get_u16(wire.data());
  append(wire, key_name);
  dns::put_u16(wire, kTypeTsig);
  dns::put_u16(wire, kClassAny);
  dns::put_u32(wire, 0);
  std::vector<uint8_t> rdata;
  append(rdata, algorithm);
  put_u48(rdata, time_signed);
  dns::put_u16(rdata, 300);
  dns::put_u16(rdata, 0);  // MAC size: unsigned
  dns::put_u16(rdata, original_id);
  dns::put_u16(rdata, error);
  dns::put_u16(rdata, 0);
  dns::put_u16(wire, static_cast<uint16_t>(rdata.size()));
  append(wire, rdata);
  count_additional_record(wire);
}

TsigVerification tsig_verify(std::span<const uint8_t> wire, std::span<const TsigKey> keys, uint64_t now,
                             std::span<const uint8_t> request_mac, bool timers_only) {
  TsigVerification result;
  using Outcome = TsigVerification::Outcome;
  size_t offset;
  try {
    if (wire.size() < 12 || dns::get_u16(wire.data() + 10) == 0) return result;
    offset = last_record_offset(wire);
  } catch (const MessageError&) {
    result.outcome = Outcome::formerr;
    return result;
  }
  // Decode the last record on its own (its owner may point into the message).
  Message whole;
  try {
    whole = parse_message(wire);
  } catch (const MessageError&) {
    result.outcome = Outcome::formerr;
    return result;
  }
  if (whole.additional.empty() || whole.additional.back().type != kTypeTsig) return result;
  const Record& record = whole.additional.back();
  result.key_name = lower(record.owner);
  const auto& rd = record.rdata;
  try {
    size_t pos = 0;
    while (pos < rd.size() && rd[pos] != 0) pos += 1 + rd[pos];
    ++pos;
    std::string algorithm = lower(std::string(rd.begin(), rd.begin() + static_cast<long>(std::min(pos, rd.size()))));
    if (pos + 10 > rd.size()) throw MessageError("TSIG RDATA truncated");
    Variables v;
    v.time_signed = uint64_t{dns::get_u16(rd.data() + pos)} << 32 | dns::get_u32(rd.data() + pos + 2);
    v.fudge = dns::get_u16(rd.data() + pos + 6);
    size_t mac_size = dns::get_u16(rd.data() + pos + 8);
    pos += 10;
    if (pos + mac_size + 6 > rd.size()) throw MessageError("TSIG MAC truncated");
    result.mac.assign(rd.begin() + static_cast<long>(pos), rd.begin() + static_cast<long>(pos + mac_size));
    pos += mac_size;
    result.original_id = dns::get_u16(rd.data() + pos);
    v.error = dns::get_u16(rd.data() + pos + 2);
    size_t other_length = dns::get_u16(rd.data() + pos + 4);
    if (pos + 6 + other_length != rd.size()) throw MessageError("TSIG RDATA length mismatch");
    v.other.assign(rd.begin() + static_cast<long>(pos + 6), rd.end());
    result.time_signed = v.time_signed;
    result.algorithm = algorithm;

    auto key = std::find_if(keys.begin(), keys.end(), [&](const TsigKey& k) {
      return k.name == result.key_name && k.algorithm == algorithm;
    });
    if (key == keys.end()) {
      result.outcome = Outcome::badkey;
      return result;
    }
    // The MAC covers the message without the TSIG record, with the original
    // ID and ARCOUNT one less (RFC 8945 §4.3.1).
    std::vector<uint8_t> message(wire.begin(), wire.begin() + static_cast<long>(offset));
    message[0] = static_cast<uint8_t>(result.original_id >> 8);
    message[1] = static_cast<uint8_t>(result.original_id);
    uint16_t arcount = static_cast<uint16_t>(dns::get_u16(message.data() + 10) - 1);
    message[10] = static_cast<uint8_t>(arcount >> 8);
    message[11] = static_cast<uint8_t>(arcount);
    std::vector<uint8_t> expected = hmac(*key, mac_input(message, *key, request_mac, v, timers_only));
    // RFC 8945 §5.2.2.1: shorter than max(10, half the hash) is a format error;
    // any truncation is refused here (local policy: full-length MACs only).
    if (mac_size > expected.size() || mac_size < std::max<size_t>(10, expected.size() / 2)) {
      result.outcome = Outcome::formerr;
      return result;
    }
    if (CRYPTO_memcmp(expected.data(), result.mac.data(), mac_size) != 0) {
      result.outcome = Outcome::badsig;
      return result;
    }
    // §5.2.3 before §5.2.4: the time, then the local truncation policy.
    uint64_t skew = now > v.time_signed ? now - v.time_signed : v.time_signed - now;
    if (skew > v.fudge) {
      result.outcome = Outcome::badtime;
      return result;
    }
    result.outcome = mac_size < expected.size() ? Outcome::badtrunc : Outcome::ok;
  } catch (const MessageError&) {
    result.outcome = Outcome::formerr;
  }
  return result;
}

std::string TsigVerification::describe() const {
  std::string key = key_name.empty() ? "" : " (key " + dns::to_text(key_name) + ")";
  switch (outcome) {
    case Outcome::unsigned_message: return "not signed";
    case Outcome::ok: return "TSIG ok" + key;
    case Outcome::formerr: return "malformed TSIG" + key;
    case Outcome::badkey: return "TSIG BADKEY: unknown key or algorithm" + key;
    case Outcome::badsig: return "TSIG BADSIG: MAC does not match" + key;
    case Outcome::badtime: return "TSIG BADTIME: signed at " + std::to_string(time_signed) + ", outside the fudge" + key;
    case Outcome::badtrunc: return "TSIG BADTRUNC: truncated MAC refused" + key;
  }
  return "unknown";
}

}  // namespace wiresign::xfr
