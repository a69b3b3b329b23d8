// RFC 4648 test vectors for the encodings presentation formats use.
#include "dns/base_encoding.h"

#include <gtest/gtest.h>

using namespace wiresign::dns;

namespace {
std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

TEST(BaseEncoding, Base64Rfc4648Vectors) {
  EXPECT_EQ(to_base64(bytes("")), "");
  EXPECT_EQ(to_base64(bytes("f")), "Zg==");
  EXPECT_EQ(to_base64(bytes("fo")), "Zm8=");
  EXPECT_EQ(to_base64(bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(*from_base64("Zm9vYg=="), bytes("foob"));
  EXPECT_EQ(*from_base64("Zm9v\n YmFy"), bytes("foobar"));
  EXPECT_FALSE(from_base64("Zm9v!"));
}

TEST(BaseEncoding, Base32HexRfc4648VectorsUnpaddedLowerCase) {
  std::string out;
  append_base32hex(out, bytes("foobar"));
  EXPECT_EQ(out, "cpnmuoj1e8");
  out.clear();
  append_base32hex(out, bytes("f"));
  EXPECT_EQ(out, "co");
  EXPECT_EQ(*from_base32hex("CPNMUOJ1E8"), bytes("foobar"));
}

TEST(BaseEncoding, HexBothWays) {
  EXPECT_EQ(to_hex(bytes("\x01\xab")), "01AB");
  EXPECT_EQ(to_hex(bytes("\x01\xab"), false), "01ab");
  EXPECT_EQ(*from_hex("01aB"), bytes("\x01\xab"));
  EXPECT_FALSE(from_hex("abc"));
}
