// The outbound DNS server: SOA and exact-match queries over UDP and TCP, and
// AXFR/IXFR over TCP to allow-transfer sources, TSIG-checked and -signed when
// the zone requires a key (RFC 5936, RFC 8945). Boost.Asio, one io_context.
#pragma once
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conf/address.h"
#include "xfr/message.h"
#include "xfr/journal.h"
#include "xfr/signed_zone.h"
#include "xfr/transfer_counters.h"
#include "xfr/tsig.h"

namespace wiresign::xfr {

// A published zone and who may transfer it.
struct ServedZone {
  std::shared_ptr<const SignedZone> zone;
  std::shared_ptr<const Journal> journal;  // may be null: IXFR is then answered with the full zone
  std::vector<conf::AddressPrefix> allow_transfer;
  std::optional<TsigKey> transfer_tsig;  // when set, transfers must be signed with it
};

// The zones being served; publishing replaces a zone's version atomically,
// so a query sees the old version or the new one, never a mix.
class ZoneTable {
 public:
  void publish(const std::string& origin_wire, ServedZone zone);
  // Stops serving a zone (removed from the configuration).
  void remove(const std::string& origin_wire);
  // The zone at or above `qname` with the longest match, or null.
  std::shared_ptr<const ServedZone> find(std::string_view qname) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const ServedZone>> zones_;
};

using LogSink = std::function<void(const std::string&)>;

// Decides on a NOTIFY (RFC 1996) from `source`: returns the RCODE to answer
// with (NOERROR when accepted, REFUSED/NOTAUTH otherwise).
using NotifyHandler =
    std::function<uint8_t(const Message& notify, std::span<const uint8_t> wire, const std::string& source)>;

class Server {
 public:
  // Binds every listen address over UDP and TCP; throws std::runtime_error
  // naming the address when one cannot be bound.
  // `counters` (may be null) counts the transfers it answers.
  Server(boost::asio::io_context& io, const std::vector<conf::SocketAddress>& listen, ZoneTable& zones, LogSink log,
         NotifyHandler on_notify = {}, TransferCounters* counters = nullptr);

  // TCP clients (RFC 7766 §6.2): one idle longer than `idle` between
  // requests, or slower than `io_timeout` to take a message, is closed; past
  // `max_clients` open connections new ones are closed at once. None of them
  // can hold up the others or UDP.
  struct TcpLimits {
    std::chrono::seconds idle{10};
    std::chrono::seconds io_timeout{30};
    size_t max_clients = 100;
  };
  void set_tcp_limits(const TcpLimits& limits) { tcp_limits_ = limits; }

 private:
  boost::asio::awaitable<void> serve_udp(std::shared_ptr<boost::asio::ip::udp::socket> socket);
  boost::asio::awaitable<void> accept_tcp(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor);
  boost::asio::awaitable<void> serve_tcp(std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  // The answer messages for one request from `source` (several for AXFR).
  std::vector<std::vector<uint8_t>> respond(std::span<const uint8_t> request, const std::string& source, bool over_udp);

  ZoneTable& zones_;
  LogSink log_;
  NotifyHandler on_notify_;
  TransferCounters* counters_;
  TcpLimits tcp_limits_;
  size_t tcp_clients_ = 0;  // touched only on the io_context's thread
};

}  // namespace wiresign::xfr
