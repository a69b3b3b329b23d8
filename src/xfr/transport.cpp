// POSIX sockets with poll() deadlines: simple, and every wait is bounded.
#include "xfr/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wiresign::xfr {
namespace {

socklen_t make_sockaddr(const conf::SocketAddress& peer, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof storage);
  if (peer.v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&storage);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(peer.port);
    inet_pton(AF_INET6, peer.ip.c_str(), &sa->sin6_addr);
    return sizeof(sockaddr_in6);
  }
  auto* sa = reinterpret_cast<sockaddr_in*>(&storage);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(peer.port);
  inet_pton(AF_INET, peer.ip.c_str(), &sa->sin_addr);
  return sizeof(sockaddr_in);
}

void wait_for(int fd, short events, std::chrono::milliseconds timeout, const std::string& peer, const char* what) {
  pollfd p{fd, events, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready == 0) throw TransportError(peer + ": no " + what + " within " + std::to_string(timeout.count()) + " ms");
  if (ready < 0) throw TransportError(peer + ": poll: " + std::strerror(errno));
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::vector<uint8_t> udp_exchange(const conf::SocketAddress& peer, const std::vector<uint8_t>& query,
                                  std::chrono::milliseconds timeout) {
  sockaddr_storage address;
  socklen_t length = make_sockaddr(peer, address);
  Fd socket_fd{::socket(peer.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0)};
  if (socket_fd.fd < 0) throw TransportError(peer.str() + ": socket: " + std::strerror(errno));
  if (::connect(socket_fd.fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::send(socket_fd.fd, query.data(), query.size(), 0) < 0)
    throw TransportError(peer.str() + ": " + std::strerror(errno));
  wait_for(socket_fd.fd, POLLIN, timeout, peer.str(), "answer over UDP");
  std::vector<uint8_t> answer(65535);
  ssize_t received = ::recv(socket_fd.fd, answer.data(), answer.size(), 0);
  if (received < 0) throw TransportError(peer.str() + ": " + std::strerror(errno));
  answer.resize(static_cast<size_t>(received));
  return answer;
}

TcpConnection::TcpConnection(const conf::SocketAddress& peer, std::chrono::milliseconds timeout)
    : timeout_(timeout), peer_(peer.str()) {
  sockaddr_storage address;
  socklen_t length = make_sockaddr(peer, address);
  fd_ = ::socket(peer.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw TransportError(peer_ + ": socket: " + std::strerror(errno));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    if (errno != EINPROGRESS) {
      std::string error = std::strerror(errno);
      ::close(fd_);
      throw TransportError(peer_ + ": connect: " + error);
    }
    try {
      wait_for(fd_, POLLOUT, timeout_, peer_, "TCP connection");
    } catch (...) {
      ::close(fd_);
      throw;
    }
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      ::close(fd_);
      throw TransportError(peer_ + ": connect: " + std::strerror(error));
    }
  }
}

void TcpConnection::set_deadline(std::chrono::steady_clock::time_point deadline, std::string name) {
  started_ = std::chrono::steady_clock::now();
  deadline_ = deadline;
  deadline_name_ = std::move(name);
}

std::chrono::milliseconds TcpConnection::next_wait(const char* what) const {
  if (!deadline_) return timeout_;
  auto now = std::chrono::steady_clock::now();
  if (now >= *deadline_)
    throw TransportError(peer_ + ": still waiting for " + what + " after " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - started_).count()) +
                         " s: " + deadline_name_ + " reached, cut off");
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - now) + std::chrono::milliseconds(1);
  return std::min(timeout_, left);
}

void TcpConnection::wait(short events, const char* what) const {
  try {
    wait_for(fd_, events, next_wait(what), peer_, what);
  } catch (const TransportError&) {
    next_wait(what);  // when the deadline is what ran out, say so
    throw;
  }
}

TcpConnection::~TcpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpConnection::send(const std::vector<uint8_t>& message) {
  std::vector<uint8_t> framed{static_cast<uint8_t>(message.size() >> 8), static_cast<uint8_t>(message.size())};
  framed.insert(framed.end(), message.begin(), message.end());
  size_t sent = 0;
  while (sent < framed.size()) {
    wait(POLLOUT, "room to send");
    ssize_t n = ::send(fd_, framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw TransportError(peer_ + ": send: " + std::strerror(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }
}

void TcpConnection::read_exactly(uint8_t* data, size_t length) {
  size_t got = 0;
  while (got < length) {
    wait(POLLIN, "data over TCP");
    ssize_t n = ::recv(fd_, data + got, length - got, 0);
    if (n == 0) throw TransportError(peer_ + ": connection closed mid-message");
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw TransportError(peer_ + ": recv: " + std::strerror(errno));
    if (n > 0) got += static_cast<size_t>(n);
  }
}

std::vector<uint8_t> TcpConnection::receive() {
  uint8_t prefix[2];
  read_exactly(prefix, 2);
  std::vector<uint8_t> message(static_cast<size_t>(prefix[0] << 8 | prefix[1]));
  read_exactly(message.data(), message.size());
  return message;
}

}  // namespace wiresign::xfr
