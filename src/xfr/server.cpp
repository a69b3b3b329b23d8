// Sockets for the outbound side: each request is parsed into a Message,
// answered by the responder, and written back; policy lives elsewhere.
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include "xfr/server.h"

#include <ctime>

#include "dns/name.h"
#include "dns/record.h"
#include "xfr/acl.h"
#include "xfr/message.h"
#include "xfr/responder.h"

namespace wiresign::xfr {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {
constexpr uint16_t kTypeAxfr = 252, kTypeIxfr = 251, kTypeTsig = 250;

// The answer to an allowed AXFR or IXFR, and how to describe it in the log.
// IXFR is answered from the journal when it reaches the client's serial
// (RFC 1995 §4), with the single current SOA when the client is up to date,
// and with the full zone otherwise.
std::pair<std::vector<std::vector<uint8_t>>, std::string> transfer_messages(const Message& query,
                                                                            const ServedZone& served) {
  const SignedZone& zone = *served.zone;
  auto full = [&](const std::string& why) {
    return std::pair{build_axfr(query, zone), "full zone, " + std::to_string(zone.record_count() + 1) + " records" + why};
  };
  if (query.questions[0].type == kTypeAxfr) return full("");
  std::optional<uint32_t> client = ixfr_client_serial(query);
  if (!client) return full(" (the IXFR request carries no SOA)");
  if (!dns::serial_newer(zone.serial(), *client)) {
    Message reply = error_answer(query, rcode::noerror);
    reply.header.aa = true;
    reply.answers.push_back(to_record(zone.soa()));
    std::vector<std::vector<uint8_t>> single{build_message(reply)};
    return std::pair{single, "up to date at serial " + std::to_string(*client)};
  }
  if (served.journal) {
    auto path = served.journal->path_from(*client);
    if (path && !path->empty() && path->back()->to_serial == zone.serial()) {
      size_t removed = 0, added = 0;
      for (const ZoneDiff* diff : *path) {
        removed += diff->removed_count - 1;
        added += diff->added_count - 1;
      }
      return std::pair{build_ixfr(query, zone, *path),
                       "incremental from serial " + std::to_string(*client) + " (" + std::to_string(path->size()) +
                           " versions, " + std::to_string(removed) + " records removed, " + std::to_string(added) +
                           " added)"};
    }
  }
  return full(" (the journal does not reach serial " + std::to_string(*client) + ")");
}

// The answer to a request whose TSIG did not verify with `key` (RFC 8945
// §5.2): FORMERR for a malformed TSIG record (§5.2.2.1: also a MAC shorter
// than allowed); otherwise NOTAUTH with the TSIG error. BADKEY and BADSIG
// answers are unsigned (§5.3.2); BADTIME and BADTRUNC ones, whose request MAC
// was good, are signed, and BADTIME keeps the request's Time Signed and puts
// ours in Other Data so that the client can verify it and see its clock is off.
std::vector<uint8_t> tsig_refusal(const Message& query, const TsigVerification& check, const TsigKey* key,
                                  uint64_t now) {
  using Outcome = TsigVerification::Outcome;
  if (check.outcome == Outcome::formerr) return build_message(error_answer(query, rcode::formerr));
  std::vector<uint8_t> wire = build_message(error_answer(query, rcode::notauth));
  if ((check.outcome == Outcome::badtime || check.outcome == Outcome::badtrunc) && key) {
    TsigSignOptions options;
    options.request_mac = check.mac;
    options.time_signed = check.outcome == Outcome::badtime ? check.time_signed : now;
    options.error = check.outcome == Outcome::badtime ? tsig_error::badtime : tsig_error::badtrunc;
    if (check.outcome == Outcome::badtime) {
      dns::put_u16(options.other, static_cast<uint16_t>(now >> 32));
      dns::put_u32(options.other, static_cast<uint32_t>(now));
    }
    tsig_sign(wire, *key, options);
  } else {
    tsig_append_unsigned(wire, check.key_name, check.algorithm, now,
                         check.outcome == Outcome::badkey ? tsig_error::badkey : tsig_error::badsig);
  }
  return wire;
}

}  // namespace

void ZoneTable::publish(const std::string& origin_wire, ServedZone zone) {
  auto shared = std::make_shared<const ServedZone>(std::move(zone));
  std::lock_guard lock(mutex_);
  zones_[origin_wire] = std::move(shared);
}

void ZoneTable::remove(const std::string& origin_wire) {
  std::lock_guard lock(mutex_);
  zones_.erase(origin_wire);
}

std::shared_ptr<const ServedZone> ZoneTable::find(std::string_view qname) const {
  std::string name(qname);
  dns::lowercase_name(name.data(), name.size());
  std::lock_guard lock(mutex_);
  for (std::string_view candidate = name;; candidate = dns::parent_of(candidate)) {
    auto it = zones_.find(std::string(candidate));
    if (it != zones_.end()) return it->second;
    if (candidate.empty() || candidate[0] == 0) return nullptr;
  }
}

Server::Server(asio::io_context& io, const std::vector<conf::SocketAddress>& listen, ZoneTable& zones, LogSink log,
               NotifyHandler on_notify, TransferCounters* counters)
    : zones_(zones), log_(std::move(log)), on_notify_(std::move(on_notify)), counters_(counters) {
  for (const auto& address : listen) {
    try {
      auto ip = asio::ip::make_address(address.ip);
      auto udp_socket = std::make_shared<udp::socket>(io, udp::endpoint(ip, address.port));
      // A burst of NOTIFYs (thousands of zones changed at the primary at
      // once) must not overflow the default receive buffer: ask for 4 MiB
      // (the kernel caps it at net.core.rmem_max; failing is not an error).
      boost::system::error_code ignored;
      udp_socket->set_option(asio::socket_base::receive_buffer_size(4 << 20), ignored);
      auto acceptor = std::make_shared<tcp::acceptor>(io, tcp::endpoint(ip, address.port));
      asio::co_spawn(io, serve_udp(udp_socket), asio::detached);
      asio::co_spawn(io, accept_tcp(acceptor), asio::detached);
      log_("listening on " + address.str() + " (UDP and TCP)");
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen on " + address.str() + ": " + e.what());
    }
  }
}

std::vector<std::vector<uint8_t>> Server::respond(std::span<const uint8_t> request, const std::string& source,
                                                  bool over_udp) {
  Message query;
  try {
    query = parse_message(request);
  } catch (const MessageError& e) {
    log_("query from " + source + " dropped: " + e.what());
    return {};
  }
  if (query.header.qr) return {};  // never answer an answer
  if (query.header.opcode == opcode::notify) {
    if (query.questions.size() != 1) return {build_message(error_answer(query, rcode::formerr))};
    uint8_t code = on_notify_ ? on_notify_(query, request, source) : rcode::refused;
    Message reply = error_answer(query, code);
    reply.header.aa = code == rcode::noerror;
    return {build_message(reply)};
  }
  auto lookup = [this](std::string_view qname) -> std::shared_ptr<const SignedZone> {
    auto served = zones_.find(qname);
    return served ? served->zone : nullptr;
  };
  bool transfer = query.questions.size() == 1 &&
                  (query.questions[0].type == kTypeAxfr || query.questions[0].type == kTypeIxfr);
  auto now = static_cast<uint64_t>(std::time(nullptr));
  if (!transfer) {
    std::vector<uint8_t> answer = build_message(answer_query(query, lookup, over_udp));
    // RFC 8945 §5.3: a signed query gets a signed answer, or a TSIG error;
    // the zone's transfer key is the one key a query may be signed with.
    if (query.additional.empty() || query.additional.back().type != kTypeTsig) return {answer};
    std::shared_ptr<const ServedZone> served;
    if (query.questions.size() == 1) served = zones_.find(query.questions[0].name);
    std::vector<TsigKey> keys;
    if (served && served->transfer_tsig) keys.push_back(*served->transfer_tsig);
    TsigVerification check = tsig_verify(request, keys, now);
    if (check.outcome == TsigVerification::Outcome::unsigned_message) return {answer};
    if (check.outcome != TsigVerification::Outcome::ok) {
      log_("query from " + source + " refused: " + check.describe());
      return {tsig_refusal(query, check, keys.empty() ? nullptr : &keys.front(), now)};
    }
    TsigSignOptions options;
    options.time_signed = now;
    options.request_mac = check.mac;
    tsig_sign(answer, keys.front(), options);
    return {answer};
  }

  const std::string qname = dns::to_text(query.questions[0].name);
  const char* kind = query.questions[0].type == kTypeAxfr ? "AXFR" : "IXFR";
  auto served = zones_.find(query.questions[0].name);
  if (!served || dns::canonical_compare(served->zone->origin().wire(), query.questions[0].name) != 0) {
    log_(qname + ": " + kind + " from " + source + " refused: zone not served here");
    return {build_message(error_answer(query, rcode::refused))};
  }
  if (over_udp) {
    // RFC 1995 §2: over UDP an IXFR that does not fit gets the current SOA.
    if (query.questions[0].type == kTypeAxfr) return {build_message(error_answer(query, rcode::refused))};
    Message reply = error_answer(query, rcode::noerror);
    reply.header.aa = true;
    reply.answers.push_back(to_record(served->zone->soa()));
    return {build_message(reply)};
  }
  if (!address_allowed(source, served->allow_transfer)) {
    log_(qname + ": " + kind + " from " + source + " refused: not in allow-transfer");
    if (counters_) counters_->count(served->zone->origin().to_text(), "out", kind, "refused");
    return {build_message(error_answer(query, rcode::refused))};
  }
  std::vector<uint8_t> request_mac;
  if (served->transfer_tsig) {
    std::vector<TsigKey> keys{*served->transfer_tsig};
    TsigVerification check = tsig_verify(request, keys, now);
    if (check.outcome != TsigVerification::Outcome::ok) {
      if (counters_) counters_->count(served->zone->origin().to_text(), "out", kind, "refused");
      log_(qname + ": " + kind + " from " + source + " refused: " + check.describe() + "; transfer-tsig " +
           dns::to_text(served->transfer_tsig->name) + " required");
      // An unsigned request is refused like one from outside allow-transfer
      // (as BIND does); a TSIG that fails gets its RFC 8945 §5.2 error.
      if (check.outcome == TsigVerification::Outcome::unsigned_message)
        return {build_message(error_answer(query, rcode::refused))};
      return {tsig_refusal(query, check, &keys.front(), now)};
    }
    request_mac = check.mac;
  }
  auto [messages, what] = transfer_messages(query, *served);
  if (served->transfer_tsig) {
    TsigSignOptions options;
    options.time_signed = now;
    options.request_mac = request_mac;
    for (size_t i = 0; i < messages.size(); ++i) {
      options.timers_only = i > 0;
      options.request_mac = tsig_sign(messages[i], *served->transfer_tsig, options);
    }
  }
  if (counters_)
    counters_->count(served->zone->origin().to_text(), "out", kind,
                     what.rfind("incremental", 0) == 0 ? "incremental"
                     : what.rfind("up to date", 0) == 0 ? "up_to_date"
                                                         : "full");
  log_(qname + ": " + kind + " to " + source + ": serial " + std::to_string(served->zone->serial()) + ", " + what +
       " in " + std::to_string(messages.size()) + " messages" + (served->transfer_tsig ? ", TSIG-signed" : ""));
  return messages;
}

asio::awaitable<void> Server::serve_udp(std::shared_ptr<udp::socket> socket) {
  std::vector<uint8_t> buffer(65535);
  for (;;) {
    udp::endpoint peer;
    boost::system::error_code receive_error;
    size_t length = co_await socket->async_receive_from(asio::buffer(buffer), peer,
                                                        asio::redirect_error(asio::use_awaitable, receive_error));
    if (receive_error) {
      if (receive_error == asio::error::operation_aborted) co_return;
      continue;  // e.g. ICMP port unreachable reported on the socket: not fatal
    }
    std::vector<std::vector<uint8_t>> answers;
    try {
      answers = respond({buffer.data(), length}, peer.address().to_string(), true);
    } catch (const std::exception& e) {
      // One bad request must never stop the UDP service.
      log_("query from " + peer.address().to_string() + " failed: " + e.what());
      continue;
    }
    for (const auto& answer : answers) {
      boost::system::error_code ignored;
      socket->send_to(asio::buffer(answer), peer, 0, ignored);
    }
  }
}

asio::awaitable<void> Server::accept_tcp(std::shared_ptr<tcp::acceptor> acceptor) {
  for (;;) {
    boost::system::error_code error;
    tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      if (error == asio::error::operation_aborted) co_return;
      log_(std::string("TCP accept failed: ") + error.message());
      // e.g. out of file descriptors: pause a little, then keep accepting.
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    if (tcp_clients_ >= tcp_limits_.max_clients) {
      boost::system::error_code ignored;
      auto peer = socket.remote_endpoint(ignored);
      log_("TCP client " + peer.address().to_string() + " refused: " + std::to_string(tcp_clients_) +
           " connections open (max-tcp-clients)");
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(acceptor->get_executor(), serve_tcp(std::make_shared<tcp::socket>(std::move(socket))),
                   asio::detached);
  }
}

namespace {

// Closes `socket` once `deadline` passes; the session moves the deadline on
// as it reads and writes. Ends when the socket is closed.
asio::awaitable<void> watchdog(std::shared_ptr<tcp::socket> socket,
                               std::shared_ptr<std::chrono::steady_clock::time_point> deadline) {
  asio::steady_timer timer(socket->get_executor());
  while (socket->is_open()) {
    timer.expires_at(*deadline);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (std::chrono::steady_clock::now() >= *deadline) {
      socket->close(ignored);
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> Server::serve_tcp(std::shared_ptr<tcp::socket> socket) {
  ++tcp_clients_;
  struct Count {
    size_t& open;
    ~Count() { --open; }
  } count{tcp_clients_};
  std::string source;
  auto deadline = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now() +
                                                                          tcp_limits_.idle);
  asio::co_spawn(socket->get_executor(), watchdog(socket, deadline), asio::detached);
  auto expire_in = [&](std::chrono::seconds seconds) { *deadline = std::chrono::steady_clock::now() + seconds; };
  try {
    source = socket->remote_endpoint().address().to_string();
    std::vector<uint8_t> buffer;
    for (;;) {
      expire_in(tcp_limits_.idle);  // waiting for the next request
      uint8_t length_octets[2];
      co_await asio::async_read(*socket, asio::buffer(length_octets), asio::use_awaitable);
      expire_in(tcp_limits_.io_timeout);
      buffer.resize(dns::get_u16(length_octets));
      co_await asio::async_read(*socket, asio::buffer(buffer), asio::use_awaitable);
      for (auto& answer : respond(buffer, source, false)) {
        uint8_t prefix[2] = {static_cast<uint8_t>(answer.size() >> 8), static_cast<uint8_t>(answer.size())};
        std::array<asio::const_buffer, 2> parts{asio::buffer(prefix), asio::buffer(answer)};
        expire_in(tcp_limits_.io_timeout);  // each message of a transfer gets its own time
        co_await asio::async_write(*socket, parts, asio::use_awaitable);
      }
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted || e.code() == asio::error::bad_descriptor)
      log_("TCP connection from " + source + " closed: idle or too slow (tcp-idle-timeout)");
    else if (e.code() != asio::error::eof && e.code() != asio::error::connection_reset)
      log_("TCP connection from " + source + " closed: " + e.code().message());
  } catch (const std::exception& e) {
    log_("TCP connection from " + source + " closed after an error: " + e.what());
  }
  boost::system::error_code ignored;
  socket->close(ignored);
}

}  // namespace wiresign::xfr
