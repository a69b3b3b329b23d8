// SOA serial policies and RFC 1982 comparisons.
#include "signer/serial.h"

#include <gtest/gtest.h>

using namespace wiresign;
using conf::SerialPolicy;

TEST(Serial, Rfc1982ComparisonWrapsAround) {
  EXPECT_TRUE(signer::serial_newer(2, 1));
  EXPECT_TRUE(signer::serial_newer(0, 0xffffffffu));
  EXPECT_FALSE(signer::serial_newer(1, 1));
  EXPECT_FALSE(signer::serial_newer(1, 2));
}

TEST(Serial, PoliciesMoveForward) {
  const std::time_t now = 1795392000;  // 2026-11-23 00:00:00 UTC
  EXPECT_EQ(signer::next_serial(SerialPolicy::keep, 41, now), 41u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::increment, 41, now), 42u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::increment, 0xffffffffu, now), 0u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::unixtime, 41, now), 1795392000u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::unixtime, 1795392000u, now), 1795392001u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::datecounter, 41, now), 2026112300u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::datecounter, 2026112300u, now), 2026112301u);
  EXPECT_EQ(signer::next_serial(SerialPolicy::datecounter, 2026112399u, now), 2026112400u);
}
