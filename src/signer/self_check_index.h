// The wire-record index the self-check (self_check.cpp) reads a signed zone
// through: records found by offset, owners in canonical order (RFC 4034 §6.1),
// NSEC3 owners in hash order (RFC 5155 §3), and which RRSIGs ldns verifies.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dns/name.h"

// ldns's name type, declared only: <ldns/ldns.h> defines `bool`, `true` and
// `false` as macros, so it stays out of headers.
struct ldns_struct_rdf;

namespace wiresign::signer::self_check {

constexpr size_t kNone = SIZE_MAX;
constexpr size_t kFixedFields = 10;  // type, class, TTL, RDLENGTH
constexpr size_t kRrsigFixed = 18;   // RRSIG RDATA before the signer's name (RFC 4034 §3.1)
constexpr size_t kHashLabel = 32;    // base32hex of a SHA-1 hash
using Hash = std::array<uint8_t, 20>;

// A name in our buffer as an ldns_rdf, without copying (ldns only reads it).
ldns_struct_rdf dname_rdf(std::string_view wire);

// RFC 4034 §6.1 order as ldns computes it, not the signer's sort key.
int compare_names(std::string_view a, std::string_view b);

// End of the uncompressed name at `pos`, or kNone when it is malformed.
size_t name_end(std::string_view wire, size_t pos);

// The hash an NSEC3 owner label spells in base32hex (RFC 4648 §7).
bool decode_hash_label(std::string_view text, Hash& hash);

// Seconds since the epoch as YYYYMMDDHHmmSS in UTC, the RRSIG presentation format (RFC 4034 §3.2).
std::string time_text(uint32_t seconds);

// Problems found so far, up to the caller's limit.
class Problems {
 public:
  explicit Problems(size_t limit) : limit_(limit ? limit : kNone) {}
  void add(std::string text) {
    if (!full()) list_.push_back(std::move(text));
  }
  bool full() const { return list_.size() >= limit_; }
  size_t room() const { return limit_ - list_.size(); }
  std::vector<std::string> take() { return std::move(list_); }

 private:
  size_t limit_;
  std::vector<std::string> list_;
};

// "www.example.com. A": the owner and type a problem is about.
std::string describe(std::string_view owner, uint16_t type);

// "RRSIG (key 12345, algorithm 13)" from RRSIG RDATA of at least kRrsigFixed octets.
std::string rrsig_text(std::span<const uint8_t> rdata);

// One record of the zone, found by offset: 16 octets instead of an ldns_rr.
struct WireRecord {
  uint64_t offset = 0;  // the owner's first octet
  uint16_t owner_length = 0;
  uint16_t type = 0;
  uint16_t rdata_length = 0;
  uint16_t covered = 0;  // RRSIG: the type it covers
};

struct Run {  // consecutive records of one owner
  uint32_t first = 0;
  uint32_t count = 0;
};

struct Side {
  std::vector<WireRecord> records;
  std::vector<Run> runs;
  std::span<const WireRecord> at(size_t run) const { return {records.data() + runs[run].first, runs[run].count}; }
};

class ZoneIndex {
 public:
  explicit ZoneIndex(std::string_view wire) : wire_(wire) {}
  std::string_view wire() const { return wire_; }
  std::string_view owner(const WireRecord& r) const { return wire_.substr(r.offset, r.owner_length); }
  std::string_view owner(const Side& side, size_t run) const { return owner(side.records[side.runs[run].first]); }
  std::span<const uint8_t> rdata(const WireRecord& r) const {
    return {reinterpret_cast<const uint8_t*>(wire_.data()) + r.offset + r.owner_length + kFixedFields,
            r.rdata_length};
  }

  Side names;                // every record but NSEC3 and its RRSIGs; runs in canonical order
  Side hashed;               // NSEC3 records and their RRSIGs; runs in hash order
  std::vector<Hash> hashes;  // each hashed run's owner hash

 private:
  std::string_view wire_;
};

// Splits the zone into records; false (with a problem) when it is not well-formed wire.
bool index_zone(ZoneIndex& index, const dns::Name& origin, Problems& problems);

// The run of `owner` among the canonically ordered names, or kNone.
size_t find_name(const ZoneIndex& index, std::string_view owner);

// Runs `work(begin, end)` over [0, count) in chunks on up to `threads` threads;
// rethrows the first exception once all have stopped.
template <class Work>
void parallel_for(size_t count, unsigned threads, size_t chunk, const Work& work) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  auto run = [&] {
    try {
      for (size_t begin; (begin = next.fetch_add(chunk)) < count;) work(begin, std::min(count, begin + chunk));
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failure) failure = std::current_exception();
      next = count;
    }
  };
  size_t useful = std::max<size_t>(1, (count + chunk - 1) / chunk);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min<size_t>(std::max(1u, threads), useful); ++t) pool.emplace_back(run);
  run();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

// One RRSIG of the zone for ldns to verify: its owner's run and its record.
struct Job {
  uint32_t run = 0;
  uint32_t record = 0;
  bool hashed = false;  // on the NSEC3 side
  auto operator<=>(const Job&) const = default;
};

// Which RRSIGs ldns verifies (and so also checks the validity period of).
struct VerifyPlan {
  std::vector<Job> jobs;
  bool all = false;
  std::vector<bool> names, hashed;  // per record, unless all
  bool covers(bool on_hashed_side, size_t record) const {
    return all || (on_hashed_side ? hashed : names)[record];
  }
};

// Every RRSIG of the zone.
VerifyPlan plan_all(const ZoneIndex& index);

// Finds each listed RRSIG in the zone: one that is not there would not be published.
VerifyPlan plan_listed(const ZoneIndex& index, const std::vector<std::string_view>& list, Problems& problems);

}  // namespace wiresign::signer::self_check
