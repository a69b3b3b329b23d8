// Asking the parent's servers for our DS RRset and matching it against a
// DNSKEY: DS digests per RFC 4034 §5.1.4 (SHA-1), RFC 4509 (SHA-256) and
// RFC 6605 (SHA-384); the DS lives on the parent's side of the cut (RFC 4035 §3.1.4.1).
#include "daemon/parent_ds.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <random>
#include <stdexcept>

#include "dns/name.h"
#include "dns/rr_type.h"
#include "keystore/dnskey.h"
#include "xfr/message.h"
#include "xfr/transport.h"

namespace wiresign::daemon {
namespace {

// Why one server's answer cannot be used; the text goes into ParentDsAnswer::error.
class UnusableAnswer : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

uint16_t random_id() {
  std::random_device random;
  return static_cast<uint16_t>(random());
}

std::vector<uint8_t> make_ds_query(const std::string& zone_wire, uint16_t id) {
  xfr::Message query;
  query.header.id = id;  // RD stays clear: we ask the parent's own servers, not a resolver
  query.questions.push_back({zone_wire, dns::rr_type::DS, dns::kClassIN});
  query.edns = xfr::Edns{};  // 1232 octets: big enough for a few DS, small enough not to fragment
  return xfr::build_message(query);
}

std::string rcode_name(unsigned value) {
  static const char* const names[] = {"NOERROR", "FORMERR",  "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                      "REFUSED", "YXDOMAIN", "YXRRSET",  "NXRRSET",  "NOTAUTH"};
  return value < std::size(names) ? names[value] : "RCODE " + std::to_string(value);
}

void check_matches_query(const xfr::Message& answer, const std::string& zone_wire, uint16_t id) {
  if (answer.header.id != id || !answer.header.qr || answer.questions.size() != 1 ||
      !dns::same_name(answer.questions[0].name, zone_wire) || answer.questions[0].type != dns::rr_type::DS)
    throw UnusableAnswer("answer does not match the query");
}

// A server that is not authoritative for the parent answers with a referral
// or nothing useful: it is lame for the parent zone.
void check_authoritative(const xfr::Message& answer) {
  unsigned rcode = answer.header.rcode | (answer.edns ? unsigned{answer.edns->extended_rcode} << 4 : 0u);
  if (rcode != xfr::rcode::noerror) throw UnusableAnswer(rcode_name(rcode));
  if (answer.header.aa) return;
  for (const auto& record : answer.authority)
    if (record.type == dns::rr_type::NS)
      throw UnusableAnswer("not authoritative (referral to " + dns::to_text(record.owner) + ")");
  throw UnusableAnswer("not authoritative (AA bit clear)");
}

// RFC 2308 §2.2: NODATA carries the SOA of the zone that answered. Only the
// parent's SOA makes "no DS" mean anything; a server of the child zone alone
// answers NODATA from the child's apex.
void check_nodata_from_parent(const xfr::Message& answer, const std::string& zone_wire) {
  for (const auto& record : answer.authority) {
    if (record.type != dns::rr_type::SOA) continue;
    if (dns::same_name(record.owner, zone_wire))
      throw UnusableAnswer("answered from the child zone, not the parent (NODATA with the SOA of " +
                           dns::to_text(zone_wire) + ")");
    if (dns::is_at_or_below(zone_wire, record.owner)) return;
  }
  throw UnusableAnswer("NODATA without the SOA of a zone above " + dns::to_text(zone_wire));
}

std::vector<std::vector<uint8_t>> read_ds_answer(const xfr::Message& answer, const std::string& zone_wire,
                                                 uint16_t id) {
  check_matches_query(answer, zone_wire, id);
  check_authoritative(answer);
  std::vector<std::vector<uint8_t>> ds_rdatas;
  for (const auto& record : answer.answers)
    if (record.type == dns::rr_type::DS && dns::same_name(record.owner, zone_wire)) ds_rdatas.push_back(record.rdata);
  if (ds_rdatas.empty()) check_nodata_from_parent(answer, zone_wire);
  return ds_rdatas;
}

xfr::Message exchange_over_tcp(const conf::SocketAddress& server, const std::vector<uint8_t>& query,
                               std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) throw UnusableAnswer("truncated over UDP, and no time left to ask over TCP");
  xfr::TcpConnection connection(server, left);
  connection.set_deadline(deadline, "the DS query timeout");
  connection.send(query);
  xfr::Message answer = xfr::parse_message(connection.receive());
  if (answer.header.tc) throw UnusableAnswer("truncated over TCP");
  return answer;
}

// Transport errors start with the peer ("192.0.2.1:53: ..."), which the answer names already.
std::string without_server(std::string text, const std::string& server) {
  if (text.starts_with(server + ": ")) text.erase(0, server.size() + 2);
  return text;
}

ParentDsAnswer ask_one(const std::string& zone_wire, const conf::SocketAddress& server,
                       std::chrono::milliseconds timeout) {
  ParentDsAnswer result;
  result.server = server.str();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    const uint16_t id = random_id();
    const std::vector<uint8_t> query = make_ds_query(zone_wire, id);
    xfr::Message answer = xfr::parse_message(xfr::udp_exchange(server, query, timeout));
    if (answer.header.tc && answer.header.id == id) answer = exchange_over_tcp(server, query, deadline);
    result.ds_rdatas = read_ds_answer(answer, zone_wire, id);
    result.answered = true;
  } catch (const xfr::TransportError& e) {
    std::string detail = without_server(e.what(), result.server);
    result.error = std::chrono::steady_clock::now() >= deadline ? "timeout (" + detail + ")" : detail;
  } catch (const std::exception& e) {
    result.error = without_server(e.what(), result.server);
  }
  return result;
}

const EVP_MD* ds_digest(uint8_t digest_type) {
  switch (digest_type) {
    case 1:
      return EVP_sha1();
    case 2:
      return EVP_sha256();
    case 4:
      return EVP_sha384();
    default:
      return nullptr;  // GOST (3) and unassigned types: we cannot check them
  }
}

bool serves_matching(const ParentDsAnswer& answer, const std::string& owner_wire,
                     std::span<const uint8_t> dnskey_rdata) {
  return std::any_of(answer.ds_rdatas.begin(), answer.ds_rdatas.end(),
                     [&](const auto& ds) { return ds_matches_dnskey(ds, owner_wire, dnskey_rdata); });
}

size_t count_matching(const std::vector<ParentDsAnswer>& answers, const std::string& owner_wire,
                      std::span<const uint8_t> dnskey_rdata) {
  return static_cast<size_t>(std::count_if(answers.begin(), answers.end(), [&](const auto& answer) {
    return serves_matching(answer, owner_wire, dnskey_rdata);
  }));
}

// The system resolver through libresolv: a res_state of our own per lookup,
// so that worker threads never share one.
class Resolver {
 public:
  explicit Resolver(const ResolverOptions& options) {
    if (options.server && options.server->v6)
      throw std::invalid_argument("resolver " + options.server->str() + ": only IPv4 can be set");
    if (res_ninit(&state_) != 0) throw std::runtime_error("res_ninit failed");
    state_.retrans = static_cast<int>(options.timeout.count());
    state_.retry = options.attempts;
    if (options.server) use_server(*options.server);
  }
  ~Resolver() { res_nclose(&state_); }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The answer records for `name_wire` and `type`; none for NXDOMAIN and
  // NODATA. Throws when the resolver could not say (timeout, SERVFAIL, REFUSED).
  std::vector<xfr::Record> query(std::string_view name_wire, uint16_t type) {
    std::string name = dns::to_text(name_wire);
    std::vector<uint8_t> answer(65535);
    int length = res_nquery(&state_, name.c_str(), ns_c_in, type, answer.data(), static_cast<int>(answer.size()));
    if (length < 0) {
      if (state_.res_h_errno == HOST_NOT_FOUND || state_.res_h_errno == NO_DATA) return {};
      throw std::runtime_error("the resolver gave no answer for " + name + " " + dns::type_name(type) +
                               (state_.res_h_errno == TRY_AGAIN ? " (timeout, SERVFAIL or REFUSED)"
                                                                : " (a malformed or unexpected answer)"));
    }
    answer.resize(std::min(answer.size(), static_cast<size_t>(length)));
    return std::move(xfr::parse_message(answer).answers);
  }

 private:
  // glibc takes nsaddr_list[n] over its own copy once sin_family is set.
  void use_server(const conf::SocketAddress& server) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server.port);
    inet_pton(AF_INET, server.ip.c_str(), &address.sin_addr);
    state_.nsaddr_list[0] = address;
    state_.nscount = 1;
  }
  struct __res_state state_ {};
};

struct ParentZone {
  std::string name_wire;
  std::vector<std::string> ns_names;  // wire
};

// RFC 1034 §4.2.1: walking up from the zone's parent, the first name that
// owns an NS RRset is the apex of the closest enclosing zone.
ParentZone find_parent_zone(Resolver& resolver, const std::string& zone_wire) {
  for (std::string_view name = dns::parent_of(zone_wire);; name = dns::parent_of(name)) {
    ParentZone parent{std::string(name), {}};
    for (const auto& record : resolver.query(name, dns::rr_type::NS))
      if (record.type == dns::rr_type::NS && dns::same_name(record.owner, parent.name_wire))
        parent.ns_names.emplace_back(record.rdata.begin(), record.rdata.end());
    if (!parent.ns_names.empty()) return parent;
    if (name.size() <= 1) throw std::runtime_error("no zone above it has an NS RRset");
  }
}

socklen_t make_sockaddr(const conf::SocketAddress& peer, sockaddr_storage& storage) {
  storage = {};
  if (peer.v6) {
    auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
    address->sin6_family = AF_INET6;
    address->sin6_port = htons(peer.port);
    inet_pton(AF_INET6, peer.ip.c_str(), &address->sin6_addr);
    return sizeof(sockaddr_in6);
  }
  auto* address = reinterpret_cast<sockaddr_in*>(&storage);
  address->sin_family = AF_INET;
  address->sin_port = htons(peer.port);
  inet_pton(AF_INET, peer.ip.c_str(), &address->sin_addr);
  return sizeof(sockaddr_in);
}

// Whether this host has a route to `peer`. Connecting a UDP socket sends
// nothing; it fails with ENETUNREACH without a route. Without this, the IPv6
// servers of a parent would keep an IPv4-only host's check "unknown" for ever.
bool routable(const conf::SocketAddress& peer) {
  sockaddr_storage address;
  socklen_t length = make_sockaddr(peer, address);
  int fd = ::socket(peer.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), length) == 0;
  ::close(fd);
  return connected;
}

void add_addresses(Resolver& resolver, const std::string& ns_wire, std::vector<conf::SocketAddress>& servers) {
  for (uint16_t type : {dns::rr_type::A, dns::rr_type::AAAA}) {
    const bool v6 = type == dns::rr_type::AAAA;
    for (const auto& record : resolver.query(ns_wire, type)) {
      if (record.type != type || record.rdata.size() != (v6 ? 16u : 4u)) continue;
      char text[INET6_ADDRSTRLEN];
      inet_ntop(v6 ? AF_INET6 : AF_INET, record.rdata.data(), text, sizeof text);
      conf::SocketAddress server{text, 53, v6};
      bool known = std::any_of(servers.begin(), servers.end(), [&](const auto& s) { return s.str() == server.str(); });
      if (!known && routable(server)) servers.push_back(server);
    }
  }
}

std::vector<conf::SocketAddress> look_up_parent_servers(const std::string& zone, const ResolverOptions& options) {
  const std::string zone_wire = dns::Name::from_text(zone).wire();
  if (zone_wire.size() <= 1) throw std::runtime_error("the root zone has no parent");
  Resolver resolver(options);
  ParentZone parent = find_parent_zone(resolver, zone_wire);
  std::vector<conf::SocketAddress> servers;
  std::string names;
  for (const auto& ns : parent.ns_names) {
    add_addresses(resolver, ns, servers);
    names += (names.empty() ? "" : ", ") + dns::to_text(ns);
  }
  if (servers.empty())
    throw std::runtime_error("the servers of " + dns::to_text(parent.name_wire) + " (" + names +
                             ") have no address this host has a route to");
  return servers;
}

std::vector<conf::SocketAddress> parse_configured(const std::string& zone, const std::vector<std::string>& configured) {
  std::vector<conf::SocketAddress> servers;
  for (const auto& text : configured) {
    auto server = conf::parse_socket_address(text, 53);
    if (!server)
      throw std::runtime_error(zone + ": parent server \"" + text +
                               "\" is not an address (\"192.0.2.1\", \"192.0.2.1:53\", \"[2001:db8::1]:53\")");
    servers.push_back(*server);
  }
  return servers;
}

}  // namespace

std::vector<conf::SocketAddress> find_parent_servers(const std::string& zone,
                                                     const std::vector<std::string>& configured,
                                                     const ResolverOptions& resolver) {
  if (!configured.empty()) return parse_configured(zone, configured);
  try {
    return look_up_parent_servers(zone, resolver);
  } catch (const std::exception& e) {
    throw std::runtime_error(zone + ": cannot find the parent zone's servers: " + e.what());
  }
}

std::vector<ParentDsAnswer> query_parent_ds(const std::string& zone, const std::vector<conf::SocketAddress>& servers,
                                            std::chrono::milliseconds timeout) {
  const std::string zone_wire = dns::Name::from_text(zone).wire();
  // In parallel: one silent server must not hold up the others, and the
  // whole check stays within one timeout.
  std::vector<std::future<ParentDsAnswer>> pending;
  pending.reserve(servers.size());
  for (const auto& server : servers)
    pending.push_back(std::async(std::launch::async, ask_one, std::cref(zone_wire), std::cref(server), timeout));
  std::vector<ParentDsAnswer> answers;
  answers.reserve(pending.size());
  for (auto& answer : pending) answers.push_back(answer.get());
  return answers;
}

bool ds_matches_dnskey(std::span<const uint8_t> ds_rdata, const std::string& owner_wire,
                       std::span<const uint8_t> dnskey_rdata) {
  if (ds_rdata.size() < 4 || dnskey_rdata.size() < 4) return false;
  const uint16_t tag = static_cast<uint16_t>(ds_rdata[0] << 8 | ds_rdata[1]);
  if (tag != keystore::compute_key_tag(dnskey_rdata) || ds_rdata[2] != dnskey_rdata[3]) return false;
  const EVP_MD* md = ds_digest(ds_rdata[3]);
  if (!md || ds_rdata.size() - 4 != static_cast<size_t>(EVP_MD_get_size(md))) return false;

  // RFC 4034 §5.1.4: digest = hash(canonical owner name | DNSKEY RDATA); canonical is lower case.
  std::string data = owner_wire;
  dns::lowercase_name(data.data(), data.size());
  data.append(dnskey_rdata.begin(), dnskey_rdata.end());
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_length = 0;
  if (EVP_Digest(data.data(), data.size(), hash, &hash_length, md, nullptr) != 1) return false;
  return std::equal(hash, hash + hash_length, ds_rdata.begin() + 4, ds_rdata.end());
}

DsPresence ds_presence(const std::vector<ParentDsAnswer>& answers, const std::string& owner_wire,
                       std::span<const uint8_t> dnskey_rdata) {
  if (answers.empty()) return DsPresence::unknown;
  for (const auto& answer : answers)
    if (!answer.answered) return DsPresence::unknown;
  size_t matching = count_matching(answers, owner_wire, dnskey_rdata);
  if (matching == answers.size()) return DsPresence::everywhere;
  return matching == 0 ? DsPresence::nowhere : DsPresence::partly;
}

std::string describe_ds_presence(const std::vector<ParentDsAnswer>& answers, const std::string& owner_wire,
                                 std::span<const uint8_t> dnskey_rdata) {
  std::string text = "DS for key " + std::to_string(keystore::compute_key_tag(dnskey_rdata)) + " served by " +
                     std::to_string(count_matching(answers, owner_wire, dnskey_rdata)) + " of " +
                     std::to_string(answers.size()) + " parent servers";
  std::string missing;
  for (const auto& answer : answers)
    if (answer.answered && !serves_matching(answer, owner_wire, dnskey_rdata))
      missing += (missing.empty() ? "" : ", ") + answer.server;
  if (!missing.empty()) text += "; missing at " + missing;
  for (const auto& answer : answers)
    if (!answer.answered) text += "; " + answer.server + " did not answer: " + answer.error;
  return text;
}

}  // namespace wiresign::daemon
