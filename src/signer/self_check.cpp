// Self-check of a signed zone before publication: ldns verifies the RRSIGs
// (RFC 4035 §5.3) against the apex DNSKEY RRset, after the structure and the
// denial chain are checked (self_check_chain.cpp) over the zone's wire-record
// index (self_check_index.cpp), so no signer code judges its own work.
#include "signer/self_check.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dns/record.h"
#include "dns/rr_type.h"
#include "signer/self_check_chain.h"
#include "signer/self_check_index.h"

// ldns last: its headers redefine `bool` in ways that upset <optional>.
#include "signer/signature_verifier.h"

namespace wiresign::signer {
namespace self_check {
namespace {

namespace rr = dns::rr_type;


// Verifies RRSIGs of the zone with ldns. One per thread: it owns its ldns objects.
class RrsigVerifier {
 public:
  RrsigVerifier(const ZoneIndex& index, std::span<const WireRecord> apex_records,
                const std::vector<std::vector<uint8_t>>& unpublished_signers, uint32_t now)
      : index_(index), signatures_(now) {
    for (const auto& r : apex_records) {
      if (r.type != rr::DNSKEY) continue;
      ldns_rr* key = nullptr;
      if (parse(r, key) == LDNS_STATUS_OK) signatures_.add_key(RrPtr(key));
    }
    if (apex_records.empty()) return;
    std::string_view owner = index_.owner(apex_records.front());
    for (const auto& rdata : unpublished_signers) {
      // As a wire record of the apex: owner, type, class, TTL, RDLENGTH, RDATA.
      std::vector<uint8_t> wire(owner.begin(), owner.end());
      const uint8_t fixed[] = {0, rr::DNSKEY, 0, 1, 0, 0, 0, 0,
                               static_cast<uint8_t>(rdata.size() >> 8), static_cast<uint8_t>(rdata.size())};
      wire.insert(wire.end(), std::begin(fixed), std::end(fixed));
      wire.insert(wire.end(), rdata.begin(), rdata.end());
      size_t pos = 0;
      ldns_rr* key = nullptr;
      if (ldns_wire2rr(&key, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) == LDNS_STATUS_OK)
        signatures_.add_key(RrPtr(key));
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
    return signatures_.verify(rrset_.get(), signature);
  }

 private:
  ldns_status parse(const WireRecord& r, ldns_rr*& out) const {
    size_t pos = r.offset;
    std::string_view wire = index_.wire();
    return ldns_wire2rr(&out, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos, LDNS_SECTION_ANSWER);
  }

  const ZoneIndex& index_;
  SignatureVerifier signatures_;
  RrListPtr rrset_;
  const WireRecord* rrset_records_ = nullptr;
  uint16_t rrset_type_ = 0;
  ldns_status rrset_status_ = LDNS_STATUS_OK;
};

void verify_rrsigs(const ZoneIndex& index, size_t apex, const VerifyPlan& plan, const SelfCheckOptions& options,
                   uint32_t now, Problems& problems, SelfCheckReport& report) {
  const unsigned threads = std::max(1u, options.threads);
  const std::vector<Job>& jobs = plan.jobs;
  const size_t room = problems.room();
  std::atomic<size_t> verified{0}, failures{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::pair<size_t, std::string>> found;  // by job, for a stable order
  parallel_for(jobs.size(), threads, 256, [&](size_t begin, size_t end) {
    if (stop) return;
    RrsigVerifier verifier(index, index.names.at(apex), options.unpublished_signers, now);
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
}  // namespace self_check

SelfCheckReport self_check_zone(const dns::Name& origin, std::string_view zone_wire,
                                const std::vector<std::string_view>* rrsigs_to_check, const SelfCheckOptions& options) {
  using namespace self_check;
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
      check_structure(index, origin, plan, now, problems, report, apex, threads);
      NameTypes apex_types;
      read_types(index.names.at(apex), apex_types);
      // Without DNSKEYs every RRSIG fails; the structure check has said why.
      if (!problems.full() && apex_types.has(rr::DNSKEY))
        verify_rrsigs(index, apex, plan, options, now, problems, report);
    }
  }
  report.problems = problems.take();
  return report;
}

}  // namespace wiresign::signer
