// Durations as written in the config: units, combinations, and the inputs
// that must be refused rather than guessed at.
#include "conf/duration.h"

#include <gtest/gtest.h>

#include <string>

namespace wiresign::conf {
namespace {

TEST(ParseDuration, AcceptsEachUnitAndPlainSeconds) {
  struct Case {
    const char* text;
    uint32_t seconds;
  };
  const Case cases[] = {
      {"90d", 90 * 86400}, {"12h", 12 * 3600}, {"30m", 1800},        {"45s", 45},
      {"2w", 14 * 86400},  {"3600", 3600},     {"0", 0},             {"1d12h", 36 * 3600},
      {"1w2d3h4m5s", 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5}, {"4294967295", 4294967295u},
  };
  for (const auto& c : cases) {
    auto parsed = parse_duration(c.text);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_EQ(*parsed, c.seconds) << c.text;
  }
}

TEST(ParseDuration, RefusesMalformedText) {
  for (const char* text : {"", "-1", "5x", "d", "1.5d", " 1d", "1d ", "1D", "+5", "1d30", "12h1d", "1h1h", "1dd"})
    EXPECT_FALSE(parse_duration(text).has_value()) << '"' << text << '"';
}

TEST(ParseDuration, RefusesValuesBeyond32Bits) {
  EXPECT_FALSE(parse_duration("4294967296").has_value());
  EXPECT_FALSE(parse_duration("99999999999999999999999").has_value());
  EXPECT_FALSE(parse_duration("49711d").has_value());  // 49711 days > 2^32 s
  EXPECT_TRUE(parse_duration("49710d").has_value());
  EXPECT_FALSE(parse_duration("49710d23h").has_value());
}

}  // namespace
}  // namespace wiresign::conf
