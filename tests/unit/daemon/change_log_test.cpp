// The change log beside a saved signed version (change_log.h, StateDir):
// changes appended after a whole save come back applied in order on load,
// a cut-off last entry (a crash mid-append) ends the log without losing the
// entries before it, and a whole save starts the log again.
#include "daemon/change_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <cstring>
#include <fstream>

#include "daemon/state_dir.h"
#include "dns/record.h"
#include "dns/rr_type.h"

using namespace wiresign;

namespace {

const dns::Name kOrigin = dns::Name::from_text("example.test.");

std::string record(std::string_view owner, uint16_t type, std::vector<uint8_t> rdata) {
  std::vector<uint8_t> wire;
  dns::append_record_wire(wire, {owner, type, dns::kClassIN, 300, rdata});
  return std::string(wire.begin(), wire.end());
}

std::string soa(uint32_t serial) {
  std::vector<uint8_t> rdata = {0, 0};  // MNAME and RNAME: the root, to keep it short
  for (int shift = 24; shift >= 0; shift -= 8) rdata.push_back(static_cast<uint8_t>(serial >> shift));
  rdata.resize(rdata.size() + 16, 0);
  return record(kOrigin.wire(), dns::rr_type::SOA, rdata);
}

std::string host(const char* label, uint8_t last) {
  std::string owner = std::string(1, static_cast<char>(std::strlen(label))) + label + kOrigin.wire();
  return record(owner, dns::rr_type::A, {192, 0, 2, last});
}

// The change from `before` that gives it serial `serial` and `extra` at www.
daemon::ChangeEntry change_to(const xfr::SignedZone& before, uint32_t serial, std::string& apex, std::string& www,
                              uint8_t address, std::shared_ptr<xfr::SignedZone>& after) {
  apex = soa(serial);
  www = host("www", address);
  daemon::ChangeEntry entry;
  entry.input_serial = serial;
  entry.input_names = 2;
  entry.input_digest = "digest " + std::to_string(serial);
  static const std::string apex_owner = kOrigin.wire(), www_owner = "\3www" + kOrigin.wire();
  entry.owners = {{apex_owner, false, apex}, {www_owner, false, www}};
  after = std::make_shared<xfr::SignedZone>(before.with_owners(entry.owners));
  entry.diff = std::make_shared<const xfr::ZoneDiff>(xfr::diff_zones(before, *after));
  return entry;
}

// A state dir of its own, removed afterwards.
struct TempStateDir {
  std::filesystem::path dir = make_dir();
  daemon::StateDir state{dir.string()};
  ~TempStateDir() { std::filesystem::remove_all(dir); }
  static std::filesystem::path make_dir() {
    char pattern[] = "/tmp/wiresign-changelog-XXXXXX";
    return mkdtemp(pattern);
  }
};

TEST(ChangeLog, ChangesAppendedAfterAWholeSaveComeBackInOrder) {
  TempStateDir temp;
  const auto& dir = temp.dir;
  daemon::StateDir& state = temp.state;
  daemon::SignedVersion base;
  base.zone = std::make_shared<xfr::SignedZone>(kOrigin, soa(10) + host("www", 1));
  base.input_serial = 10;
  base.input_names = 2;
  base.input_digest = "digest 10";
  state.save_signed_zone("example.test.", base);

  std::string apex1, www1, apex2, www2;
  std::shared_ptr<xfr::SignedZone> v11, v12;
  daemon::ChangeEntry first = change_to(*base.zone, 11, apex1, www1, 2, v11);
  daemon::ChangeEntry second = change_to(*v11, 12, apex2, www2, 3, v12);
  size_t after_first = state.append_signed_change("example.test.", first);
  size_t after_second = state.append_signed_change("example.test.", second);
  EXPECT_GT(after_second, after_first);

  auto loaded = state.load_signed_zone("example.test.");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version.zone->serial(), 12u);
  std::string a, b;
  EXPECT_EQ(loaded->version.zone->wire(a), v12->wire(b));
  EXPECT_EQ(loaded->version.input_digest, "digest 12");
  ASSERT_EQ(loaded->logged_diffs.size(), 2u);
  EXPECT_EQ(loaded->logged_diffs[0]->from_serial, 10u);
  EXPECT_EQ(loaded->logged_diffs[1]->to_serial, 12u);
  EXPECT_EQ(loaded->logged_diffs[1]->added, second.diff->added);
  EXPECT_EQ(loaded->change_log_bytes, after_second);
  EXPECT_FALSE(loaded->change_log_damaged);

  // A third change cut off mid-write: the two before it still count.
  std::string apex3, www3;
  std::shared_ptr<xfr::SignedZone> v13;
  std::string third = daemon::encode_change(change_to(*v12, 13, apex3, www3, 4, v13));
  {
    std::ofstream log(dir / "signed" / "example.test.changes", std::ios::app | std::ios::binary);
    log << third.substr(0, third.size() / 2);
  }
  loaded = state.load_signed_zone("example.test.");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version.zone->serial(), 12u);
  EXPECT_TRUE(loaded->change_log_damaged);

  // Saved whole again: the log starts afresh, the old entries are gone.
  state.save_signed_zone("example.test.", loaded->version);
  EXPECT_FALSE(std::filesystem::exists(dir / "signed" / "example.test.changes"));
  loaded = state.load_signed_zone("example.test.");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version.zone->serial(), 12u);
  EXPECT_TRUE(loaded->logged_diffs.empty());
}

TEST(ChangeLog, EntriesFromBeforeTheLastWholeSaveAreNotApplied) {
  TempStateDir temp;
  const auto& dir = temp.dir;
  daemon::StateDir& state = temp.state;
  daemon::SignedVersion base;
  base.zone = std::make_shared<xfr::SignedZone>(kOrigin, soa(20) + host("www", 1));
  std::string apex, www;
  std::shared_ptr<xfr::SignedZone> v21;
  daemon::ChangeEntry stale = change_to(*base.zone, 21, apex, www, 9, v21);
  // A crash after the whole save of serial 30 and before its old log went:
  base.zone = std::make_shared<xfr::SignedZone>(kOrigin, soa(30) + host("www", 1));
  state.save_signed_zone("example.test.", base);
  {
    std::ofstream log(dir / "signed" / "example.test.changes", std::ios::binary);
    log << daemon::encode_change(stale);
  }
  auto loaded = state.load_signed_zone("example.test.");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version.zone->serial(), 30u);
  EXPECT_TRUE(loaded->logged_diffs.empty());
}

}  // namespace
