// Comparing a new unsigned input with the version in service, both in
// canonical order (RFC 4034 §6.1), in one pass.
#include "daemon/input_change.h"

#include <algorithm>
#include <tuple>

#include "dns/name.h"
#include "dns/rr_type.h"

namespace wiresign::daemon {
namespace {

using Key = std::tuple<uint16_t, std::span<const uint8_t>, uint32_t>;

bool key_less(const Key& a, const Key& b) {
  if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
  const auto &x = std::get<1>(a), &y = std::get<1>(b);
  if (!std::equal(x.begin(), x.end(), y.begin(), y.end()))
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
  return std::get<2>(a) < std::get<2>(b);
}

bool key_equal(const Key& a, const Key& b) { return !key_less(a, b) && !key_less(b, a); }

signer::UnsignedRecord owned(std::string_view owner, const Key& key) {
  const auto& rdata = std::get<1>(key);
  return {std::string(owner), std::get<0>(key), std::get<2>(key), {rdata.begin(), rdata.end()}};
}

}  // namespace

std::optional<signer::UnsignedChange> input_change(const signer::Zone& input, const xfr::SignedZone& served,
                                                   size_t max_changed_names) {
  signer::UnsignedChange change;
  bool have_soa = false;
  size_t changed_names = 0;
  std::vector<Key> before, after;
  // One owner's unsigned records on both sides, compared; differences go
  // into the change (a TTL change is a removal and an addition).
  auto compare = [&](std::string_view owner) {
    std::sort(before.begin(), before.end(), key_less);
    std::sort(after.begin(), after.end(), key_less);
    if (std::equal(before.begin(), before.end(), after.begin(), after.end(), key_equal)) return;
    ++changed_names;
    std::vector<Key> only;
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(only), key_less);
    for (const auto& key : only) change.removed.push_back(owned(owner, key));
    only.clear();
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(only), key_less);
    for (const auto& key : only) change.added.push_back(owned(owner, key));
  };
  auto read_input = [&](size_t i) {
    after.clear();
    for (const auto& r : input.records_at(i)) {
      if (i == 0 && r.type == dns::rr_type::SOA) {
        change.soa = owned(input.name(i), {r.type, input.rdata(r), r.ttl});
        have_soa = true;
        continue;
      }
      after.emplace_back(r.type, input.rdata(r), r.ttl);
    }
  };

  const std::string& apex = input.origin().wire();
  size_t i = 0;
  bool too_many = false;
  std::vector<Key> held;  // the served owner's
  served.for_each_owner([&](std::string_view owner, uint32_t first, uint32_t last) {
    if (too_many || served.record(first).type == dns::rr_type::NSEC3) return;  // NSEC3 owners are the signer's
    held.clear();
    const bool at_apex = dns::same_name(owner, apex);
    for (uint32_t k = first; k < last; ++k) {
      dns::RecordView rr = served.record(k);
      if (dns::is_dnssec_generated_type(rr.type) || (at_apex && rr.type == dns::rr_type::SOA)) continue;
      held.emplace_back(rr.type, rr.rdata, rr.ttl);
    }
    for (; i < input.name_count() && dns::canonical_compare(input.name(i), owner) < 0; ++i) {
      before.clear();  // a name the version in service does not have
      read_input(i);
      compare(input.name(i));
    }
    std::swap(before, held);
    after.clear();
    if (i < input.name_count() && dns::same_name(input.name(i), owner)) read_input(i++);
    compare(owner);
    too_many = changed_names > max_changed_names;
  });
  for (before.clear(); !too_many && i < input.name_count(); ++i) {
    read_input(i);
    compare(input.name(i));
    too_many = changed_names > max_changed_names;
  }
  if (too_many || !have_soa) return std::nullopt;
  return change;
}

}  // namespace wiresign::daemon
