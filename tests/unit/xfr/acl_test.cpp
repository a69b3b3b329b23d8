// Access lists: prefixes of both families, bare addresses, mapped IPv4.
#include "xfr/acl.h"

#include <gtest/gtest.h>

using namespace wiresign;

TEST(Acl, MatchesPrefixesAndBareAddresses) {
  auto acl = xfr::parse_acl({"198.51.100.0/24", "::1", "2001:db8:1::/48"});
  ASSERT_EQ(acl.size(), 3u);
  EXPECT_TRUE(xfr::address_allowed("198.51.100.7", acl));
  EXPECT_FALSE(xfr::address_allowed("198.51.101.7", acl));
  EXPECT_TRUE(xfr::address_allowed("::1", acl));
  EXPECT_FALSE(xfr::address_allowed("::2", acl));
  EXPECT_TRUE(xfr::address_allowed("2001:db8:1:ffff::9", acl));
  EXPECT_FALSE(xfr::address_allowed("2001:db8:2::9", acl));
  EXPECT_TRUE(xfr::address_allowed("::ffff:198.51.100.200", acl));
  EXPECT_FALSE(xfr::address_allowed("not an address", acl));
  EXPECT_FALSE(xfr::address_allowed("127.0.0.1", {}));
}
