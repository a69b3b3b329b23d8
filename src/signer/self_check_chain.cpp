// The structure and denial-chain checks of the self-check: signatures present
// where they belong (RFC 4035 §2.2), validity periods (RFC 4034 §3.1.5), and
// the NSEC chain (RFC 4034 §4) or NSEC3 ring (RFC 5155 §7.1) with exact type
// bitmaps (RFC 4034 §4.1.2); ldns hashes the names (RFC 5155 §5).
#include "signer/self_check_chain.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "dns/base_encoding.h"
#include "dns/record.h"
#include "dns/rr_type.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include "signer/ldns_owned.h"

namespace wiresign::signer::self_check {
namespace {

namespace rr = dns::rr_type;





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

}  // namespace

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

static void sort_unique(std::vector<uint16_t>& types) {
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
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

void check_structure(const ZoneIndex& index, const dns::Name& origin, const VerifyPlan& plan, uint32_t now,
                     Problems& problems, SelfCheckReport& report, size_t apex, unsigned threads) {
  StructureCheck(index, origin, plan, now, problems, report).run(apex, threads);
}

}  // namespace wiresign::signer::self_check
