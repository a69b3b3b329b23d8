// Addresses and ACL prefixes as the config writes them.
#include "conf/address.h"

#include <gtest/gtest.h>

namespace wiresign::conf {
namespace {

TEST(ParseSocketAddress, ReadsIpv4AndBracketedIpv6WithPort) {
  auto v4 = parse_socket_address("192.0.2.1:5353");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->ip, "192.0.2.1");
  EXPECT_EQ(v4->port, 5353);
  EXPECT_FALSE(v4->v6);
  auto v6 = parse_socket_address("[2001:db8::1]:53");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->ip, "2001:db8::1");
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->str(), "[2001:db8::1]:53");
}

TEST(ParseSocketAddress, UsesTheDefaultPortOnlyWhenGiven) {
  EXPECT_FALSE(parse_socket_address("192.0.2.1"));
  EXPECT_EQ(parse_socket_address("192.0.2.1", 53)->str(), "192.0.2.1:53");
  EXPECT_EQ(parse_socket_address("::1", 53)->str(), "[::1]:53");
  EXPECT_EQ(parse_socket_address("[::1]", 53)->str(), "[::1]:53");
}

TEST(ParseSocketAddress, RefusesWhatIsNotAnAddress) {
  for (const char* text : {"", "192.0.2.300:53", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
                           "example.com:53", "[192.0.2.1]:53", "[::1:53", "[::1]x53", "::1:zz", "1.2.3.4:5x"})
    EXPECT_FALSE(parse_socket_address(text, 53)) << text;
}

TEST(ParseAddressPrefix, ReadsAddressesAndPrefixes) {
  EXPECT_EQ(parse_address_prefix("198.51.100.0/24")->length, 24u);
  EXPECT_EQ(parse_address_prefix("192.0.2.1")->length, 32u);
  EXPECT_EQ(parse_address_prefix("::1")->length, 128u);
  EXPECT_EQ(parse_address_prefix("2001:db8::/32")->length, 32u);
  for (const char* text : {"", "198.51.100.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "host/8",
                           "192.0.2.1:53"})
    EXPECT_FALSE(parse_address_prefix(text)) << text;
}

}  // namespace
}  // namespace wiresign::conf
