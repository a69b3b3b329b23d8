// A new input signed as a change to the version in service (DESIGN.md, data
// model): compared with it, only what changed is signed, the new version is
// the old one with those owners replaced, and the journal entry is their
// difference. Whole-zone signing remains for what a change cannot express.
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <set>
#include <thread>

#include "daemon/input_change.h"
#include "daemon/phase_clock.h"
#include "daemon/previous_signatures.h"
#include "daemon/zone_loader.h"
#include "dns/rr_type.h"
#include "signer/self_check_change.h"
#include "xfr/inbound.h"

namespace wiresign::daemon {
namespace {

// Changes to more names than this are signed whole: comparing and
// replacing owner by owner stops paying off.
constexpr double kMaxChangedShare = 0.02;
constexpr size_t kMinChangedNames = 1000;

// A re-sign publishes the signatures coming due a slice at a time: at most
// the policy's slice-share of the names (or this many, in a small zone) per
// publication, the earliest expiring first; the next slice follows at once
// while more are due.
constexpr size_t kMinResignSlice = 100;
// How far apart slices are, at most: the scheduler's second and the slice's own time.
constexpr int64_t kSlicePeriodS = 3;

// SHA-256 over the version before's digest and what changed: stands for the
// new input in the "input unchanged" test without a pass over the zone.
std::string chained_digest(const std::string& before, uint32_t serial, const signer::SignedChange& change) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(context.get(), before.data(), before.size());
  EVP_DigestUpdate(context.get(), &serial, sizeof serial);
  for (const auto& block : change.blocks) {
    EVP_DigestUpdate(context.get(), block.owner.data(), block.owner.size());
    EVP_DigestUpdate(context.get(), block.records.data(), block.records.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  return std::string(reinterpret_cast<char*>(digest), length);
}

// The SOA RDATA with its serial left out, to tell a new SOA from the one in service.
std::vector<uint8_t> without_serial(std::span<const uint8_t> rdata) {
  std::vector<uint8_t> out(rdata.begin(), rdata.end());
  size_t pos = dns::soa_serial_offset(rdata);
  if (pos + 4 <= out.size()) out.erase(out.begin() + static_cast<long>(pos), out.begin() + static_cast<long>(pos) + 4);
  return out;
}

// The keys whose signatures `keys` keeps (algorithm, key tag): those that
// sign, and ZSKs retiring gradually. An RRSIG by any other key (one
// withdrawn by a key event) is renewed before it is kept another publication.
std::set<std::pair<uint8_t, uint16_t>> signing_keys(const signer::ZoneKeys& keys) {
  std::set<std::pair<uint8_t, uint16_t>> out;
  for (const auto* list : {&keys.dnskey_signers, &keys.zone_signers, &keys.retiring_zone_signers})
    for (const auto& key : *list) out.emplace(static_cast<uint8_t>(key.algorithm), key.key_tag);
  return out;
}

bool signed_by_other(const dns::RecordView& rrsig, const std::set<std::pair<uint8_t, uint16_t>>& signers) {
  return !signers.count({rrsig.rdata[2], dns::get_u16(rrsig.rdata.data() + 16)});
}

}  // namespace

std::optional<ZoneLoader::IncrementalVersion> ZoneLoader::sign_incrementally(
    const conf::ZoneConfig& zone, const SignedVersion& served, signer::Zone* input, const signer::UnsignedChange* given,
    uint32_t input_serial, const signer::ZoneKeys& keys, const signer::SignOptions& options,
    const std::string& source) {
  const xfr::SignedZone& previous = *served.zone;
  auto skip = [&](const std::string& why) -> std::optional<IncrementalVersion> {
    log_(zone.name + ": signing the whole zone: " + why);
    return std::nullopt;
  };
  PhaseClock laps;
  std::optional<signer::UnsignedChange> compared;
  const size_t limit =
      std::max(kMinChangedNames, static_cast<size_t>(static_cast<double>(served.input_names) * kMaxChangedShare));
  if (!given) {
    input->finalize();
    laps.lap("sort");
    compared = input_change(*input, previous, limit);
    if (!compared) return skip("more than " + std::to_string(limit) + " names changed");
    laps.lap("compare");
  }
  const signer::UnsignedChange* change = given ? given : &*compared;

  // An input to be held (the operator's hold, or too many names removed)
  // is held by the whole-zone way, before anything is signed.
  if (state_dir_ && ::access(state_dir_->operator_hold_path(zone.name).c_str(), F_OK) == 0) return std::nullopt;
  const size_t max_net_removed =
      served.input_names ? static_cast<size_t>(static_cast<double>(served.input_names) * zone.max_removed_share)
                         : SIZE_MAX;

  IncrementalVersion result;
  // An input equal to the one in service, under the same keys and
  // parameters, needs nothing signed.
  std::string why_not;
  const bool same_keys =
      signer::same_keys_and_parameters(ServedVersionView(previous), previous.origin(), change->soa, keys, options,
                                       why_not);
  if (same_keys && change->removed.empty() && change->added.empty() && input_serial == served.input_serial &&
      change->soa.ttl == previous.soa().ttl &&
      without_serial(change->soa.rdata) == without_serial(previous.soa().rdata)) {
    result.unchanged = true;
    return result;
  }
  // A key event published with the change: names still signed by a key
  // that no longer signs are signed again with it.
  std::optional<signer::UnsignedChange> with_stale;
  if (!same_keys) {
    with_stale = *change;
    stale_signatures(previous, keys, *with_stale);
    if (with_stale->resign.size() + with_stale->resign_hashed.size() > limit)
      return skip(std::to_string(with_stale->resign.size() + with_stale->resign_hashed.size()) +
                  " names hold signatures by keys that no longer sign");
    change = &*with_stale;
    laps.lap("key scan");
  }
  // serial keep with an input serial that has not moved: the whole-zone
  // way says what that means (and no signature is made for nothing here).
  if (options.policy.serial == conf::SerialPolicy::keep && !options.policy.resign_bump &&
      !dns::serial_newer(input_serial, previous.serial()))
    return skip("the serial stays " + std::to_string(previous.serial()) + " (serial keep)");
  auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
  std::optional<signer::SignedChange> signed_change = signer::sign_change(
      ServedVersionView(previous), previous.origin(), *change, keys, options, source, warn, why_not, limit,
      max_net_removed);
  if (!signed_change) return skip(why_not);
  if (signed_change->stats.serial == previous.serial())
    return skip("the serial stays " + std::to_string(previous.serial()) + " (serial keep)");
  laps.lap("sign");
  finish_change(served, std::move(*signed_change), input_serial, laps, result);
  return result;
}

void ZoneLoader::finish_change(const SignedVersion& served, signer::SignedChange signed_change, uint32_t input_serial,
                               PhaseClock& laps, IncrementalVersion& result) {
  const xfr::SignedZone& previous = *served.zone;
  std::vector<xfr::OwnerRecords> owners;
  std::vector<std::string_view> names;
  owners.reserve(signed_change.blocks.size());
  // The signer writes the apex first, then names in canonical order, then NSEC3 owners in hash order.
  for (const auto& block : signed_change.blocks) {
    owners.push_back({block.owner, block.hashed, block.records});
    names.push_back(block.owner);
  }
  auto next = std::make_shared<xfr::SignedZone>(previous.with_owners(owners));
  laps.lap("new version");
  result.diff = std::make_shared<const xfr::ZoneDiff>(xfr::diff_owners(previous, *next, names));
  laps.lap("diff");
  result.laps = laps.laps();
  result.version.zone = std::move(next);
  result.version.input_serial = input_serial;
  result.version.input_names = served.input_names + signed_change.names_added - signed_change.names_removed;
  result.version.input_digest = chained_digest(served.input_digest, input_serial, signed_change);
  result.stats = signed_change.stats;
  // Every RRSIG not made for the change was kept, not only those it looked at.
  result.stats.rrsigs = result.version.zone->count_of(dns::rr_type::RRSIG);
  result.stats.rrsigs_reused = result.stats.rrsigs - (signed_change.stats.rrsigs - signed_change.stats.rrsigs_reused);
  result.signed_change = std::move(signed_change);
}

std::optional<ZoneLoader::IncrementalVersion> ZoneLoader::resign_slice(const conf::ZoneConfig& zone,
                                                                 const SignedVersion& served,
                                                                 const signer::ZoneKeys& keys,
                                                                 const signer::SignOptions& options,
                                                                 bool keys_change) {
  const xfr::SignedZone& previous = *served.zone;
  PhaseClock laps;
  // Each owner's earliest RRSIG expiration; those due (not kept by
  // reuse_until) are signed again, the earliest first.
  struct Due {
    int64_t left;  // seconds from now to the expiration (RFC 4034 §3.1.5 serial arithmetic)
    std::string_view owner;
    bool hashed;
  };
  std::vector<Due> due;
  const std::set<std::pair<uint8_t, uint16_t>> signers = signing_keys(keys);
  constexpr int64_t kStale = INT32_MIN;
  std::optional<int64_t> earliest_not_due;
  std::string_view owner;
  std::optional<int64_t> owner_earliest;
  bool hashed = false;
  auto close_owner = [&] {
    if (!owner_earliest) return;
    if (*owner_earliest <= static_cast<int32_t>(options.reuse_until - options.now))
      due.push_back({*owner_earliest, owner, hashed});
    else if (!earliest_not_due || *owner_earliest < *earliest_not_due)
      earliest_not_due = owner_earliest;
  };
  previous.for_each_record_but_soa([&](const dns::RecordView& rr) {
    if (rr.owner != owner) {
      close_owner();
      owner = rr.owner;
      owner_earliest.reset();
      hashed = false;
    }
    if (rr.type == dns::rr_type::NSEC3) hashed = true;
    if (rr.type != dns::rr_type::RRSIG || rr.rdata.size() < 18) return;
    int64_t left = static_cast<int32_t>(dns::get_u32(rr.rdata.data() + 8) - options.now);
    // Signed by a key that no longer signs: due before anything else.
    if (signed_by_other(rr, signers)) left = kStale;
    if (!owner_earliest || left < *owner_earliest) owner_earliest = left;
  });
  close_owner();
  laps.lap("find due");

  IncrementalVersion result;
  size_t limit =
      std::max(kMinResignSlice, static_cast<size_t>(static_cast<double>(served.input_names) * options.policy.resign_slice_share));
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) { return a.left < b.left; });
  // Never late for the limit: an owner that slices of `limit`, one every
  // kSlicePeriodS, would reach only after its refresh time (more came due at
  // once than slices renew in time) goes into this publication.
  const auto refresh = static_cast<int64_t>(options.policy.refresh_s);
  size_t take = std::min(limit, due.size());
  for (size_t i = take; i < due.size(); ++i)
    if (due[i].left - refresh < static_cast<int64_t>(i / limit) * kSlicePeriodS + 1) take = i + 1;
  if (take > limit) {
    log_(zone.name + ": " + std::to_string(take) + " owners have signatures due that slices of " +
         std::to_string(limit) + " would renew only after their refresh time: all are re-signed now");
    limit = take;
  }
  std::optional<int64_t> earliest_left = earliest_not_due;
  if (due.size() > limit && (!earliest_left || due[limit].left < *earliest_left)) earliest_left = due[limit].left;
  if (due.empty() && !keys_change) {
    result.unchanged = true;
  } else {
    signer::UnsignedChange change;
    const dns::RecordView& soa = previous.soa();
    change.soa = {std::string(soa.owner), soa.type, soa.ttl, {soa.rdata.begin(), soa.rdata.end()}};
    for (size_t i = 0; i < due.size() && i < limit; ++i) {
      if (!due[i].hashed) change.resign.emplace_back(due[i].owner);
      else if (auto hash = nsec3_owner_hash(due[i].owner)) change.resign_hashed.push_back(*hash);
    }
    std::string why_not;
    auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
    std::optional<signer::SignedChange> signed_change = signer::sign_change(
        ServedVersionView(previous), previous.origin(), change, keys, options,
        (due.empty() ? "key event on serial " : "re-sign of serial ") + std::to_string(previous.serial()), warn,
        why_not);
    if (!signed_change) {
      log_(zone.name + ": signing the whole zone: " + why_not);
      return std::nullopt;
    }
    laps.lap("sign");
    result.resigned_owners = std::min(due.size(), limit);
    result.due_owners = due.size();
    finish_change(served, std::move(*signed_change), served.input_serial, laps, result);
    // The earliest expiration of the new version, exactly: of the owners
    // not signed again, and of every RRSIG of the ones that were.
    for (const auto& block : result.signed_change.blocks)
      if (auto in_block = earliest_in(block.records)) {
        int64_t left = static_cast<int32_t>(*in_block - options.now);
        if (!earliest_left || left < *earliest_left) earliest_left = left;
      }
  }
  result.earliest_known = true;
  if (earliest_left) result.earliest_expiration = static_cast<uint32_t>(options.now + *earliest_left);
  return result;
}

std::optional<signer::UnsignedChange> change_from_ixfr(const std::vector<xfr::IxfrDiff>& diffs) {
  if (diffs.empty()) return std::nullopt;
  signer::UnsignedChange change;
  auto own = [](const xfr::Record& r) { return signer::UnsignedRecord{r.owner, r.type, r.ttl, r.rdata}; };
  auto same = [](const signer::UnsignedRecord& a, const xfr::Record& b) {
    return a.type == b.type && a.rdata == b.rdata && dns::same_name(a.owner, b.owner);
  };
  for (const auto& diff : diffs) {
    for (const auto* list : {&diff.removed, &diff.added}) {
      for (const auto& r : *list) {
        // Classes other than IN are refused by whole-zone signing, which says so.
        if (r.rclass != dns::kClassIN) return std::nullopt;
        if (dns::is_dnssec_generated_type(r.type)) continue;  // the signer makes its own
        if (list == &diff.removed) {
          // Added by an earlier diff of the same transfer: the two cancel out.
          auto earlier =
              std::find_if(change.added.begin(), change.added.end(), [&](const auto& a) { return same(a, r); });
          if (earlier != change.added.end()) change.added.erase(earlier);
          else change.removed.push_back(own(r));
        } else {
          change.added.push_back(own(r));
        }
      }
    }
    change.soa = own(diff.new_soa);
  }
  return change;
}

void ZoneLoader::stale_signatures(const xfr::SignedZone& zone, const signer::ZoneKeys& keys,
                                  signer::UnsignedChange& change) {
  const std::set<std::pair<uint8_t, uint16_t>> signers = signing_keys(keys);
  std::string_view owner;
  bool stale = false, hashed = false;
  auto close_owner = [&] {
    if (!stale) return;
    if (!hashed) change.resign.emplace_back(owner);
    else if (auto hash = nsec3_owner_hash(owner)) change.resign_hashed.push_back(*hash);
  };
  zone.for_each_record_but_soa([&](const dns::RecordView& rr) {
    if (rr.owner != owner) {
      close_owner();
      owner = rr.owner;
      stale = hashed = false;
    }
    if (rr.type == dns::rr_type::NSEC3) hashed = true;
    if (rr.type == dns::rr_type::RRSIG && rr.rdata.size() >= 18 && signed_by_other(rr, signers)) stale = true;
  });
  close_owner();
}

std::optional<uint32_t> ZoneLoader::earliest_in(std::string_view records) {
  std::optional<uint32_t> earliest;
  for (std::string_view record : xfr::split_records(records)) {
    if (xfr::record_type(record) != dns::rr_type::RRSIG) continue;
    // RDATA: type covered, algorithm, labels, original TTL, expiration (RFC 4034 §3.1).
    size_t owner_end = 0;
    while (static_cast<uint8_t>(record[owner_end]) != 0) owner_end += 1 + static_cast<uint8_t>(record[owner_end]);
    size_t rdata = owner_end + 1 + 10;
    if (rdata + 12 > record.size()) continue;
    uint32_t expiration = dns::get_u32(reinterpret_cast<const uint8_t*>(record.data()) + rdata + 8);
    if (!earliest || dns::serial_newer(*earliest, expiration)) earliest = expiration;
  }
  return earliest;
}

void ZoneLoader::check_change_before_publishing(const IncrementalVersion& change, const xfr::SignedZone& next,
                                                uint32_t now,
                                                const std::vector<std::vector<uint8_t>>& unpublished_signers) {
  std::vector<std::string_view> new_rrsigs, names, hashed;
  for (const auto& block : change.signed_change.blocks) (block.hashed ? hashed : names).push_back(block.owner);
  for (std::string_view record : xfr::split_records(change.diff->added))
    if (xfr::record_type(record) == dns::rr_type::RRSIG) new_rrsigs.push_back(record);
  signer::SelfCheckOptions options;
  options.now = now;
  options.threads = std::max(1u, std::thread::hardware_concurrency());
  options.unpublished_signers = unpublished_signers;
  signer::SelfCheckReport report =
      signer::self_check_change(next.origin(), ServedVersionView(next), names, hashed, new_rrsigs, options);
  if (report.problems.empty()) return;
  std::string text = "the signed version failed its check before publishing (change only, " +
                     std::to_string(report.problems.size()) + " problems): ";
  for (size_t i = 0; i < report.problems.size() && i < 3; ++i) text += (i ? "; " : "") + report.problems[i];
  throw std::runtime_error(text);
}

}  // namespace wiresign::daemon
