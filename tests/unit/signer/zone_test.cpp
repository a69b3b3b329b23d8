// Loading and checking unsigned zones: order, duplicates, and the errors
// that must name the file and line of the record at fault.
#include "signer/zone.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "dns/rr_type.h"
#include "dns/zone_reader.h"
#include "signer/zone_checks.h"

using namespace wiresign;

namespace {

class ZoneFile {
 public:
  explicit ZoneFile(const std::string& text) {
    char pattern[] = "/tmp/wiresign-zone-XXXXXX";
    int fd = mkstemp(pattern);
    close(fd);
    path_ = pattern;
    std::ofstream(path_) << text;
  }
  ~ZoneFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const dns::Name kOrigin = dns::Name::from_text("example.test.");

signer::Zone load_and_check(const ZoneFile& file, std::vector<std::string>* warnings = nullptr) {
  auto warn = [&](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };
  signer::Zone zone = signer::load_zone_file(file.path(), kOrigin, warn);
  zone.finalize();
  signer::check_zone(zone, file.path(), warn);
  return zone;
}

std::string error_of(const std::string& text) {
  ZoneFile file(text);
  try {
    load_and_check(file);
  } catch (const dns::ZoneFileError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind(file.path(), 0), 0u) << what;
    return what.substr(file.path().size());
  }
  return "no error";
}

constexpr const char* kHead =
    "$ORIGIN example.test.\n"
    "$TTL 3600\n"
    "@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n"
    "@ IN NS ns1\n";

}  // namespace

TEST(Zone, SortsNamesCanonicallyAndDropsDuplicates) {
  ZoneFile file(std::string(kHead) +
                "z IN A 192.0.2.3\n"
                "B.a IN A 192.0.2.2\n"
                "a IN A 192.0.2.1\n"
                "a IN A 192.0.2.1\n"
                "ns1 IN A 192.0.2.53\n"
                "a IN TXT \"x\"\n");
  signer::Zone zone = load_and_check(file);
  ASSERT_EQ(zone.name_count(), 5u);
  EXPECT_EQ(dns::to_text(zone.name(0)), "example.test.");
  EXPECT_EQ(dns::to_text(zone.name(1)), "a.example.test.");
  EXPECT_EQ(dns::to_text(zone.name(2)), "b.a.example.test.");
  EXPECT_EQ(dns::to_text(zone.name(3)), "ns1.example.test.");
  EXPECT_EQ(dns::to_text(zone.name(4)), "z.example.test.");
  auto at_a = zone.records_at(1);
  ASSERT_EQ(at_a.size(), 2u);  // the duplicate A is gone
  EXPECT_EQ(at_a[0].type, dns::rr_type::A);
  EXPECT_EQ(at_a[1].type, dns::rr_type::TXT);
  EXPECT_EQ(zone.find_name(dns::Name::from_text("NS1.example.test.").wire()), 3u);
}

TEST(Zone, NormalisesDifferingTtlsToTheLowestWithAWarning) {
  ZoneFile file(std::string(kHead) + "ns1 IN A 192.0.2.53\nwww 300 IN A 192.0.2.1\nwww 60 IN A 192.0.2.2\n");
  std::vector<std::string> warnings;
  signer::Zone zone = load_and_check(file, &warnings);
  size_t www = zone.find_name(dns::Name::from_text("www.example.test.").wire());
  for (const auto& r : zone.records_at(www)) EXPECT_EQ(r.ttl, 60u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("RFC 2181"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("www.example.test. A"), std::string::npos) << warnings[0];
}

TEST(Zone, DropsDnssecRecordsFromInputWithOneWarning) {
  ZoneFile file(std::string(kHead) + "ns1 IN A 192.0.2.53\n"
                "@ IN NSEC3PARAM 1 0 0 -\n@ IN DNSKEY 256 3 13 "
                "kdUhlNoUtp0zxeTs2tgOzRvsM7EwDT2hixKzPUzSoNUBjF16ObzfoE21vt6bqavOc/F9Cs0KIXzlm2CzpX+s0w==\n");
  std::vector<std::string> warnings;
  signer::Zone zone = load_and_check(file, &warnings);
  EXPECT_EQ(zone.records_at(0).size(), 2u);  // SOA and NS only
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("dropped 2 DNSSEC records"), std::string::npos) << warnings[0];
}

TEST(ZoneChecks, RejectsCnameAndOtherDataNamingTheLine) {
  std::string error = error_of(std::string(kHead) + "ns1 IN A 192.0.2.53\nwww IN CNAME ns1\nwww IN A 192.0.2.1\n");
  EXPECT_EQ(error.rfind(":6: CNAME and other data at www.example.test.", 0), 0u) << error;
}

TEST(ZoneChecks, RejectsMissingSoa) {
  std::string error = error_of("$ORIGIN example.test.\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.1\n");
  EXPECT_NE(error.find("no SOA record at the apex example.test."), std::string::npos) << error;
}

TEST(ZoneChecks, RejectsOutOfZoneRecordNamingTheLine) {
  std::string error = error_of(std::string(kHead) + "ns1 IN A 192.0.2.53\nwww.example.org. IN A 192.0.2.1\n");
  EXPECT_EQ(error.rfind(":6: record www.example.org. A is outside the zone example.test.", 0), 0u) << error;
}

TEST(ZoneChecks, RejectsSyntaxErrorNamingTheLine) {
  std::string error = error_of(std::string(kHead) + "ns1 IN A 192.0.2.53\nwww IN A 192.0.2.300\n");
  EXPECT_EQ(error.rfind(":6: syntax error", 0), 0u) << error;
}

TEST(ZoneChecks, RejectsSecondSoaAndDsWithoutDelegation) {
  std::string soa = error_of(std::string(kHead) + "@ IN SOA ns2 hostmaster 2 3600 900 1209600 300\n");
  EXPECT_NE(soa.find("second SOA"), std::string::npos) << soa;
  std::string ds = error_of(std::string(kHead) + "ns1 IN A 192.0.2.53\nsub IN DS 1 13 2 " + std::string(64, 'A') + "\n");
  EXPECT_EQ(ds.rfind(":6: DS record at sub.example.test., which is not a delegation", 0), 0u) << ds;
}

TEST(ZoneChecks, RejectsDataBelowDname) {
  std::string error =
      error_of(std::string(kHead) + "ns1 IN A 192.0.2.53\nold IN DNAME new.example.\nwww.old IN A 192.0.2.1\n");
  EXPECT_NE(error.find("below the DNAME at old.example.test."), std::string::npos) << error;
}
