// The journal of signed versions: diffs between versions, the path from a
// client's serial, the limits, the saved form, and IXFR answers built from it
// (RFC 1995 §4: current SOA, old SOA, deletions, new SOA, additions, current SOA).
#include "xfr/journal.h"

#include <gtest/gtest.h>

#include "dns/record.h"
#include "dns/rr_type.h"
#include "xfr/responder.h"

using namespace wiresign;

namespace {

std::string wire_name(const char* text) { return dns::Name::from_text(text).wire(); }

void add_record(std::string& out, const char* owner, uint16_t type, std::vector<uint8_t> rdata) {
  std::vector<uint8_t> wire;
  std::string name = wire_name(owner);
  dns::append_record_wire(wire, {name, type, dns::kClassIN, 3600, rdata});
  out.append(reinterpret_cast<const char*>(wire.data()), wire.size());
}

std::vector<uint8_t> soa_rdata(uint32_t serial) {
  std::vector<uint8_t> rdata;
  for (const char* name : {"ns1.example.test.", "hostmaster.example.test."}) {
    std::string wire = wire_name(name);
    rdata.insert(rdata.end(), wire.begin(), wire.end());
  }
  for (uint32_t v : {serial, 3600u, 900u, 1209600u, 300u}) dns::put_u32(rdata, v);
  return rdata;
}

// A zone version: the SOA with `serial` and one A record per host number.
std::shared_ptr<xfr::SignedZone> version(uint32_t serial, std::vector<uint8_t> hosts) {
  std::string wire;
  add_record(wire, "example.test.", dns::rr_type::SOA, soa_rdata(serial));
  add_record(wire, "example.test.", dns::rr_type::NS, {3, 'n', 's', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4,
                                                        't', 'e', 's', 't', 0});
  for (uint8_t host : hosts) add_record(wire, "www.example.test.", dns::rr_type::A, {192, 0, 2, host});
  return std::make_shared<xfr::SignedZone>(dns::Name::from_text("example.test."), std::move(wire));
}

std::shared_ptr<const xfr::ZoneDiff> diff(const xfr::SignedZone& a, const xfr::SignedZone& b) {
  return std::make_shared<xfr::ZoneDiff>(xfr::diff_zones(a, b));
}

uint32_t serial_of(const xfr::Record& soa) {
  return dns::get_u32(soa.rdata.data() + dns::soa_serial_offset(soa.rdata));
}

}  // namespace

TEST(JournalTest, DiffHoldsOnlyTheChangedRecordsLedByEachVersionsSoa) {
  auto v1 = version(10, {1, 2, 3});
  auto v2 = version(11, {2, 3, 4});
  xfr::ZoneDiff d = xfr::diff_zones(*v1, *v2);
  EXPECT_EQ(d.from_serial, 10u);
  EXPECT_EQ(d.to_serial, 11u);
  EXPECT_EQ(d.removed_count, 2u);  // old SOA + 192.0.2.1
  EXPECT_EQ(d.added_count, 2u);    // new SOA + 192.0.2.4
  std::string expected_removed, expected_added;
  add_record(expected_removed, "example.test.", dns::rr_type::SOA, soa_rdata(10));
  add_record(expected_removed, "www.example.test.", dns::rr_type::A, {192, 0, 2, 1});
  add_record(expected_added, "example.test.", dns::rr_type::SOA, soa_rdata(11));
  add_record(expected_added, "www.example.test.", dns::rr_type::A, {192, 0, 2, 4});
  EXPECT_EQ(d.removed, expected_removed);
  EXPECT_EQ(d.added, expected_added);
}

TEST(JournalTest, DiffCoversOwnersThatAppearOrDisappear) {
  auto zone = [](uint32_t serial, std::vector<const char*> hosts) {
    std::string wire;
    add_record(wire, "example.test.", dns::rr_type::SOA, soa_rdata(serial));
    for (const char* host : hosts) {
      add_record(wire, host, dns::rr_type::A, {192, 0, 2, 1});
      add_record(wire, host, dns::rr_type::TXT, {2, 'h', 'i'});
    }
    return std::make_shared<xfr::SignedZone>(dns::Name::from_text("example.test."), std::move(wire));
  };
  auto v1 = zone(1, {"a.example.test.", "b.example.test.", "c.example.test."});
  auto v2 = zone(2, {"a.example.test.", "c.example.test.", "d.example.test."});
  xfr::ZoneDiff d = xfr::diff_zones(*v1, *v2);
  EXPECT_EQ(d.removed_count, 3u);  // SOA, b's A and TXT
  EXPECT_EQ(d.added_count, 3u);    // SOA, d's A and TXT
  std::string b_records, d_records;
  add_record(b_records, "b.example.test.", dns::rr_type::A, {192, 0, 2, 1});
  add_record(b_records, "b.example.test.", dns::rr_type::TXT, {2, 'h', 'i'});
  add_record(d_records, "d.example.test.", dns::rr_type::A, {192, 0, 2, 1});
  add_record(d_records, "d.example.test.", dns::rr_type::TXT, {2, 'h', 'i'});
  EXPECT_NE(d.removed.find(b_records), std::string::npos);
  EXPECT_NE(d.added.find(d_records), std::string::npos);
  EXPECT_EQ(d.removed.find("\001a"), std::string::npos);  // a and c are unchanged
  EXPECT_EQ(d.added.find("\001c"), std::string::npos);
}

TEST(JournalTest, PathLeadsFromAnySerialItReachesToTheNewest) {
  auto v1 = version(1, {1}), v2 = version(2, {2}), v3 = version(3, {3});
  xfr::JournalLimits limits;
  xfr::Journal journal = xfr::Journal().with(diff(*v1, *v2), limits).with(diff(*v2, *v3), limits);
  ASSERT_EQ(journal.size(), 2u);
  auto from1 = journal.path_from(1);
  ASSERT_TRUE(from1);
  ASSERT_EQ(from1->size(), 2u);
  EXPECT_EQ((*from1)[0]->from_serial, 1u);
  EXPECT_EQ((*from1)[1]->to_serial, 3u);
  auto from2 = journal.path_from(2);
  ASSERT_TRUE(from2);
  EXPECT_EQ(from2->size(), 1u);
  EXPECT_FALSE(journal.path_from(0));
  EXPECT_FALSE(journal.path_from(7));
}

TEST(JournalTest, LimitsDropTheOldestEntriesButNeverTheNewest) {
  xfr::JournalLimits limits;
  limits.max_entries = 2;
  xfr::Journal journal;
  std::vector<std::shared_ptr<xfr::SignedZone>> versions;
  for (uint32_t s = 1; s <= 5; ++s) versions.push_back(version(s, {static_cast<uint8_t>(s)}));
  for (size_t i = 1; i < versions.size(); ++i) journal = journal.with(diff(*versions[i - 1], *versions[i]), limits);
  EXPECT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal.oldest_serial(), 3u);
  EXPECT_EQ(journal.newest_serial(), 5u);
  EXPECT_FALSE(journal.path_from(2));

  limits.max_bytes = 1;  // smaller than any entry: only the newest stays
  journal = journal.with(diff(*versions[4], *version(6, {6})), limits);
  EXPECT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal.oldest_serial(), 5u);
}

TEST(JournalTest, AnEntryThatDoesNotContinueStartsAFreshJournal) {
  xfr::JournalLimits limits;
  auto v1 = version(1, {1}), v2 = version(2, {2}), v9 = version(9, {9}), v10 = version(10, {10});
  xfr::Journal journal = xfr::Journal().with(diff(*v1, *v2), limits).with(diff(*v9, *v10), limits);
  EXPECT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal.oldest_serial(), 9u);
}

TEST(JournalTest, SavedFormRoundTripsAndACutOffFileIsRefused) {
  xfr::JournalLimits limits;
  auto v1 = version(1, {1, 5}), v2 = version(2, {2, 5}), v3 = version(3, {3});
  xfr::Journal journal = xfr::Journal().with(diff(*v1, *v2), limits).with(diff(*v2, *v3), limits);
  std::string bytes = journal.serialize();
  xfr::Journal back = xfr::Journal::parse(bytes);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.bytes(), journal.bytes());
  auto path = back.path_from(1);
  ASSERT_TRUE(path);
  EXPECT_EQ((*path)[1]->removed, (*journal.path_from(1))[1]->removed);
  EXPECT_EQ((*path)[1]->removed_count, 3u);  // SOA + .2 + .5

  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW(xfr::Journal::parse(std::string_view(bytes).substr(0, cut)), std::runtime_error) << cut;
  std::string extra = bytes + "x";
  EXPECT_THROW(xfr::Journal::parse(extra), std::runtime_error);
}

TEST(JournalTest, IxfrAnswerFollowsRfc1995Layout) {
  auto v1 = version(1, {1}), v2 = version(2, {2}), v3 = version(3, {2, 3});
  xfr::JournalLimits limits;
  xfr::Journal journal = xfr::Journal().with(diff(*v1, *v2), limits).with(diff(*v2, *v3), limits);
  xfr::Message query;
  query.header.id = 7;
  query.questions.push_back({wire_name("example.test."), 251, dns::kClassIN});
  query.authority.push_back({wire_name("example.test."), dns::rr_type::SOA, dns::kClassIN, 3600, soa_rdata(1)});
  ASSERT_EQ(xfr::ixfr_client_serial(query), 1u);

  auto messages = xfr::build_ixfr(query, *v3, *journal.path_from(1), 60);  // small: several messages
  EXPECT_GT(messages.size(), 1u);
  std::vector<xfr::Record> records;
  for (const auto& wire : messages) {
    xfr::Message m = xfr::parse_message(wire);
    EXPECT_EQ(m.header.id, 7);
    for (auto& r : m.answers) records.push_back(r);
  }
  // SOA 3 | SOA 1, -A .1 | SOA 2, +A .2 | SOA 2 | SOA 3, +A .3 | SOA 3
  ASSERT_EQ(records.size(), 9u);
  std::vector<uint32_t> soa_serials;
  for (const auto& r : records)
    if (r.type == dns::rr_type::SOA) soa_serials.push_back(serial_of(r));
  EXPECT_EQ(soa_serials, (std::vector<uint32_t>{3, 1, 2, 2, 3, 3}));
  EXPECT_EQ(records[2].rdata, (std::vector<uint8_t>{192, 0, 2, 1}));
  EXPECT_EQ(records[4].rdata, (std::vector<uint8_t>{192, 0, 2, 2}));
  EXPECT_EQ(records[7].rdata, (std::vector<uint8_t>{192, 0, 2, 3}));
}
