// The parent-side DS check of a KSK rollover (RFC 7583 §3.3.4, RFC 6781
// §4.1.2): which servers the parent zone has, what DS RRset each serves for
// us, and whether a DS for a given DNSKEY (RFC 4034 §5.1.4) is there.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/address.h"

namespace wiresign::daemon {

// What one parent server said about a zone's DS RRset.
struct ParentDsAnswer {
  std::string server;                           // "192.0.2.1:53"
  bool answered = false;                        // authoritative NOERROR, with the DS RRset or NODATA
  std::string error;                            // why not, when !answered: "REFUSED", "timeout (...)", ...
  std::vector<std::vector<uint8_t>> ds_rdatas;  // the DS RDATAs served, wire form
};

// How find_parent_servers asks the system resolver. The daemon keeps the
// defaults (the servers of /etc/resolv.conf); tests point `server` at a DNS
// server on loopback.
struct ResolverOptions {
  std::optional<conf::SocketAddress> server;  // IPv4 only: libresolv's nsaddr_list holds sockaddr_in
  std::chrono::seconds timeout{2};            // per try and server
  int attempts = 2;
};

// The parent's servers: `configured` ("addr:port", or "addr" for port 53) when
// not empty; otherwise the addresses of the NS RRset of the closest enclosing
// zone above `zone` ("example.test."), found through the system resolver
// (res_nquery), leaving out addresses this host has no route to. Throws
// std::runtime_error naming the zone and why when none is found.
std::vector<conf::SocketAddress> find_parent_servers(const std::string& zone,
                                                     const std::vector<std::string>& configured,
                                                     const ResolverOptions& resolver = {});

// Asks every server at once for `zone` DS (RD=0, EDNS0 1232, over TCP when
// the UDP answer is truncated). Each server's exchange is bounded by
// `timeout` as a whole, so the call returns after about `timeout`. Servers
// are answered in the order given; a failure is reported in the answer.
// Throws dns::ParseError only for a zone name that is not one.
std::vector<ParentDsAnswer> query_parent_ds(const std::string& zone, const std::vector<conf::SocketAddress>& servers,
                                            std::chrono::milliseconds timeout);

// Whether a DS RDATA is for this DNSKEY: key tag, algorithm and digest
// (SHA-1, SHA-256, SHA-384) over the owner name and the DNSKEY RDATA.
// Unknown digest types and malformed DS RDATA never match.
bool ds_matches_dnskey(std::span<const uint8_t> ds_rdata, const std::string& owner_wire,
                       std::span<const uint8_t> dnskey_rdata);

// everywhere: every server answered, each with a DS for the key; nowhere:
// every server answered, none with one; partly: all answered, some with one;
// unknown: some server did not answer (or there were no servers). DS records
// for other keys do not count either way.
enum class DsPresence { everywhere, nowhere, partly, unknown };
DsPresence ds_presence(const std::vector<ParentDsAnswer>& answers, const std::string& owner_wire,
                       std::span<const uint8_t> dnskey_rdata);

// One line for the log, to follow "zone: ": "DS for key 12345 served by 1 of 3
// parent servers; missing at 192.0.2.2:53; 192.0.2.3:53 did not answer: REFUSED".
std::string describe_ds_presence(const std::vector<ParentDsAnswer>& answers, const std::string& owner_wire,
                                 std::span<const uint8_t> dnskey_rdata);

}  // namespace wiresign::daemon
