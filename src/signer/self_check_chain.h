// The structure half of the self-check (self_check.cpp): the apex, RRSIGs
// where RFC 4035 §2.2 puts them and nowhere else, and the NSEC chain (RFC 4034
// §4) or NSEC3 ring (RFC 5155 §7.1) rebuilt from the zone's own names.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dns/name.h"
#include "signer/self_check.h"
#include "signer/self_check_index.h"

namespace wiresign::signer::self_check {

// What a name is to the denial chain.
enum class Kind : uint8_t { apex, authoritative, secure_delegation, insecure_delegation, empty_non_terminal };

struct Nsec3Params {
  uint8_t algorithm = 0;
  uint16_t iterations = 0;
  std::span<const uint8_t> salt;
};

struct Nsec3Fields {  // RFC 5155 §3.2
  uint8_t algorithm = 0;
  uint8_t flags = 0;
  uint16_t iterations = 0;
  std::span<const uint8_t> salt, next, bitmap;
};

// The types at one name.
struct NameTypes {
  std::vector<uint16_t> types;    // RRset types other than RRSIG, ascending
  std::vector<uint16_t> covered;  // types the RRSIGs here cover, ascending
  bool has(uint16_t type) const { return std::binary_search(types.begin(), types.end(), type); }
  bool is_signed(uint16_t type) const { return std::binary_search(covered.begin(), covered.end(), type); }
};

// The base32hex text of an NSEC3 hash.
std::string hash_text(std::span<const uint8_t> hash);
// RFC 4034 §4.1.2 window blocks into a type list; false when malformed.
bool decode_type_bitmap(std::span<const uint8_t> bitmap, std::vector<uint16_t>& types);
std::string types_text(std::span<const uint16_t> types);
// The types a name's NSEC (`nsec`) or NSEC3 bitmap lists, from the types it holds.
void expected_types(Kind kind, const NameTypes& held, bool nsec, std::vector<uint16_t>& out);
// NSEC3 RDATA's fields; false when malformed.
bool parse_nsec3(std::span<const uint8_t> rdata, Nsec3Fields& out);

// Reads the RRset types among one owner's `records` and the types its RRSIGs cover.
void read_types(std::span<const WireRecord> records, NameTypes& out);

// Everything but the cryptography: apex, signatures present where they
// belong, validity periods, and the NSEC or NSEC3 chain.
// `apex` is the apex's run in index.names.
void check_structure(const ZoneIndex& index, const dns::Name& origin, const VerifyPlan& plan, uint32_t now,
                     Problems& problems, SelfCheckReport& report, size_t apex, unsigned threads);

}  // namespace wiresign::signer::self_check
