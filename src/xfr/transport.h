// Blocking DNS exchanges with a peer over UDP and TCP (RFC 1035 §4.2), each
// wait bounded by a deadline: what the inbound side uses to ask a primary.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/address.h"

namespace wiresign::xfr {

// The peer did not answer in time, refused the connection, or hung up.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sends `query` and waits for one datagram from that peer.
std::vector<uint8_t> udp_exchange(const conf::SocketAddress& peer, const std::vector<uint8_t>& query,
                                  std::chrono::milliseconds timeout);

// One TCP connection; messages with their two-octet length prefix.
class TcpConnection {
 public:
  TcpConnection(const conf::SocketAddress& peer, std::chrono::milliseconds timeout);
  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // From now on no wait goes past `deadline`: the exchange as a whole is
  // bounded, not only each wait (a peer sending a byte now and then).
  // `name` says which limit it is in the error.
  void set_deadline(std::chrono::steady_clock::time_point deadline, std::string name);

  void send(const std::vector<uint8_t>& message);
  // Waits at most the connection's timeout for each part of the next message.
  std::vector<uint8_t> receive();

 private:
  void read_exactly(uint8_t* data, size_t length);
  // The wait allowed now: the timeout, or less when the deadline is nearer.
  std::chrono::milliseconds next_wait(const char* what) const;
  void wait(short events, const char* what) const;
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::chrono::steady_clock::time_point started_;
  std::string deadline_name_;
  std::string peer_;
};

}  // namespace wiresign::xfr
