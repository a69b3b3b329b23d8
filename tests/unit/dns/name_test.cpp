// Names: presentation parsing and printing, label arithmetic, RFC 4034 §6.1 order.
#include "dns/name.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

using namespace wiresign::dns;

TEST(Name, ParsesAbsoluteAndRelativeNamesLowerCased) {
  Name origin = Name::from_text("Example.TEST.");
  EXPECT_EQ(origin.wire(), std::string("\x07" "example" "\x04" "test" "\x00", 14));
  EXPECT_EQ(Name::from_text("WWW", origin).to_text(), "www.example.test.");
  EXPECT_EQ(Name::from_text("@", origin), origin);
  EXPECT_EQ(Name::from_text(".").to_text(), ".");
}

TEST(Name, EscapesRoundTrip) {
  Name name = Name::from_text("a\\.b\\032c\\\\d.example.");
  EXPECT_EQ(label_count(name.wire()), 2u);
  EXPECT_EQ(name.wire()[0], 7);  // "a.b c\d"
  EXPECT_EQ(name.to_text(), "a\\.b\\032c\\\\d.example.");
}

TEST(Name, RejectsOverlongLabelsAndNames) {
  EXPECT_THROW(Name::from_text(std::string(64, 'a') + "."), ParseError);
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(63, 'a') + ".";
  EXPECT_THROW(Name::from_text(long_name), ParseError);
  EXPECT_THROW(Name::from_text("relative"), ParseError);
}

TEST(Name, AcceptsNameOfExactly255Octets) {
  // 3 labels of 63 + 1 label of 61: 4*1 + 63*3 + 61 + 1 (root) = 255 octets.
  std::string text = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                     std::string(61, 'd') + ".";
  EXPECT_EQ(Name::from_text(text).wire().size(), 255u);
}

TEST(Name, WildcardLabelCount) {
  Name wild = Name::from_text("*.a.example.");
  EXPECT_TRUE(is_wildcard(wild.wire()));
  EXPECT_EQ(label_count(wild.wire()), 3u);
  EXPECT_EQ(rrsig_label_count(wild.wire()), 2u);
}

TEST(Name, AncestryIsLabelWise) {
  Name zone = Name::from_text("example.");
  EXPECT_TRUE(is_at_or_below(Name::from_text("a.b.EXAMPLE.").wire(), zone.wire()));
  EXPECT_TRUE(is_at_or_below(zone.wire(), zone.wire()));
  EXPECT_FALSE(is_at_or_below(Name::from_text("notexample.").wire(), zone.wire()));
  EXPECT_FALSE(is_at_or_below(Name::from_text("example.net.").wire(), zone.wire()));
  EXPECT_EQ(to_text(parent_of(Name::from_text("a.example.").wire())), "example.");
}

TEST(Name, CanonicalOrderMatchesRfc4034Example) {
  // RFC 4034 §6.1 lists these names in canonical order.
  std::vector<std::string> expected = {"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
                                       "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
                                       "\\200.z.example."};
  std::vector<std::string> wires;
  for (const auto& text : expected) wires.push_back(Name::from_text(text).wire());
  std::vector<std::string> shuffled = wires;
  std::reverse(shuffled.begin(), shuffled.end());
  std::sort(shuffled.begin(), shuffled.end(),
            [](const std::string& a, const std::string& b) { return canonical_compare(a, b) < 0; });
  EXPECT_EQ(shuffled, wires);
  std::vector<std::string> by_key = wires;
  std::reverse(by_key.begin(), by_key.end());
  std::sort(by_key.begin(), by_key.end(),
            [](const std::string& a, const std::string& b) { return canonical_sort_key(a) < canonical_sort_key(b); });
  EXPECT_EQ(by_key, wires);
}

TEST(Name, SortKeyHandlesZeroOctetsInLabels) {
  std::string a = Name::from_text("\\000.example.").wire();
  std::string b = Name::from_text("\\000\\000.example.").wire();
  std::string c = Name::from_text("\\001.example.").wire();
  EXPECT_LT(canonical_compare(a, b), 0);
  EXPECT_LT(canonical_compare(b, c), 0);
  EXPECT_LT(canonical_sort_key(a), canonical_sort_key(b));
  EXPECT_LT(canonical_sort_key(b), canonical_sort_key(c));
}
