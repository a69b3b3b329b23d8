// Signing one name at a time, shared by whole-zone signing (zone_sign.cpp)
// and the signing of a change (incremental_sign.cpp): a name's RRsets with
// their RRSIGs in the order sign_zone writes them (RFC 4035 §2.2: at a cut
// only DS is signed), its NSEC, and NSEC3 records (RFC 5155 §7.1).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signer/nsec3_chain.h"
#include "signer/rrset_sign.h"
#include "signer/zone.h"
#include "signer/zone_sign.h"

namespace wiresign::signer::detail {

enum class NameKind : uint8_t { authoritative, secure_delegation, insecure_delegation, occluded };

constexpr uint32_t kEntFlag = 0x80000000u;

struct Nsec3Entry {
  Nsec3Hash hash;
  uint32_t ref;  // a name index, or kEntFlag | index into the empty non-terminals
};

struct ZoneLayout {
  std::vector<NameKind> kinds;
  std::vector<std::string> empty_non_terminals;  // wire; only needed for NSEC3
  std::vector<Nsec3Entry> nsec3;                 // sorted by hash
  uint32_t denial_ttl = 0;
  // NSEC only, when signing a part of a zone (a change): the next name in
  // the whole zone's chain for each name of the part (wire), instead of the
  // next name of the part.
  std::vector<std::string> nsec_next;
};

// Authoritative types at a name as the NSEC/NSEC3 bitmap lists them (RFC 4035 §2.3).
void bitmap_types(std::span<const RecordEntry> records, NameKind kind, bool nsec, std::vector<uint16_t>& types);

struct KeyUse {
  SignerKey key;
  bool signs_dnskey = false;
  bool signs_zone = false;
};

// The keys of `keys`, each once, with the roles it signs in.
std::vector<KeyUse> collect_keys(const Zone& zone, const ZoneKeys& keys);

// Where a signer puts the records it writes: master-file text, or the
// uncompressed wire form of each record one after another.
class BatchOutput {
 public:
  BatchOutput(OutputForm form, size_t reserve) : form_(form) { bytes_.reserve(reserve); }
  void add(const dns::RecordView& rr);
  std::string take() { return std::move(bytes_); }

 private:
  OutputForm form_;
  std::string bytes_;
  std::vector<uint8_t> wire_;
};

// Everything one signing thread owns: its signing contexts and buffers.
class NameSigner {
 public:
  NameSigner(const Zone& zone, const ZoneLayout& layout, const std::vector<KeyUse>& keys, const ZoneKeys& zone_keys,
             const SignOptions& options);

  // Name `index` of the zone: its RRsets and their RRSIGs, then its NSEC.
  void sign_name(size_t index, BatchOutput& out, SignStats& stats);
  // The layout's NSEC3 record `k`, linked to the next one in the ring.
  void sign_nsec3(size_t k, BatchOutput& out, SignStats& stats);
  // An NSEC3 record with the given RDATA at `owner`, and its RRSIG.
  void sign_nsec3_record(std::string_view owner, std::span<const uint8_t> rdata, BatchOutput& out, SignStats& stats);

 private:
  void emit_rrset(std::string_view owner, std::span<const RecordEntry> records, uint16_t type, NameKind kind,
                  BatchOutput& out, SignStats& stats);
  void emit_nsec(size_t index, NameKind kind, BatchOutput& out, SignStats& stats);
  void emit_generated(std::string_view owner, uint16_t type, BatchOutput& out, SignStats& stats);
  void sign_and_emit(const RRsetToSign& rrset, BatchOutput& out, SignStats& stats);
  std::optional<std::span<const uint8_t>> reusable_signature(const SignerKey& key) const;
  // A reusable signature by a retiring zone signer of `key`'s algorithm
  // not yet kept for this RRset (ZoneKeys::retiring_zone_signers).
  std::optional<std::span<const uint8_t>> retiring_signature(const SignerKey& key);

  const Zone& zone_;
  const ZoneLayout& layout_;
  const std::vector<KeyUse>& keys_;
  const ZoneKeys& zone_keys_;
  const SignOptions& options_;
  std::vector<std::unique_ptr<keystore::SigningContext>> contexts_;
  SigningScratch scratch_;
  std::vector<uint8_t> rrsig_;
  std::vector<uint8_t> rdata_;
  std::vector<uint16_t> types_;
  std::vector<std::span<const uint8_t>> rdatas_;
  std::vector<SignerKey> retiring_;
  std::vector<bool> retiring_kept_;  // per retiring_ key, for the RRset being signed
  std::vector<std::span<const uint8_t>> reusable_;
  std::span<const uint8_t> single_[1];
  std::string owner_;
};

}  // namespace wiresign::signer::detail
