// Master-file reading: logical records over several lines, blank owners,
// directives, and errors that name the line a record starts on.
#include "dns/zone_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "dns/rr_type.h"

using namespace wiresign::dns;

namespace {

struct TempZone {
  explicit TempZone(const std::string& text) {
    char pattern[] = "/tmp/wiresign-reader-XXXXXX";
    close(mkstemp(pattern));
    path = pattern;
    std::ofstream(path) << text;
  }
  ~TempZone() { unlink(path.c_str()); }
  std::string path;
};

std::vector<ParsedRecord> read_all(const std::string& text) {
  TempZone file(text);
  ZoneReader reader(file.path, Name::from_text("example.test."));
  std::vector<ParsedRecord> out;
  ParsedRecord record;
  while (reader.next(record)) out.push_back(record);
  return out;
}

std::string error_line(const std::string& text) {
  try {
    read_all(text);
  } catch (const ZoneFileError& e) {
    return std::to_string(e.line()) + " " + e.what();
  }
  return "no error";
}

}  // namespace

TEST(ZoneReader, ReadsMultiLineRecordsBlankOwnersAndDirectives) {
  auto records = read_all(
      "$TTL 1h30m\n"
      "; a comment\n"
      "@ IN SOA ns1 hostmaster ( 7 ; serial\n"
      "   3600 900 1209600 300 )\n"
      "  IN NS ns1\n"
      "$ORIGIN sub.example.test.\n"
      "www 60 IN TXT \"a ; not a comment\" \"(\"\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].type, rr_type::SOA);
  EXPECT_EQ(records[0].line, 3);
  EXPECT_EQ(records[0].ttl, 5400u);
  EXPECT_EQ(to_text(records[1].owner), "example.test.");
  EXPECT_EQ(records[1].type, rr_type::NS);
  EXPECT_EQ(records[1].line, 5);
  EXPECT_EQ(to_text(records[2].owner), "www.sub.example.test.");
  EXPECT_EQ(records[2].ttl, 60u);
  EXPECT_EQ(records[2].line, 7);
}

TEST(ZoneReader, RejectsMalformedTtlThatLdnsWouldTruncate) {
  EXPECT_EQ(error_line("www 36x0 IN A 192.0.2.1\n").substr(0, 2), "1 ");
  EXPECT_NE(error_line("\n\nwww 36x0 IN A 192.0.2.1\n").find(":3: syntax error: bad TTL '36x0'"),
            std::string::npos);
  EXPECT_NE(error_line("$TTL 1y\n").find("bad TTL"), std::string::npos);
}

TEST(ZoneReader, NamesTheLineWhereABrokenRecordStarts) {
  std::string error = error_line("www IN A 192.0.2.1\nbad IN MX ( 10\n  )\n");
  EXPECT_EQ(error.substr(0, 2), "2 ") << error;
  EXPECT_NE(error_line("x IN TXT \"open\n").find("unterminated"), std::string::npos);
  EXPECT_NE(error_line("x IN A ( 192.0.2.1\n").find("never closed"), std::string::npos);
  EXPECT_NE(error_line("$INCLUDE other.zone\n").find("$INCLUDE is not supported"), std::string::npos);
}
