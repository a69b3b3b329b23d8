// HTTP sessions for the control API and metrics.
#include "daemon/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

namespace wiresign::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local_stream = beast::basic_stream<asio::local::stream_protocol>;

constexpr auto kDeadline = std::chrono::seconds(10);

enum class Access { control, token, metrics };

// One client: requests answered one after another until it closes, goes
// quiet past the deadline, or fails to authenticate.
template <typename Stream>
asio::awaitable<void> serve(Stream stream, Access access, const std::string& token, const ControlHandler& handler) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    stream.expires_after(kDeadline);
    boost::system::error_code error;
    co_await http::async_read(stream, buffer, request, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;
    ControlResponse answer;
    if (access == Access::token && request[http::field::authorization] != "Bearer " + token) {
      answer = {401, "application/json",
                nlohmann::json{{"error", "missing or wrong token (Authorization: Bearer ...)"}}.dump()};
    } else {
      ControlRequest req{std::string(request.method_string()), std::string(request.target()),
                         access == Access::metrics};
      try {
        answer = handler(req);
      } catch (const std::exception& e) {
        answer = {500, "application/json", nlohmann::json{{"error", e.what()}}.dump()};
      }
    }
    http::response<http::string_body> response{static_cast<http::status>(answer.status), request.version()};
    response.set(http::field::server, "wiresignd");
    response.set(http::field::content_type, answer.content_type);
    response.keep_alive(request.keep_alive());
    response.body() = std::move(answer.body);
    response.prepare_payload();
    stream.expires_after(kDeadline);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, error));
    if (error || !response.keep_alive()) co_return;
  }
}

template <typename Acceptor, typename Stream>
asio::awaitable<void> accept(std::shared_ptr<Acceptor> acceptor, Access access, const std::string& token,
                             const ControlHandler& handler) {
  for (;;) {
    boost::system::error_code error;
    auto socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      if (error == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(acceptor->get_executor(), serve(Stream(std::move(socket)), access, token, handler),
                   asio::detached);
  }
}

}  // namespace

ControlServer::ControlServer(const std::string& socket_path, const std::optional<conf::SocketAddress>& tcp,
                             std::string token, const std::optional<conf::SocketAddress>& metrics,
                             ControlHandler handler, xfr::LogSink log)
    : socket_path_(socket_path), token_(std::move(token)), handler_(std::move(handler)), log_(std::move(log)) {
  ::unlink(socket_path_.c_str());  // a stale socket of an earlier run
  mode_t old_mask = ::umask(0177);  // the socket is born 0600: only our user
  try {
    auto local = std::make_shared<asio::local::stream_protocol::acceptor>(
        io_, asio::local::stream_protocol::endpoint(socket_path_));
    ::umask(old_mask);
    asio::co_spawn(io_, accept<asio::local::stream_protocol::acceptor, local_stream>(local, Access::control, token_, handler_),
                   asio::detached);
    log_("control API on " + socket_path_ + " (owner only)");
  } catch (const std::exception& e) {
    ::umask(old_mask);
    throw std::runtime_error("cannot open the control socket " + socket_path_ + ": " + e.what());
  }
  auto listen_tcp = [&](const conf::SocketAddress& address, Access access, const char* what) {
    try {
      auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(
          io_, asio::ip::tcp::endpoint(asio::ip::make_address(address.ip), address.port));
      asio::co_spawn(io_, accept<asio::ip::tcp::acceptor, beast::tcp_stream>(acceptor, access, token_, handler_),
                     asio::detached);
      log_(std::string(what) + " on " + address.str());
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("cannot listen for ") + what + " on " + address.str() + ": " + e.what());
    }
  };
  if (tcp) listen_tcp(*tcp, Access::token, "the control API (token required)");
  if (metrics) listen_tcp(*metrics, Access::metrics, "metrics");
  thread_ = std::thread([this] { io_.run(); });
}

ControlServer::~ControlServer() {
  io_.stop();
  thread_.join();
  ::unlink(socket_path_.c_str());
}

}  // namespace wiresign::daemon
