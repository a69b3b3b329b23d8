// The control API's transport: HTTP/1.1 (Boost.Beast) on a UNIX socket
// (mode 0600: only the daemon's user), optionally on a loopback TCP port
// where a bearer token is required, and /metrics on its own loopback port.
// It runs on its own thread, so a slow client never holds up DNS service;
// every read and write has a deadline.
#pragma once
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "conf/address.h"
#include "xfr/server.h"

namespace wiresign::daemon {

struct ControlRequest {
  std::string method;  // GET, POST
  std::string target;  // /zones/example.com.
  bool metrics_only = false;  // came in on the metrics port
};

struct ControlResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using ControlHandler = std::function<ControlResponse(const ControlRequest&)>;

class ControlServer {
 public:
  // Binds what is configured (throws std::runtime_error naming the socket or
  // address that cannot be bound) and starts serving on its own thread.
  ControlServer(const std::string& socket_path, const std::optional<conf::SocketAddress>& tcp, std::string token,
                const std::optional<conf::SocketAddress>& metrics, ControlHandler handler, xfr::LogSink log);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  boost::asio::io_context io_;
  std::string socket_path_;
  std::string token_;
  ControlHandler handler_;
  xfr::LogSink log_;
  std::thread thread_;
};

}  // namespace wiresign::daemon
