// Checking a change around the names it touched (self_check_change.h),
// reading the new version through SignedVersionView.
#include "signer/self_check_change.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <span>
#include <utility>
#include <ctime>
#include <memory>
#include <new>
#include <optional>
#include <set>

#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "signer/self_check_chain.h"
#include "signer/self_check_index.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include "signer/signature_verifier.h"

namespace wiresign::signer {
namespace {

namespace rr = dns::rr_type;
using namespace self_check;


// One record as ldns reads it off the wire; null when ldns refuses it.
RrPtr to_ldns(const dns::RecordView& record) {
  std::vector<uint8_t> wire;
  dns::append_record_wire(wire, record);
  size_t pos = 0;
  ldns_rr* out = nullptr;
  if (ldns_wire2rr(&out, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) return nullptr;
  return RrPtr(out);
}

// The same record back from its uncompressed wire form.
std::optional<dns::RecordView> parse_record(std::string_view wire) {
  size_t end = name_end(wire, 0);
  if (end == kNone || end + kFixedFields > wire.size()) return std::nullopt;
  const auto* data = reinterpret_cast<const uint8_t*>(wire.data());
  uint16_t length = dns::get_u16(data + end + 8);
  if (end + kFixedFields + length != wire.size()) return std::nullopt;
  return dns::RecordView{wire.substr(0, end), dns::get_u16(data + end), dns::get_u16(data + end + 2),
                         dns::get_u32(data + end + 4), {data + end + kFixedFields, length}};
}

class ChangeCheck {
 public:
  ChangeCheck(const dns::Name& origin, const SignedVersionView& zone, Problems& problems, SelfCheckReport& report)
      : origin_(origin), zone_(zone), problems_(problems), report_(report) {
    zone_.records_at(origin_.wire(), apex_);
    for (const auto& r : apex_) {
      if (r.type == rr::NSEC3PARAM && r.rdata.size() >= 5 && r.rdata.size() == 5u + r.rdata[4])
        params_ = Nsec3Params{r.rdata[0], dns::get_u16(r.rdata.data() + 2), r.rdata.subspan(5)};
    }
    nsec_ = find(apex_, rr::NSEC) != nullptr;
    if (!params_ && !nsec_)
      problems_.add(describe(origin_.wire(), rr::NSEC3PARAM) + ": missing at the apex, and no NSEC there either");
  }

  // A changed name: signatures where they belong, and its NSEC or NSEC3
  // (and, for NSEC3, the empty non-terminals above it); below a cut, none.
  void check_name(std::string_view owner) {
    if (!params_ && !nsec_) return;
    std::vector<dns::RecordView> held;
    zone_.records_at(owner, held);
    NameTypes types;
    for (const auto& r : held) {
      if (r.type == rr::RRSIG && r.rdata.size() >= 2) types.covered.push_back(dns::get_u16(r.rdata.data()));
      else types.types.push_back(r.type);
    }
    for (auto* list : {&types.types, &types.covered}) {
      std::sort(list->begin(), list->end());
      list->erase(std::unique(list->begin(), list->end()), list->end());
    }
    if (std::optional<std::string> cut = cut_above(owner)) return check_occluded(owner, types, *cut);
    if (params_) check_empty_non_terminals_above(owner);
    // NSEC: the name before it in the chain points at it, or past it when gone.
    if (!params_) check_nsec(chain_step(owner, false));
    if (held.empty()) {
      if (!params_) return;
      // Gone: only an empty non-terminal keeps an NSEC3 (RFC 5155 §7.1).
      Hash hash = hash_of(owner);
      const dns::RecordView* nsec3 = nsec3_at(hash);
      if (nsec3 && !zone_.has_names_below(owner))
        problems_.add(describe(owner, rr::NSEC3) + ": the name is gone but its NSEC3 at " + hash_text(hash) + " stays");
      if (nsec3) expect_bitmap(owner, *nsec3, Kind::empty_non_terminal, types);
      return;
    }
    Kind kind = Kind::authoritative;
    if (dns::same_name(owner, origin_.wire())) kind = Kind::apex;
    else if (types.has(rr::NS)) kind = types.has(rr::DS) ? Kind::secure_delegation : Kind::insecure_delegation;
    const bool at_cut = kind == Kind::secure_delegation || kind == Kind::insecure_delegation;
    for (uint16_t type : types.types)
      if ((!at_cut || type == rr::DS || type == rr::NSEC) && !types.is_signed(type))
        problems_.add(describe(owner, type) + ": no RRSIG");
    for (uint16_t type : types.covered) {
      if (!types.has(type)) problems_.add(describe(owner, type) + ": RRSIG without the RRset it covers");
      else if (at_cut && type != rr::DS && type != rr::NSEC)
        problems_.add(describe(owner, type) + ": RRSIG at a delegation (RFC 4035 §2.2)");
    }
    if (!params_) return check_nsec(std::string(owner), kind, &types);
    Hash hash = hash_of(owner);
    if (const dns::RecordView* nsec3 = nsec3_at(hash)) return expect_bitmap(owner, *nsec3, kind, types);
    // RFC 5155 §6: an insecure delegation may go without, covered by an opt-out NSEC3.
    if (kind == Kind::insecure_delegation && opt_out_covers(hash)) return;
    problems_.add(describe(owner, rr::NSEC3) + ": missing; expected at " + hash_text(hash));
  }

  // A changed NSEC3 owner and the one before it in the ring: each points at its successor.
  void check_link(std::string_view owner) {
    Hash hash;
    if (owner.empty() || !decode_hash_label(owner.substr(1, static_cast<uint8_t>(owner[0])), hash)) {
      problems_.add(describe(owner, rr::NSEC3) + ": the owner is not a hash");
      return;
    }
    std::vector<dns::RecordView> held;
    zone_.records_at(owner, held);
    if (!held.empty()) check_next(hash);
    std::optional<Hash> before = zone_.nsec3_before(hash);
    if (!before) before = zone_.nsec3_before(std::nullopt);
    if (before) check_next(*before);
  }

 private:
  // A cut (NS, not at the apex) above `owner` in the new version: the topmost.
  std::optional<std::string> cut_above(std::string_view owner) const {
    std::optional<std::string> cut;
    std::vector<dns::RecordView> held;
    for (auto p = dns::parent_of(owner); p.size() > origin_.wire().size(); p = dns::parent_of(p)) {
      held.clear();
      zone_.records_at(p, held);
      if (find(held, rr::NS)) cut = std::string(p);
    }
    return cut;
  }

  // A name below a cut is not authoritative: no signatures, not in the chain (RFC 4035 §2.2).
  void check_occluded(std::string_view owner, const NameTypes& types, const std::string& cut) {
    const std::string where = " below the delegation at " + dns::to_text(cut);
    if (!types.covered.empty()) problems_.add(describe(owner, rr::RRSIG) + ":" + where);
    if (types.has(rr::NSEC)) problems_.add(describe(owner, rr::NSEC) + ":" + where);
    if (params_) {
      Hash hash = hash_of(owner);
      if (nsec3_at(hash)) problems_.add(describe(owner, rr::NSEC3) + ": at " + hash_text(hash) + "," + where);
    } else if (!types.types.empty()) {
      check_nsec(chain_step(owner, false));
    }
  }

  // RFC 5155 §7.1: every ancestor without records but with names below has
  // an NSEC3 with an empty bitmap; one with no names below left has none.
  void check_empty_non_terminals_above(std::string_view owner) {
    std::vector<dns::RecordView> held;
    for (auto p = dns::parent_of(owner); p.size() > origin_.wire().size(); p = dns::parent_of(p)) {
      if (!ancestors_seen_.insert(std::string(p)).second) continue;
      held.clear();
      zone_.records_at(p, held);
      if (!held.empty()) continue;
      Hash hash = hash_of(p);
      const dns::RecordView* nsec3 = nsec3_at(hash);
      if (zone_.has_names_below(p)) {
        if (!nsec3) problems_.add(describe(p, rr::NSEC3) + ": the empty non-terminal has none at " + hash_text(hash));
        else expect_bitmap(p, *nsec3, Kind::empty_non_terminal, NameTypes{});
      } else if (nsec3) {
        problems_.add(describe(p, rr::NSEC3) + ": nothing is left below the name, but its NSEC3 at " +
                      hash_text(hash) + " stays");
      }
    }
  }

  // The name after (or before) `name` in the NSEC chain of the new version:
  // names below a cut are not in it; after the last comes the apex.
  std::string chain_step(std::string_view name, bool forward) const {
    std::optional<std::string> at(name);
    while ((at = forward ? zone_.name_after(*at) : zone_.name_before(*at)))
      if (!cut_above(*at)) return *at;
    return origin_.wire();
  }

  // `owner`'s NSEC: present, signed, pointing at the next name in the
  // chain, and (when `types` is given) listing exactly its types.
  void check_nsec(const std::string& owner, Kind kind = Kind::authoritative, const NameTypes* types = nullptr) {
    std::vector<dns::RecordView> held;
    zone_.records_at(owner, held);
    const dns::RecordView* nsec = find(held, rr::NSEC);
    if (!nsec) return problems_.add(describe(owner, rr::NSEC) + ": missing");
    ++report_.chain_links_checked;
    std::string_view rdata(reinterpret_cast<const char*>(nsec->rdata.data()), nsec->rdata.size());
    size_t end = name_end(rdata, 0);
    std::vector<uint16_t> listed;
    if (end == kNone || !decode_type_bitmap(nsec->rdata.subspan(end), listed))
      return problems_.add(describe(owner, rr::NSEC) + ": malformed RDATA");
    std::string next = chain_step(owner, true);
    if (!dns::same_name(rdata.substr(0, end), next))
      problems_.add(describe(owner, rr::NSEC) + ": next name is " + dns::to_text(rdata.substr(0, end)) +
                    ", but the next name in the zone is " + dns::to_text(next));
    if (!types) return;
    std::vector<uint16_t> expected;
    expected_types(kind, *types, true, expected);
    if (listed != expected)
      problems_.add(describe(owner, rr::NSEC) + ": type bitmap lists " + types_text(listed) + ", expected " +
                    types_text(expected));
  }

  const dns::RecordView* nsec3_at(const Hash& hash) {
    at_hash_.clear();
    zone_.records_at(hashed_owner(hash), at_hash_);
    return find(at_hash_, rr::NSEC3);
  }

  static const dns::RecordView* find(const std::vector<dns::RecordView>& records, uint16_t type) {
    auto it = std::find_if(records.begin(), records.end(), [&](const dns::RecordView& r) { return r.type == type; });
    return it == records.end() ? nullptr : &*it;
  }

  std::string hashed_owner(const Hash& hash) const {
    std::string text = hash_text(hash);
    std::string owner(1, static_cast<char>(text.size()));
    return owner + text + origin_.wire();
  }

  Hash hash_of(std::string_view owner) {
    ldns_rdf name = dname_rdf(owner);
    RdfPtr hashed(ldns_nsec3_hash_name(&name, params_->algorithm, params_->iterations,
                                       static_cast<uint8_t>(params_->salt.size()), params_->salt.data()));
    Hash hash{};
    std::string_view label;
    if (hashed) label = {reinterpret_cast<const char*>(ldns_rdf_data(hashed.get())), ldns_rdf_size(hashed.get())};
    if (label.empty() || !decode_hash_label(label.substr(1, static_cast<uint8_t>(label[0])), hash))
      throw std::runtime_error("ldns_nsec3_hash_name failed for " + dns::to_text(owner));
    return hash;
  }

  bool opt_out_covers(const Hash& hash) {
    std::optional<Hash> before = zone_.nsec3_before(hash);
    if (!before) before = zone_.nsec3_before(std::nullopt);
    if (!before) return false;
    std::vector<dns::RecordView> held;
    zone_.records_at(hashed_owner(*before), held);
    const dns::RecordView* nsec3 = find(held, rr::NSEC3);
    Nsec3Fields fields;
    return nsec3 && parse_nsec3(nsec3->rdata, fields) && (fields.flags & 1);
  }

  void expect_bitmap(std::string_view owner, const dns::RecordView& nsec3, Kind kind, const NameTypes& types) {
    Nsec3Fields fields;
    std::vector<uint16_t> listed, expected;
    const std::string what = describe(nsec3.owner, rr::NSEC3) + " (for " + dns::to_text(owner) + "): ";
    if (!parse_nsec3(nsec3.rdata, fields) || !decode_type_bitmap(fields.bitmap, listed))
      return problems_.add(what + "malformed RDATA");
    expected_types(kind, types, false, expected);
    if (listed != expected)
      problems_.add(what + "type bitmap lists " + types_text(listed) + ", expected " + types_text(expected));
  }

  void check_next(const Hash& hash) {
    std::vector<dns::RecordView> held;
    const std::string owner = hashed_owner(hash);
    zone_.records_at(owner, held);
    const dns::RecordView* nsec3 = find(held, rr::NSEC3);
    Nsec3Fields fields;
    if (!nsec3 || !parse_nsec3(nsec3->rdata, fields))
      return problems_.add(describe(owner, rr::NSEC3) + ": missing or malformed");
    ++report_.chain_links_checked;
    if (fields.algorithm != params_->algorithm || fields.iterations != params_->iterations ||
        !std::ranges::equal(fields.salt, params_->salt))
      problems_.add(describe(owner, rr::NSEC3) + ": hash parameters differ from the NSEC3PARAM's");
    if (!std::any_of(held.begin(), held.end(), [](const dns::RecordView& r) { return r.type == rr::RRSIG; }))
      problems_.add(describe(owner, rr::NSEC3) + ": no RRSIG");
    std::optional<Hash> following = zone_.nsec3_after(hash);
    if (!following) following = zone_.nsec3_after(std::nullopt);
    if (!following || !std::ranges::equal(fields.next, *following))
      problems_.add(describe(owner, rr::NSEC3) + ": next hashed owner is " + hash_text(fields.next) +
                    ", but the following NSEC3 is " + (following ? hash_text(*following) : std::string("none")));
  }

  const dns::Name& origin_;
  const SignedVersionView& zone_;
  Problems& problems_;
  SelfCheckReport& report_;
  std::vector<dns::RecordView> apex_;
  std::optional<Nsec3Params> params_;
  bool nsec_ = false;
  std::vector<dns::RecordView> at_hash_;
  std::set<std::string> ancestors_seen_;
};

// ldns's verdict on each new RRSIG over its RRset in the new version, the
// RRSIGs shared among `options.threads` threads as the whole-zone check
// shares them; problems in the order of `rrsigs`.
void verify_new_rrsigs(const dns::Name& origin, const SignedVersionView& zone, std::span<const std::string_view> rrsigs,
                       const SelfCheckOptions& options, Problems& problems, SelfCheckReport& report) {
  const uint32_t now = options.now ? options.now : static_cast<uint32_t>(std::time(nullptr));
  std::vector<dns::RecordView> apex;
  zone.records_at(origin.wire(), apex);
  const size_t room = problems.room();
  std::atomic<size_t> verified{0}, failures{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::pair<size_t, std::string>> found;  // by RRSIG, for a stable order
  parallel_for(rrsigs.size(), std::max(1u, options.threads), 64, [&](size_t begin, size_t end) {
    if (stop) return;
    SignatureVerifier signatures(now);
    for (const auto& r : apex)
      if (r.type == rr::DNSKEY) signatures.add_key(to_ldns(r));
    for (const auto& rdata : options.unpublished_signers)
      signatures.add_key(to_ldns({origin.wire(), rr::DNSKEY, dns::kClassIN, 0, rdata}));
    size_t good = 0;
    std::vector<std::pair<size_t, std::string>> local;
    std::vector<dns::RecordView> held;
    auto fail = [&](size_t i, std::string text) {
      local.emplace_back(i, std::move(text));
      if (failures.fetch_add(1) + 1 >= room) stop = true;
    };
    for (size_t i = begin; i < end && !stop; ++i) {
      std::optional<dns::RecordView> rrsig = parse_record(rrsigs[i]);
      if (!rrsig || rrsig->type != rr::RRSIG || rrsig->rdata.size() < kRrsigFixed) {
        fail(i, "a new RRSIG record is malformed");
        continue;
      }
      const uint16_t covered = dns::get_u16(rrsig->rdata.data());
      held.clear();
      zone.records_at(rrsig->owner, held);
      RrListPtr rrset(ldns_rr_list_new());
      if (!rrset) throw std::bad_alloc();
      bool in_zone = false;
      for (const auto& r : held) {
        if (r.type == rr::RRSIG && std::ranges::equal(r.rdata, rrsig->rdata)) in_zone = true;
        if (r.type != covered || r.type == rr::RRSIG) continue;
        RrPtr record = to_ldns(r);
        if (record) ldns_rr_list_push_rr(rrset.get(), record.release());
      }
      const std::string what = describe(rrsig->owner, covered) + ": " + rrsig_text(rrsig->rdata);
      if (!in_zone) {
        fail(i, what + " is not in the new version");
        continue;
      }
      if (ldns_rr_list_rr_count(rrset.get()) == 0) {
        fail(i, what + " covers no RRset");
        continue;
      }
      RrPtr signature = to_ldns(*rrsig);
      if (!signature) {
        fail(i, what + " is malformed");
        continue;
      }
      ldns_status status = signatures.verify(rrset.get(), signature.get());
      if (status != LDNS_STATUS_OK)
        fail(i, what + " does not verify at " + time_text(now) + ": " + ldns_get_errorstr_by_id(status));
      else
        ++good;
    }
    verified += good;
    std::lock_guard lock(mutex);
    for (auto& entry : local) found.push_back(std::move(entry));
  });
  report.rrsigs_verified += verified;
  std::sort(found.begin(), found.end());
  for (auto& entry : found) problems.add(std::move(entry.second));
}

}  // namespace

SelfCheckReport self_check_change(const dns::Name& origin, const SignedVersionView& zone,
                                  const std::vector<std::string_view>& names,
                                  const std::vector<std::string_view>& hashed_owners,
                                  const std::vector<std::string_view>& rrsigs_to_check, const SelfCheckOptions& options) {
  SelfCheckReport report;
  Problems problems(options.max_problems);
  ChangeCheck check(origin, zone, problems, report);
  verify_new_rrsigs(origin, zone, rrsigs_to_check, options, problems, report);
  for (std::string_view name : names) check.check_name(name);
  for (std::string_view owner : hashed_owners) check.check_link(owner);
  report.problems = problems.take();
  return report;
}

}  // namespace wiresign::signer
