// The signed zone as the outbound side holds it: records found by owner in
// any case, grouped by owner in zone order, and refused when an owner's
// records are not together or the SOA is missing or doubled.
#include "xfr/signed_zone.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "dns/record.h"
#include "dns/rr_type.h"

using namespace wiresign;

namespace {

const dns::Name kOrigin = dns::Name::from_text("example.test.");

void add_record(std::string& out, const std::string& owner, uint16_t type, std::vector<uint8_t> rdata) {
  std::vector<uint8_t> wire;
  std::string name = dns::Name::from_text(owner).wire();
  dns::append_record_wire(wire, {name, type, dns::kClassIN, 3600, rdata});
  out.append(reinterpret_cast<const char*>(wire.data()), wire.size());
}

void add_soa(std::string& out, uint32_t serial) {
  std::vector<uint8_t> rdata;
  for (const char* name : {"ns1.example.test.", "hostmaster.example.test."}) {
    std::string wire = dns::Name::from_text(name).wire();
    rdata.insert(rdata.end(), wire.begin(), wire.end());
  }
  for (uint32_t v : {serial, 3600u, 900u, 1209600u, 300u}) dns::put_u32(rdata, v);
  add_record(out, "example.test.", dns::rr_type::SOA, rdata);
}

// Zero-padded, so that numeric order is the canonical order the signer writes.
std::string host(size_t i) {
  char label[16];
  std::snprintf(label, sizeof label, "h%06zu", i);
  return std::string(label) + ".example.test.";
}

TEST(SignedZone, FindsEveryOwnerOfALargeZoneInAnyCase) {
  std::string wire;
  add_soa(wire, 7);
  constexpr size_t kHosts = 50'000;
  for (size_t i = 0; i < kHosts; ++i) {
    add_record(wire, host(i), dns::rr_type::A, {192, 0, 2, static_cast<uint8_t>(i)});
    add_record(wire, host(i), dns::rr_type::TXT, {1, 'x'});
  }
  xfr::SignedZone zone(kOrigin, std::move(wire));
  EXPECT_EQ(zone.serial(), 7u);
  EXPECT_EQ(zone.record_count(), 1 + 2 * kHosts);
  for (size_t i = 0; i < kHosts; i += 997) {
    auto range = zone.owner_range(dns::Name::from_text(host(i)).wire());
    ASSERT_TRUE(range) << host(i);
    EXPECT_EQ(range->first, 1 + 2 * i);
    EXPECT_EQ(range->second, 3 + 2 * i);
  }
  std::string upper = dns::Name::from_text("H000042.EXAMPLE.Test.").wire();
  auto a = zone.lookup(upper, dns::rr_type::A, false);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].rdata[3], 42);
  EXPECT_FALSE(zone.owner_range(dns::Name::from_text("missing.example.test.").wire()));
  EXPECT_TRUE(zone.lookup(upper, dns::rr_type::AAAA, false).empty());

  size_t owners = 0, records = 0;
  zone.for_each_owner([&](std::string_view owner, uint32_t first, uint32_t last) {
    EXPECT_EQ(zone.owner_range(owner), (std::pair{first, last}));
    ++owners;
    records += last - first;
  });
  EXPECT_EQ(owners, 1 + kHosts);
  EXPECT_EQ(records, zone.record_count());
}

TEST(SignedZone, LookupWithRrsigsAddsOnlyTheSignaturesOverTheType) {
  std::string wire;
  add_soa(wire, 1);
  add_record(wire, "www.example.test.", dns::rr_type::A, {192, 0, 2, 1});
  std::vector<uint8_t> over_a(18, 0), over_txt(18, 0);
  over_a[1] = dns::rr_type::A;
  over_txt[1] = dns::rr_type::TXT;
  add_record(wire, "www.example.test.", dns::rr_type::RRSIG, over_a);
  add_record(wire, "www.example.test.", dns::rr_type::TXT, {1, 'x'});
  add_record(wire, "www.example.test.", dns::rr_type::RRSIG, over_txt);
  xfr::SignedZone zone(kOrigin, std::move(wire));
  auto found = zone.lookup(dns::Name::from_text("www.example.test.").wire(), dns::rr_type::A, true);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].type, dns::rr_type::A);
  EXPECT_EQ(found[1].type, dns::rr_type::RRSIG);
  EXPECT_EQ(found[1].rdata[1], dns::rr_type::A);
}

TEST(SignedZone, RefusesAnOwnerWhoseRecordsAreNotTogetherAndAMissingOrSecondSoa) {
  std::string apart;
  add_soa(apart, 1);
  add_record(apart, "a.example.test.", dns::rr_type::A, {192, 0, 2, 1});
  add_record(apart, "b.example.test.", dns::rr_type::A, {192, 0, 2, 2});
  add_record(apart, "A.example.test.", dns::rr_type::TXT, {1, 'x'});  // a.example.test. again, other case
  try {
    xfr::SignedZone zone(kOrigin, std::move(apart));
    FAIL() << "accepted an owner whose records are apart";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a.example.test. is out of order"), std::string::npos) << e.what();
  }

  std::string no_soa;
  add_record(no_soa, "a.example.test.", dns::rr_type::A, {192, 0, 2, 1});
  EXPECT_THROW(xfr::SignedZone(kOrigin, std::move(no_soa)), std::runtime_error);
  std::string two_soas;
  add_soa(two_soas, 1);
  add_soa(two_soas, 2);
  EXPECT_THROW(xfr::SignedZone(kOrigin, std::move(two_soas)), std::runtime_error);
}

// A version made by replacing owners (across the segments a large zone is
// cut into, at their edges, at both ends) is the zone the whole new records
// would make, and the version before it is unchanged.
TEST(SignedZone, WithOwnersGivesTheZoneTheNewRecordsWouldMake) {
  constexpr size_t kHosts = 5000;  // several segments
  auto zone_text = [&](const std::vector<size_t>& gone, const std::vector<size_t>& added, uint8_t changed_txt) {
    std::string wire;
    add_soa(wire, added.empty() ? 1 : 2);
    for (size_t i = 0; i <= kHosts + 1; ++i) {
      bool present = i < kHosts ? std::find(gone.begin(), gone.end(), i) == gone.end()
                                : std::find(added.begin(), added.end(), i) != added.end();
      if (i < kHosts && std::find(added.begin(), added.end(), i) != added.end()) present = true;
      if (!present) continue;
      add_record(wire, host(i), dns::rr_type::A, {192, 0, 2, static_cast<uint8_t>(i)});
      if (i == 1024 || i == 2047) add_record(wire, host(i), dns::rr_type::TXT, {1, changed_txt});
    }
    return wire;
  };
  // Hosts 1023 and 3000 go; 1024 and 2047 (segment edges) change; 5000 and 5001 come at the end.
  const std::vector<size_t> gone = {1023, 3000}, added = {kHosts, kHosts + 1};
  xfr::SignedZone before(kOrigin, zone_text({}, {}, 'a'));
  std::string expected_wire = zone_text(gone, added, 'b');
  xfr::SignedZone expected(kOrigin, expected_wire);

  std::string soa_records;
  add_soa(soa_records, 2);
  std::vector<std::string> owners, records;
  auto replace = [&](const std::string& name, std::string wire) {
    owners.push_back(dns::Name::from_text(name).wire());
    records.push_back(std::move(wire));
  };
  replace("example.test.", soa_records);
  for (size_t i : {size_t{1023}, size_t{1024}, size_t{2047}, size_t{3000}, kHosts, kHosts + 1}) {
    std::string wire;
    if (i != 1023 && i != 3000) add_record(wire, host(i), dns::rr_type::A, {192, 0, 2, static_cast<uint8_t>(i)});
    if (i == 1024 || i == 2047) add_record(wire, host(i), dns::rr_type::TXT, {1, 'b'});
    replace(host(i), wire);
  }
  std::vector<xfr::OwnerRecords> change;
  for (size_t k = 0; k < owners.size(); ++k) change.push_back({owners[k], false, records[k]});
  xfr::SignedZone after = before.with_owners(change);

  std::string scratch, expected_scratch;
  EXPECT_EQ(after.wire(scratch), expected.wire(expected_scratch));
  EXPECT_EQ(after.serial(), 2u);
  EXPECT_EQ(after.record_count(), expected.record_count());
  EXPECT_FALSE(after.owner_range(dns::Name::from_text(host(3000)).wire()));
  EXPECT_TRUE(after.owner_range(dns::Name::from_text(host(kHosts + 1)).wire()));
  EXPECT_EQ(after.lookup(dns::Name::from_text(host(2047)).wire(), dns::rr_type::TXT, false).at(0).rdata[1], 'b');
  EXPECT_EQ(before.serial(), 1u);
  EXPECT_TRUE(before.owner_range(dns::Name::from_text(host(3000)).wire()));
  EXPECT_GT(after.wire_pieces().size(), 1u);  // the untouched segments are shared, not copied
  // Owners out of zone order are refused.
  std::vector<xfr::OwnerRecords> backwards = {change[2], change[1]};
  EXPECT_THROW(before.with_owners(backwards), std::runtime_error);
}

}  // namespace
