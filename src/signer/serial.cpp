// Serial arithmetic: the signed zone's serial must move forward on every
// publication so that secondaries pick up fresh signatures.
#include "signer/serial.h"

namespace wiresign::signer {

uint32_t next_serial(conf::SerialPolicy policy, uint32_t serial, std::time_t now) {
  switch (policy) {
    case conf::SerialPolicy::keep:
      return serial;
    case conf::SerialPolicy::increment:
      return serial + 1;
    case conf::SerialPolicy::unixtime: {
      auto candidate = static_cast<uint32_t>(now);
      return serial_newer(candidate, serial) ? candidate : serial + 1;
    }
    case conf::SerialPolicy::datecounter: {
      std::tm tm{};
      gmtime_r(&now, &tm);
      uint32_t today = static_cast<uint32_t>((tm.tm_year + 1900) * 1000000 + (tm.tm_mon + 1) * 10000 +
                                             tm.tm_mday * 100);
      return serial_newer(today, serial) ? today : serial + 1;
    }
  }
  return serial + 1;
}

}  // namespace wiresign::signer
