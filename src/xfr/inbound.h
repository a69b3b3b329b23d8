// Asking a primary: its SOA serial (RFC 1035 §4.3.5 refresh check) and the
// whole zone by AXFR over TCP (RFC 5936), TSIG-signed when a key is given.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/address.h"
#include "xfr/message.h"
#include "xfr/tsig.h"

namespace wiresign::xfr {

struct PrimaryRequest {
  conf::SocketAddress primary;
  std::string zone;  // wire
  const TsigKey* tsig = nullptr;
  std::chrono::milliseconds timeout{5000};
};

// The primary's SOA serial for the zone. Throws TransportError or
// MessageError (with the primary and the reason) on any failure.
uint32_t query_primary_serial(const PrimaryRequest& request);

// The zone's records as transferred, SOA first, without the closing SOA.
// Refuses transfers over `max_records`. Throws TransportError/MessageError.
std::vector<Record> transfer_zone(const PrimaryRequest& request, size_t max_records = 50'000'000);

}  // namespace wiresign::xfr
