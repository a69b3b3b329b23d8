// Self-check of a signed zone before publication. The wire records are indexed
// by offset only; the zone's structure (apex, cuts, empty non-terminals) is
// rebuilt from them and the denial chain compared with it (RFC 4034 §4,
// RFC 4035 §2.2-2.3, RFC 5155 §7.1); ldns orders names, hashes NSEC3 owners
// and verifies RRSIGs (RFC 4035 §5.3), so no signer code judges its own work.
#include "signer/self_check.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>
#include <utility>

#include "dns/base_encoding.h"
#include "dns/record.h"
#include "dns/rr_type.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include <ldns/ldns.h>

namespace wiresign::signer {
namespace {

namespace rr = dns::rr_type;

constexpr size_t kNone = SIZE_MAX;
constexpr size_t kFixedFields = 10;  // type, class, TTL, RDLENGTH
constexpr size_t kRrsigFixed = 18;   // RRSIG RDATA before the signer's name (RFC 4034 §3.1)
constexpr size_t kHashLabel = 32;    // base32hex of a SHA-1 hash
using Hash = std::array<uint8_t, 20>;

struct RdfFree {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
struct RrFree {
  void operator()(ldns_rr* record) const { ldns_rr_free(record); }
};
struct RrListFree {
  void operator()(ldns_rr_list* list) const { ldns_rr_list_deep_free(list); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;

// A name in our buffer as an ldns_rdf, without copying (ldns only reads it).
ldns_rdf dname_rdf(std::string_view wire) {
  ldns_rdf rdf{};
  ldns_rdf_set_size(&rdf, wire.size());
  ldns_rdf_set_type(&rdf, LDNS_RDF_TYPE_DNAME);
  ldns_rdf_set_data(&rdf, const_cast<char*>(wire.data()));
  return rdf;
}

// RFC 4034 §6.1 order as ldns computes it, not the signer's sort key.
int compare_names(std::string_view a, std::string_view b) {
  ldns_rdf ra = dname_rdf(a), rb = dname_rdf(b);
  return ldns_dname_compare(&ra, &rb);
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Equal wire names, ignoring ASCII case (RFC 4343).
bool same_owner(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// End of the uncompressed name at `pos`, or kNone when it is malformed.
size_t name_end(std::string_view wire, size_t pos) {
  const size_t start = pos;
  while (pos < wire.size()) {
    auto length = static_cast<uint8_t>(wire[pos]);
    if (length == 0) return pos + 1 - start <= 255 ? pos + 1 : kNone;
    if (length > 63) return kNone;  // a compression pointer has no place here
    pos += 1 + length;
  }
  return kNone;
}

// The hash an NSEC3 owner label spells in base32hex (RFC 4648 §7).
bool decode_hash_label(std::string_view text, Hash& hash) {
  if (text.size() != kHashLabel) return false;
  unsigned bits = 0, accumulator = 0;
  size_t out = 0;
  for (char c : text) {
    unsigned value;
    c = ascii_lower(c);
    if (c >= '0' && c <= '9') value = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'v') value = static_cast<unsigned>(c - 'a' + 10);
    else return false;
    accumulator = (accumulator << 5 | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      hash[out++] = static_cast<uint8_t>(accumulator >> bits);
    }
  }
  return true;
}

std::string hash_text(std::span<const uint8_t> hash) {
  std::string out;
  dns::append_base32hex(out, hash);
  return out;
}

// RFC 4034 §4.1.2 window blocks into a type list; false when malformed
// (blocks out of order, empty, or with trailing zero octets).
bool decode_type_bitmap(std::span<const uint8_t> bitmap, std::vector<uint16_t>& types) {
  types.clear();
  size_t pos = 0;
  int last_window = -1;
  while (pos < bitmap.size()) {
    if (pos + 2 > bitmap.size()) return false;
    int window = bitmap[pos];
    size_t length = bitmap[pos + 1];
    pos += 2;
    if (window <= last_window || length == 0 || length > 32 || pos + length > bitmap.size()) return false;
    if (bitmap[pos + length - 1] == 0) return false;
    for (size_t i = 0; i < length; ++i)
      for (unsigned bit = 0; bit < 8; ++bit)
        if (bitmap[pos + i] & (0x80 >> bit)) types.push_back(static_cast<uint16_t>(window * 256 + i * 8 + bit));
    pos += length;
    last_window = window;
  }
  return true;
}

std::string types_text(std::span<const uint16_t> types) {
  if (types.empty()) return "no types";
  std::string out;
  for (uint16_t type : types) out += (out.empty() ? "" : " ") + dns::type_name(type);
  return out;
}

std::string time_text(uint32_t seconds) {
  time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

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

std::string describe(std::string_view owner, uint16_t type) { return dns::to_text(owner) + " " + dns::type_name(type); }

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// "RRSIG (key 12345, algorithm 13)" from RRSIG RDATA of at least kRrsigFixed octets.
std::string rrsig_text(std::span<const uint8_t> rdata) {
  return "RRSIG (key " + std::to_string(dns::get_u16(rdata.data() + 16)) + ", algorithm " +
         std::to_string(rdata[2]) + ")";
}

// One record of the zone, found by offset: 16 octets instead of an ldns_rr.
struct WireRecord {
  uint64_t offset = 0;  // the owner's first octet
  uint16_t owner_length = 0;
  uint16_t type = 0;
  uint16_t rdata_length = 0;
  uint16_t covered = 0;  // RRSIG: the type it covers
};

// Reads the uncompressed record at `pos` of `wire`; false when malformed.
bool read_record(std::string_view wire, size_t& pos, WireRecord& record, uint16_t& rclass) {
  size_t owner_end = name_end(wire, pos);
  if (owner_end == kNone || owner_end + kFixedFields > wire.size()) return false;
  const auto* fixed = reinterpret_cast<const uint8_t*>(wire.data()) + owner_end;
  record.offset = pos;
  record.owner_length = static_cast<uint16_t>(owner_end - pos);
  record.type = dns::get_u16(fixed);
  rclass = dns::get_u16(fixed + 2);
  record.rdata_length = dns::get_u16(fixed + 8);
  size_t end = owner_end + kFixedFields + record.rdata_length;
  if (end > wire.size()) return false;
  if (record.type == rr::RRSIG) {
    if (record.rdata_length <= kRrsigFixed) return false;
    record.covered = dns::get_u16(fixed + kFixedFields);
  }
  pos = end;
  return true;
}

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

void make_runs(const ZoneIndex& index, Side& side) {
  side.runs.clear();
  for (size_t i = 0; i < side.records.size(); ++i) {
    if (i == 0 || !same_owner(index.owner(side.records[i]), index.owner(side.records[i - 1])))
      side.runs.push_back({static_cast<uint32_t>(i), 0});
    ++side.runs.back().count;
  }
}

// The signer writes names in canonical order, so checking the order is the
// common case; anything else is sorted (stably, so each RRset keeps its order).
void order_names(ZoneIndex& index) {
  Side& side = index.names;
  make_runs(index, side);
  bool ordered = true;
  for (size_t i = 1; i < side.runs.size() && ordered; ++i)
    ordered = compare_names(index.owner(side, i - 1), index.owner(side, i)) < 0;
  if (ordered) return;
  std::stable_sort(side.records.begin(), side.records.end(), [&](const WireRecord& a, const WireRecord& b) {
    return compare_names(index.owner(a), index.owner(b)) < 0;
  });
  make_runs(index, side);
}


// NSEC3 owners are one base32hex hash label directly below the apex (RFC 5155
// §3); records owned by anything else are reported and left out of the ring.
void order_hashed(ZoneIndex& index, const dns::Name& origin, Problems& problems) {
  Side& side = index.hashed;
  const std::string& apex = origin.wire();
  auto owner_hash = [&](const WireRecord& r, Hash& hash) {
    std::string_view owner = index.owner(r);
    return owner.size() == 1 + kHashLabel + apex.size() && static_cast<uint8_t>(owner[0]) == kHashLabel &&
           same_owner(owner.substr(1 + kHashLabel), apex) && decode_hash_label(owner.substr(1, kHashLabel), hash);
  };
  // An owner's records share one hash: decode it once per run.
  auto hash_runs = [&] {
    make_runs(index, side);
    index.hashes.resize(side.runs.size());
    bool valid = true;
    for (size_t k = 0; k < side.runs.size(); ++k) {
      if (owner_hash(side.records[side.runs[k].first], index.hashes[k])) continue;
      problems.add(describe(index.owner(side, k), rr::NSEC3) + ": owner is not a hash label directly below the apex");
      valid = false;
    }
    return valid;
  };
  Hash hash{};
  if (!hash_runs()) {
    std::erase_if(side.records, [&](const WireRecord& r) { return !owner_hash(r, hash); });
    hash_runs();
  }
  if (std::adjacent_find(index.hashes.begin(), index.hashes.end(), std::greater_equal<>()) == index.hashes.end())
    return;
  std::vector<std::pair<Hash, uint32_t>> keyed(side.records.size());
  for (size_t i = 0; i < side.records.size(); ++i) {
    owner_hash(side.records[i], keyed[i].first);
    keyed[i].second = static_cast<uint32_t>(i);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<WireRecord> sorted;
  sorted.reserve(keyed.size());
  for (const auto& entry : keyed) sorted.push_back(side.records[entry.second]);
  side.records = std::move(sorted);
  hash_runs();
}

// Splits the zone into records; false (with a problem) when it is not well-formed wire.
bool index_zone(ZoneIndex& index, const dns::Name& origin, Problems& problems) {
  std::string_view wire = index.wire();
  index.names.records.reserve(wire.size() / 64);
  size_t pos = 0;
  while (pos < wire.size()) {
    const size_t start = pos;
    WireRecord record;
    uint16_t rclass = 0;
    if (!read_record(wire, pos, record, rclass)) {
      problems.add(origin.to_text() + ": malformed record at octet " + std::to_string(start) + " of the signed zone");
      return false;
    }
    if (rclass != dns::kClassIN)
      problems.add(describe(index.owner(record), record.type) + ": class " + std::to_string(rclass) + ", not IN");
    bool hashed = record.type == rr::NSEC3 || (record.type == rr::RRSIG && record.covered == rr::NSEC3);
    (hashed ? index.hashed : index.names).records.push_back(record);
  }
  order_names(index);
  order_hashed(index, origin, problems);
  return true;
}

// The run of `owner` among the canonically ordered names, or kNone.
size_t find_name(const ZoneIndex& index, std::string_view owner) {
  const Side& side = index.names;
  size_t low = 0, high = side.runs.size();
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (compare_names(index.owner(side, middle), owner) < 0) low = middle + 1;
    else high = middle;
  }
  return low < side.runs.size() && compare_names(index.owner(side, low), owner) == 0 ? low : kNone;
}

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

VerifyPlan plan_all(const ZoneIndex& index) {
  VerifyPlan plan;
  plan.all = true;
  for (bool on_hashed_side : {false, true}) {
    const Side& side = on_hashed_side ? index.hashed : index.names;
    for (size_t k = 0; k < side.runs.size(); ++k)
      for (uint32_t i = side.runs[k].first; i < side.runs[k].first + side.runs[k].count; ++i)
        if (side.records[i].type == rr::RRSIG) plan.jobs.push_back({static_cast<uint32_t>(k), i, on_hashed_side});
  }
  return plan;
}

// Finds each listed RRSIG in the zone: one that is not there would not be published.
VerifyPlan plan_listed(const ZoneIndex& index, const std::vector<std::string_view>& list, Problems& problems) {
  VerifyPlan plan;
  plan.names.assign(index.names.records.size(), false);
  plan.hashed.assign(index.hashed.records.size(), false);
  for (size_t n = 0; n < list.size(); ++n) {
    std::string_view entry = list[n];
    size_t pos = 0;
    WireRecord listed;
    uint16_t rclass = 0;
    if (!read_record(entry, pos, listed, rclass) || pos != entry.size() || listed.type != rr::RRSIG) {
      problems.add("entry " + std::to_string(n) + " of the RRSIGs to check is not one RRSIG record in wire form");
      continue;
    }
    std::string_view owner = entry.substr(0, listed.owner_length);
    auto rdata = as_bytes(entry.substr(listed.owner_length + kFixedFields));
    const bool on_hashed_side = listed.covered == rr::NSEC3;
    const Side& side = on_hashed_side ? index.hashed : index.names;
    size_t run = kNone;
    Hash hash{};
    if (!on_hashed_side) {
      run = find_name(index, owner);
    } else if (owner.size() > kHashLabel && decode_hash_label(owner.substr(1, kHashLabel), hash)) {
      auto it = std::lower_bound(index.hashes.begin(), index.hashes.end(), hash);
      if (it != index.hashes.end() && *it == hash && same_owner(index.owner(side, it - index.hashes.begin()), owner))
        run = static_cast<size_t>(it - index.hashes.begin());
    }
    size_t found = kNone;
    if (run != kNone) {
      for (size_t i = side.runs[run].first; i < side.runs[run].first + side.runs[run].count; ++i)
        if (side.records[i].type == rr::RRSIG && std::ranges::equal(index.rdata(side.records[i]), rdata)) found = i;
    }
    if (found == kNone) {
      problems.add(describe(owner, listed.covered) + ": " + rrsig_text(rdata) +
                   " made by this signing is not in the zone");
      continue;
    }
    plan.jobs.push_back({static_cast<uint32_t>(run), static_cast<uint32_t>(found), on_hashed_side});
    (on_hashed_side ? plan.hashed : plan.names)[found] = true;
  }
  std::sort(plan.jobs.begin(), plan.jobs.end());
  plan.jobs.erase(std::unique(plan.jobs.begin(), plan.jobs.end()), plan.jobs.end());
  return plan;
}

// What a name is to the denial chain.
enum class Kind : uint8_t { apex, authoritative, secure_delegation, insecure_delegation, empty_non_terminal };

// A name the NSEC or NSEC3 chain must account for.
struct ChainName {
  std::string_view owner;
  size_t run = kNone;  // empty non-terminals have no records
  Kind kind = Kind::authoritative;
  bool required = true;  // NSEC3: may not go without one even under opt-out (RFC 5155 §7.1)
  Hash hash{};
};

std::string name_text(const ChainName& name) {
  return dns::to_text(name.owner) + (name.kind == Kind::empty_non_terminal ? " (empty non-terminal)" : "");
}

// The types at one name.
struct NameTypes {
  std::vector<uint16_t> types;    // RRset types other than RRSIG, ascending
  std::vector<uint16_t> covered;  // types the RRSIGs here cover, ascending
  bool has(uint16_t type) const { return std::binary_search(types.begin(), types.end(), type); }
  bool is_signed(uint16_t type) const { return std::binary_search(covered.begin(), covered.end(), type); }
};

void sort_unique(std::vector<uint16_t>& types) {
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
}

void read_types(std::span<const WireRecord> records, NameTypes& out) {
  out.types.clear();
  out.covered.clear();
  for (const auto& r : records) {
    if (r.type == rr::RRSIG) out.covered.push_back(r.covered);
    else out.types.push_back(r.type);
  }
  sort_unique(out.types);
  sort_unique(out.covered);
}

// The types a name's NSEC or NSEC3 bitmap lists (RFC 4034 §4.1.2; RFC 4035
// §2.3: at a delegation only NS, DS and what the parent signs there; RFC 5155
// §3.2: an NSEC3's own RRSIG is at the hashed owner, so an insecure
// delegation has no RRSIG bit).
void expected_types(Kind kind, const NameTypes& held, bool nsec, std::vector<uint16_t>& out) {
  out.clear();
  switch (kind) {
    case Kind::apex:
    case Kind::authoritative:
      for (uint16_t type : held.types)
        if (type != rr::NSEC) out.push_back(type);
      out.push_back(rr::RRSIG);
      break;
    case Kind::secure_delegation:
      out.insert(out.end(), {rr::NS, rr::DS, rr::RRSIG});
      break;
    case Kind::insecure_delegation:
      out.push_back(rr::NS);
      if (nsec) out.push_back(rr::RRSIG);
      break;
    case Kind::empty_non_terminal:
      break;
  }
  if (nsec) out.push_back(rr::NSEC);
  sort_unique(out);
}

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

bool parse_nsec3(std::span<const uint8_t> rdata, Nsec3Fields& out) {
  if (rdata.size() < 6) return false;
  out.algorithm = rdata[0];
  out.flags = rdata[1];
  out.iterations = dns::get_u16(rdata.data() + 2);
  size_t pos = 5 + rdata[4];
  if (pos >= rdata.size() || pos + 1 + rdata[pos] > rdata.size()) return false;
  out.salt = rdata.subspan(5, rdata[4]);
  out.next = rdata.subspan(pos + 1, rdata[pos]);
  out.bitmap = rdata.subspan(pos + 1 + rdata[pos]);
  return true;
}

// RFC 5155 §5 hashes of every name, by ldns.
void hash_names(std::vector<ChainName>& chain, const Nsec3Params& params, unsigned threads) {
  parallel_for(chain.size(), threads, 4096, [&](size_t begin, size_t end) {
    for (size_t n = begin; n < end; ++n) {
      ldns_rdf name = dname_rdf(chain[n].owner);
      RdfPtr hashed(ldns_nsec3_hash_name(&name, params.algorithm, params.iterations,
                                         static_cast<uint8_t>(params.salt.size()), params.salt.data()));
      std::string_view label;
      if (hashed) label = {reinterpret_cast<const char*>(ldns_rdf_data(hashed.get())), ldns_rdf_size(hashed.get())};
      if (label.empty() || !decode_hash_label(label.substr(1, static_cast<uint8_t>(label[0])), chain[n].hash))
        throw std::runtime_error("ldns_nsec3_hash_name failed for " + dns::to_text(chain[n].owner));
    }
  });
}

// Everything but the cryptography: apex, signatures present where they
// belong, validity periods, and the NSEC or NSEC3 chain.
class StructureCheck {
 public:
  StructureCheck(const ZoneIndex& index, const dns::Name& origin, const VerifyPlan& plan, uint32_t now,
                 Problems& problems, SelfCheckReport& report)
      : index_(index), origin_(origin), plan_(plan), now_(now), problems_(problems), report_(report) {}

  void run(size_t apex, unsigned threads) {
    std::optional<Nsec3Params> params = nsec3_params(apex);
    std::vector<ChainName> chain = walk_names(apex);
    if (problems_.full()) return;
    if (!nsec3_) {
      if (!index_.hashed.runs.empty())
        problems_.add(describe(index_.owner(index_.hashed, 0), rr::NSEC3) +
                      ": NSEC3 records in a zone without NSEC3PARAM at the apex");
      check_nsec_chain(chain);
    } else if (params) {
      check_nsec3_chain(chain, *params, threads);
    }
  }

 private:
  // NSEC3PARAM at the apex selects NSEC3 and gives its hash parameters (RFC 5155 §4).
  std::optional<Nsec3Params> nsec3_params(size_t apex) {
    for (const auto& r : index_.names.at(apex)) {
      if (r.type != rr::NSEC3PARAM) continue;
      nsec3_ = true;
      auto rd = index_.rdata(r);
      const std::string what = describe(origin_.wire(), rr::NSEC3PARAM) + ": ";
      if (rd.size() < 5 || rd.size() != 5u + rd[4]) {
        problems_.add(what + "malformed RDATA");
        return std::nullopt;
      }
      if (rd[0] != 1) {
        problems_.add(what + "hash algorithm " + std::to_string(rd[0]) + " is not SHA-1 (1), the only one defined");
        return std::nullopt;
      }
      if (rd[1] != 0)
        problems_.add(what + "flags are " + std::to_string(rd[1]) + "; servers ignore it unless 0 (RFC 5155 §4.1.2)");
      return Nsec3Params{rd[0], dns::get_u16(rd.data() + 2), rd.subspan(5)};
    }
    return std::nullopt;
  }

  // Walks the names in canonical order: a name below a cut directly follows
  // it, and a stack of open ancestors shows which ancestors do not exist
  // (empty non-terminals, which NSEC3 covers too: RFC 5155 §7.1).
  std::vector<ChainName> walk_names(size_t apex) {
    const Side& side = index_.names;
    std::vector<ChainName> chain;
    struct Open {
      std::string_view owner;
      size_t chain_index;
    };
    std::vector<Open> open;
    std::string_view cut;
    NameTypes held;
    for (size_t k = 0; k < side.runs.size() && !problems_.full(); ++k) {
      std::string_view owner = index_.owner(side, k);
      const Run run = side.runs[k];
      for (size_t i = run.first; i < run.first + run.count; ++i)
        if (side.records[i].type == rr::RRSIG) check_rrsig_fields(owner, side.records[i], false, i);
      read_types(side.at(k), held);
      if (!dns::is_at_or_below(owner, origin_.wire())) {
        problems_.add(describe(owner, held.types.empty() ? rr::RRSIG : held.types[0]) + ": outside the zone " +
                      origin_.to_text());
        continue;
      }
      if (k != apex && !cut.empty() && dns::is_at_or_below(owner, cut)) {
        check_occluded(owner, cut, held);
        continue;
      }
      Kind kind = Kind::authoritative;
      cut = {};
      if (k == apex) {
        kind = Kind::apex;
      } else if (held.has(rr::NS)) {
        kind = held.has(rr::DS) ? Kind::secure_delegation : Kind::insecure_delegation;
        cut = owner;
      }
      check_signatures(owner, kind, held);
      if (nsec3_) {
        while (!open.empty() && !dns::is_at_or_below(owner, open.back().owner)) open.pop_back();
        if (!open.empty()) {
          size_t first = chain.size();
          for (auto p = dns::parent_of(owner); p.size() > open.back().owner.size(); p = dns::parent_of(p))
            chain.push_back({p, kNone, Kind::empty_non_terminal, false});
          std::reverse(chain.begin() + static_cast<ptrdiff_t>(first), chain.end());
          for (size_t n = first; n < chain.size(); ++n) open.push_back({chain[n].owner, n});
        }
        // An empty non-terminal needs its NSEC3 when anything below it does.
        if (kind != Kind::insecure_delegation) {
          for (auto it = open.rbegin(); it != open.rend(); ++it) {
            ChainName& above = chain[it->chain_index];
            if (above.kind != Kind::empty_non_terminal || above.required) break;
            above.required = true;
          }
        }
        open.push_back({owner, chain.size()});
      }
      chain.push_back({owner, k, kind, kind != Kind::insecure_delegation});
    }
    return chain;
  }

  // RFC 4035 §2.2: every authoritative RRset is signed; at a delegation only
  // DS and NSEC are.
  void check_signatures(std::string_view owner, Kind kind, const NameTypes& held) {
    const bool at_cut = kind == Kind::secure_delegation || kind == Kind::insecure_delegation;
    if (kind == Kind::apex) {
      for (uint16_t type : {rr::SOA, rr::NS, rr::DNSKEY})
        if (!held.has(type))
          problems_.add(describe(owner, type) + ": the apex has no " + dns::type_name(type) + " RRset");
    }
    for (uint16_t type : held.types) {
      if (type == rr::NSEC && nsec3_)
        problems_.add(describe(owner, type) + ": an NSEC record in a zone with NSEC3PARAM at the apex");
      bool needs_rrsig = !at_cut || type == rr::DS || type == rr::NSEC;
      if (needs_rrsig && !held.is_signed(type)) problems_.add(describe(owner, type) + ": no RRSIG");
    }
    for (uint16_t type : held.covered) {
      if (!held.has(type))
        problems_.add(describe(owner, type) + ": RRSIG without the RRset it covers");
      else if (at_cut && type != rr::DS && type != rr::NSEC)
        problems_.add(describe(owner, type) +
                      ": RRSIG at a delegation, where only DS and NSEC are signed (RFC 4035 §2.2)");
    }
  }

  // Below a cut nothing is authoritative: glue and occluded data go unsigned
  // and outside the denial chain.
  void check_occluded(std::string_view owner, std::string_view cut, const NameTypes& held) {
    for (uint16_t type : held.covered)
      problems_.add(describe(owner, type) + ": RRSIG below the zone cut at " + dns::to_text(cut) +
                    ", where data is not authoritative (RFC 4035 §2.2)");
    if (held.has(rr::NSEC))
      problems_.add(describe(owner, rr::NSEC) + ": NSEC below the zone cut at " + dns::to_text(cut));
  }

  // The signer's name is the apex (RFC 4035 §2.2), and an RRSIG ldns does not
  // verify must still be in its validity period (RFC 4034 §3.1.5, serial
  // number arithmetic).
  void check_rrsig_fields(std::string_view owner, const WireRecord& r, bool on_hashed_side, size_t record) {
    auto rd = index_.rdata(r);
    std::string_view fields(reinterpret_cast<const char*>(rd.data()), rd.size());
    size_t end = name_end(fields, kRrsigFixed);
    if (end == kNone) {
      problems_.add(describe(owner, r.covered) + ": " + rrsig_text(rd) + " has a malformed signer's name");
      return;
    }
    std::string_view signer = fields.substr(kRrsigFixed, end - kRrsigFixed);
    if (signer != origin_.wire() && compare_names(signer, origin_.wire()) != 0)
      problems_.add(describe(owner, r.covered) + ": " + rrsig_text(rd) + " names signer " + dns::to_text(signer) +
                    ", not the apex");
    if (plan_.covers(on_hashed_side, record)) return;
    uint32_t expiration = dns::get_u32(rd.data() + 8), inception = dns::get_u32(rd.data() + 12);
    std::string what;
    if (static_cast<int32_t>(expiration - inception) < 0)
      what = "expires (" + time_text(expiration) + ") before its inception (" + time_text(inception) + ")";
    else if (static_cast<int32_t>(now_ - inception) < 0)
      what = "is not valid before " + time_text(inception) + " (now " + time_text(now_) + ")";
    else if (static_cast<int32_t>(expiration - now_) < 0)
      what = "expired at " + time_text(expiration) + " (now " + time_text(now_) + ")";
    if (!what.empty()) problems_.add(describe(owner, r.covered) + ": " + rrsig_text(rd) + " " + what);
  }

  // RFC 4034 §4.1: each name's NSEC names the next name in canonical order,
  // the last one the apex, and lists exactly the types at its owner.
  void check_nsec_chain(const std::vector<ChainName>& chain) {
    NameTypes held;
    std::vector<uint16_t> expected, listed;
    for (size_t n = 0; n < chain.size() && !problems_.full(); ++n) {
      const ChainName& name = chain[n];
      auto records = index_.names.at(name.run);
      const WireRecord* nsec = nullptr;
      for (const auto& r : records) {
        if (r.type != rr::NSEC) continue;
        if (nsec) problems_.add(describe(name.owner, rr::NSEC) + ": more than one NSEC record");
        nsec = nsec ? nsec : &r;
      }
      if (!nsec) {
        problems_.add(describe(name.owner, rr::NSEC) + ": missing; the NSEC chain skips this name");
        continue;
      }
      ++report_.chain_links_checked;
      auto rd = index_.rdata(*nsec);
      std::string_view fields(reinterpret_cast<const char*>(rd.data()), rd.size());
      size_t end = name_end(fields, 0);
      if (end == kNone || !decode_type_bitmap(rd.subspan(end), listed)) {
        problems_.add(describe(name.owner, rr::NSEC) + ": malformed RDATA");
        continue;
      }
      std::string_view next = fields.substr(0, end);
      std::string_view following = chain[(n + 1) % chain.size()].owner;
      if (compare_names(next, following) != 0)
        problems_.add(describe(name.owner, rr::NSEC) + ": next name is " + dns::to_text(next) + ", expected " +
                      dns::to_text(following));
      read_types(records, held);
      expected_types(name.kind, held, true, expected);
      if (listed != expected)
        problems_.add(describe(name.owner, rr::NSEC) + ": type bitmap lists " + types_text(listed) + ", expected " +
                      types_text(expected));
    }
  }

  // RFC 5155 §7.1: every name and empty non-terminal hashes to an NSEC3
  // (an insecure delegation may instead be covered by an opt-out NSEC3), the
  // NSEC3 records form one ring in hash order, and bitmaps match.
  void check_nsec3_chain(std::vector<ChainName>& chain, const Nsec3Params& params, unsigned threads) {
    hash_names(chain, params, threads);
    struct Link {
      size_t run;
      Nsec3Fields fields;
      size_t name = kNone;  // the chain name hashing to it
    };
    const Side& side = index_.hashed;
    std::vector<Link> links;
    links.reserve(side.runs.size());
    for (size_t k = 0; k < side.runs.size() && !problems_.full(); ++k) {
      std::string_view owner = index_.owner(side, k);
      const WireRecord* nsec3 = nullptr;
      bool is_signed = false;
      for (size_t i = side.runs[k].first; i < side.runs[k].first + side.runs[k].count; ++i) {
        const WireRecord& r = side.records[i];
        if (r.type == rr::RRSIG) {
          is_signed = true;
          check_rrsig_fields(owner, r, true, i);
        } else if (nsec3) {
          problems_.add(describe(owner, rr::NSEC3) + ": more than one NSEC3 record");
        } else {
          nsec3 = &r;
        }
      }
      if (!nsec3) {
        problems_.add(describe(owner, rr::NSEC3) + ": RRSIG without the NSEC3 record it covers");
        continue;
      }
      if (!is_signed) problems_.add(describe(owner, rr::NSEC3) + ": no RRSIG");
      Nsec3Fields fields;
      if (!parse_nsec3(index_.rdata(*nsec3), fields) || fields.next.size() != Hash{}.size()) {
        problems_.add(describe(owner, rr::NSEC3) + ": malformed RDATA");
        continue;
      }
      if (fields.algorithm != params.algorithm || fields.iterations != params.iterations ||
          !std::ranges::equal(fields.salt, params.salt))
        problems_.add(describe(owner, rr::NSEC3) + ": hash parameters differ from the NSEC3PARAM's");
      links.push_back({k, fields});
    }
    report_.chain_links_checked += links.size();

    auto hash_of = [&](const Link& link) -> const Hash& { return index_.hashes[link.run]; };
    // Names and NSEC3 records meet in hash order: one merge, no lookups.
    std::vector<std::pair<Hash, uint32_t>> by_hash(chain.size());
    for (size_t n = 0; n < chain.size(); ++n) by_hash[n] = {chain[n].hash, static_cast<uint32_t>(n)};
    std::sort(by_hash.begin(), by_hash.end());
    NameTypes held;
    std::vector<uint16_t> expected, listed;
    size_t k = 0;
    for (const auto& [hash, n] : by_hash) {
      if (problems_.full()) break;
      const ChainName& name = chain[n];
      while (k < links.size() && hash_of(links[k]) < hash) ++k;
      if (k < links.size() && hash_of(links[k]) == hash) {
        Link& link = links[k];
        auto what = [&] {
          return describe(index_.owner(side, link.run), rr::NSEC3) + " (for " + name_text(name) + "): ";
        };
        if (link.name != kNone) {
          problems_.add(what() + "hash collision with " + name_text(chain[link.name]));
          continue;
        }
        link.name = n;
        held.types.clear();
        if (name.run != kNone) read_types(index_.names.at(name.run), held);
        expected_types(name.kind, held, false, expected);
        if (!decode_type_bitmap(link.fields.bitmap, listed))
          problems_.add(what() + "malformed type bitmap");
        else if (listed != expected)
          problems_.add(what() + "type bitmap lists " + types_text(listed) + ", expected " + types_text(expected));
        continue;
      }
      const std::string hashed_owner = hash_text(hash) + "." + origin_.to_text();
      if (name.required) {
        problems_.add(name_text(name) + " NSEC3: missing; expected at " + hashed_owner);
        continue;
      }
      // RFC 5155 §6: the opt-out NSEC3 covering its hash stands in for it.
      const Link* covering = links.empty() ? nullptr : &links[(k + links.size() - 1) % links.size()];
      if (!covering || !(covering->fields.flags & 1))
        problems_.add(name_text(name) + " NSEC3: missing at " + hashed_owner + ", and no opt-out NSEC3 covers it");
    }

    for (size_t j = 0; j < links.size() && !problems_.full(); ++j) {
      const Hash& following = hash_of(links[(j + 1) % links.size()]);
      if (!std::ranges::equal(links[j].fields.next, following))
        problems_.add(describe(index_.owner(side, links[j].run), rr::NSEC3) + ": next hashed owner is " +
                      hash_text(links[j].fields.next) + ", but the following NSEC3 is " + hash_text(following));
    }
    for (const Link& link : links)
      if (link.name == kNone)
        problems_.add(describe(index_.owner(side, link.run), rr::NSEC3) + ": matches no name of the zone");
  }

  const ZoneIndex& index_;
  const dns::Name& origin_;
  const VerifyPlan& plan_;
  const uint32_t now_;
  Problems& problems_;
  SelfCheckReport& report_;
  bool nsec3_ = false;
};

// Verifies RRSIGs of the zone with ldns. One per thread: it owns its ldns objects.
class RrsigVerifier {
 public:
  RrsigVerifier(const ZoneIndex& index, std::span<const WireRecord> apex_records, uint32_t now)
      : index_(index), keys_(ldns_rr_list_new()), now_(now) {
    if (!keys_) throw std::bad_alloc();
    for (const auto& r : apex_records) {
      if (r.type != rr::DNSKEY) continue;
      ldns_rr* key = nullptr;
      if (parse(r, key) == LDNS_STATUS_OK) ldns_rr_list_push_rr(keys_.get(), key);
    }
  }

  // ldns's verdict on `rrsig` over its RRset among `records` (one owner's);
  // nullopt when that RRset is not there.
  std::optional<ldns_status> verify(std::span<const WireRecord> records, const WireRecord& rrsig) {
    if (records.data() != rrset_records_ || rrsig.covered != rrset_type_) {
      rrset_records_ = records.data();
      rrset_type_ = rrsig.covered;
      rrset_status_ = LDNS_STATUS_OK;
      rrset_.reset(ldns_rr_list_new());
      if (!rrset_) throw std::bad_alloc();
      for (const auto& r : records) {
        if (r.type != rrsig.covered || r.type == rr::RRSIG) continue;
        ldns_rr* record = nullptr;
        rrset_status_ = parse(r, record);
        if (rrset_status_ != LDNS_STATUS_OK) break;
        ldns_rr_list_push_rr(rrset_.get(), record);
      }
    }
    if (rrset_status_ != LDNS_STATUS_OK) return rrset_status_;
    if (ldns_rr_list_rr_count(rrset_.get()) == 0) return std::nullopt;
    ldns_rr* signature = nullptr;
    ldns_status status = parse(rrsig, signature);
    if (status != LDNS_STATUS_OK) return status;
    RrPtr owned(signature);
    return ldns_verify_rrsig_keylist_time(rrset_.get(), signature, keys_.get(), now_, nullptr);
  }

 private:
  ldns_status parse(const WireRecord& r, ldns_rr*& out) const {
    size_t pos = r.offset;
    std::string_view wire = index_.wire();
    return ldns_wire2rr(&out, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos, LDNS_SECTION_ANSWER);
  }

  const ZoneIndex& index_;
  RrListPtr keys_;
  time_t now_;
  RrListPtr rrset_;
  const WireRecord* rrset_records_ = nullptr;
  uint16_t rrset_type_ = 0;
  ldns_status rrset_status_ = LDNS_STATUS_OK;
};

void verify_rrsigs(const ZoneIndex& index, size_t apex, const VerifyPlan& plan, uint32_t now, unsigned threads,
                   Problems& problems, SelfCheckReport& report) {
  const std::vector<Job>& jobs = plan.jobs;
  const size_t room = problems.room();
  std::atomic<size_t> verified{0}, failures{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::pair<size_t, std::string>> found;  // by job, for a stable order
  parallel_for(jobs.size(), threads, 256, [&](size_t begin, size_t end) {
    if (stop) return;
    RrsigVerifier verifier(index, index.names.at(apex), now);
    size_t good = 0;
    std::vector<std::pair<size_t, std::string>> local;
    for (size_t j = begin; j < end && !stop; ++j) {
      const Side& side = jobs[j].hashed ? index.hashed : index.names;
      const WireRecord& rrsig = side.records[jobs[j].record];
      std::optional<ldns_status> status = verifier.verify(side.at(jobs[j].run), rrsig);
      if (!status) continue;  // no RRset: the structure check reports that
      if (*status == LDNS_STATUS_OK) {
        ++good;
        continue;
      }
      auto rd = index.rdata(rrsig);
      std::string text = describe(index.owner(rrsig), rrsig.covered) + ": " + rrsig_text(rd) +
                         " does not verify at " + time_text(now) + ": " + ldns_get_errorstr_by_id(*status);
      if (*status == LDNS_STATUS_CRYPTO_SIG_EXPIRED || *status == LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED ||
          *status == LDNS_STATUS_CRYPTO_EXPIRATION_BEFORE_INCEPTION)
        text += " (valid " + time_text(dns::get_u32(rd.data() + 12)) + " to " +
                time_text(dns::get_u32(rd.data() + 8)) + ")";
      local.emplace_back(j, std::move(text));
      if (failures.fetch_add(1) + 1 >= room) stop = true;
    }
    verified += good;
    std::lock_guard lock(mutex);
    for (auto& entry : local) found.push_back(std::move(entry));
  });
  report.rrsigs_verified = verified;
  std::sort(found.begin(), found.end());
  for (auto& entry : found) problems.add(std::move(entry.second));
}

}  // namespace

SelfCheckReport self_check_zone(const dns::Name& origin, std::string_view zone_wire,
                                const std::vector<std::string_view>* rrsigs_to_check, const SelfCheckOptions& options) {
  SelfCheckReport report;
  Problems problems(options.max_problems);
  const uint32_t now = options.now ? options.now : static_cast<uint32_t>(std::time(nullptr));
  const unsigned threads = std::max(1u, options.threads);

  ZoneIndex index(zone_wire);
  if (index_zone(index, origin, problems)) {
    size_t apex = find_name(index, origin.wire());
    if (apex == kNone) {
      problems.add(describe(origin.wire(), rr::SOA) + ": the zone has no records at its apex");
    } else {
      VerifyPlan plan = rrsigs_to_check ? plan_listed(index, *rrsigs_to_check, problems) : plan_all(index);
      StructureCheck(index, origin, plan, now, problems, report).run(apex, threads);
      NameTypes apex_types;
      read_types(index.names.at(apex), apex_types);
      // Without DNSKEYs every RRSIG fails; the structure check has said why.
      if (!problems.full() && apex_types.has(rr::DNSKEY))
        verify_rrsigs(index, apex, plan, now, threads, problems, report);
    }
  }
  report.problems = problems.take();
  return report;
}

}  // namespace wiresign::signer
