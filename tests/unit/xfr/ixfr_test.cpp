// IXFR in (RFC 1995): transfer_zone_incremental against a primary on a
// loopback TCP socket answering with prepared messages (diffs across many
// messages, the AXFR form, a lone SOA, refusals, broken chains, TSIG), and
// apply_ixfr on small zones and on a million records.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "dns/base_encoding.h"
#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "xfr/inbound.h"
#include "xfr/message.h"
#include "xfr/tsig.h"

using namespace wiresign;
using Records = std::vector<xfr::Record>;

namespace {

constexpr uint16_t kIxfr = 251;
constexpr uint16_t kAxfr = 252;
constexpr const char* kSecret = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5";

std::string wire(const char* name) { return dns::Name::from_text(name).wire(); }

xfr::Record soa(uint32_t serial) {
  xfr::Record r;
  r.owner = wire("example.test.");
  r.type = dns::rr_type::SOA;
  r.ttl = 3600;
  std::string names = wire("ns1.example.test.") + wire("hostmaster.example.test.");
  r.rdata.assign(names.begin(), names.end());
  for (uint32_t v : {serial, 3600u, 900u, 1209600u, 300u}) dns::put_u32(r.rdata, v);
  return r;
}

xfr::Record a(const std::string& owner, const char* ip, uint32_t ttl = 300) {
  xfr::Record r;
  r.owner = dns::Name::from_text(owner).wire();
  r.type = dns::rr_type::A;
  r.ttl = ttl;
  r.rdata.resize(4);
  EXPECT_EQ(inet_pton(AF_INET, ip, r.rdata.data()), 1) << ip;
  return r;
}

xfr::Record ns(const char* target) {
  xfr::Record r;
  r.owner = wire("example.test.");
  r.type = dns::rr_type::NS;
  r.ttl = 3600;
  std::string name = wire(target);
  r.rdata.assign(name.begin(), name.end());
  return r;
}

xfr::Record txt(const char* owner, const std::string& text) {
  xfr::Record r;
  r.owner = wire(owner);
  r.type = dns::rr_type::TXT;
  r.ttl = 300;
  r.rdata.push_back(static_cast<uint8_t>(text.size()));
  r.rdata.insert(r.rdata.end(), text.begin(), text.end());
  return r;
}

uint32_t serial_of(const xfr::Record& soa_record) {
  return dns::get_u32(soa_record.rdata.data() + dns::soa_serial_offset(soa_record.rdata));
}

// Records in presentation form, sorted: order-free comparison with readable failures.
std::vector<std::string> texts(const Records& records) {
  std::vector<std::string> out;
  for (const auto& r : records) {
    std::string line;
    dns::append_record_text(line, {r.owner, r.type, r.rclass, r.ttl, r.rdata});
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

xfr::TsigKey key(const char* name = "xfr.key") {
  return *xfr::make_tsig_key(name, "hmac-sha256", *dns::from_base64(kSecret));
}

// The zone we hold, at serial 41.
Records zone_41() {
  return {soa(41), ns("ns1.example.test."), a("ns1.example.test.", "192.0.2.53"), a("www.example.test.", "192.0.2.1"),
          txt("old.example.test.", "bye")};
}

// The primary's changes 41 -> 42 -> 43 -> 45 in RFC 1995 §4 form, ending with its SOA.
Records incremental_answer() {
  return {soa(45),
          soa(41), a("www.example.test.", "192.0.2.1"), txt("old.example.test.", "bye"),
          soa(42), a("www.example.test.", "192.0.2.2"), txt("new.example.test.", "hello"),
          soa(42),  // 42 -> 43 only moves the serial
          soa(43),
          soa(43), txt("new.example.test.", "hello"), a("ns1.example.test.", "192.0.2.53"),
          soa(45), a("mail.example.test.", "192.0.2.25"), a("ns1.example.test.", "192.0.2.53", 60),
          soa(45)};
}

// What the zone holds at serial 45 (ns1 A kept, with its new TTL).
Records zone_45() {
  return {soa(45), ns("ns1.example.test."), a("ns1.example.test.", "192.0.2.53", 60),
          a("www.example.test.", "192.0.2.2"), a("mail.example.test.", "192.0.2.25")};
}

std::vector<Records> split(const Records& records, size_t per_message) {
  std::vector<Records> chunks;
  for (size_t i = 0; i < records.size(); i += per_message)
    chunks.emplace_back(records.begin() + static_cast<long>(i),
                        records.begin() + static_cast<long>(std::min(records.size(), i + per_message)));
  return chunks;
}

// The primary's messages: `chunks` are their answer sections; each answers
// `query_wire` (its ID; its question in the first message), TSIG-signed with
// `tsig` when given, the MACs chained as RFC 8945 §5.3.1 says.
std::vector<std::vector<uint8_t>> answer_messages(const std::vector<uint8_t>& query_wire,
                                                  const std::vector<Records>& chunks,
                                                  const xfr::TsigKey* tsig = nullptr,
                                                  uint8_t rcode = xfr::rcode::noerror) {
  xfr::Message query = xfr::parse_message(query_wire);
  const auto now = static_cast<uint64_t>(std::time(nullptr));
  std::vector<uint8_t> mac;
  if (tsig) {
    std::vector<xfr::TsigKey> keys{*tsig};
    auto verification = xfr::tsig_verify(query_wire, keys, now);
    EXPECT_EQ(verification.outcome, xfr::TsigVerification::Outcome::ok) << verification.describe();
    mac = verification.mac;
  }
  std::vector<std::vector<uint8_t>> messages;
  for (size_t i = 0; i < chunks.size(); ++i) {
    xfr::Message m;
    m.header.id = query.header.id;
    m.header.qr = true;
    m.header.aa = true;
    m.header.rcode = rcode;
    if (i == 0) m.questions = query.questions;
    m.answers = chunks[i];
    auto message = xfr::build_message(m);
    if (tsig) {
      xfr::TsigSignOptions options;
      options.time_signed = now;
      options.request_mac = mac;
      options.timers_only = i > 0;
      mac = xfr::tsig_sign(message, *tsig, options);
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

// A primary on 127.0.0.1 at an ephemeral port, for one TCP connection: it
// reads the query, sends what `respond` makes of it, then waits for the client
// to hang up (or hangs up itself). Every wait is bounded.
class LoopbackPrimary {
 public:
  using Respond = std::function<std::vector<std::vector<uint8_t>>(const std::vector<uint8_t>& query)>;

  // `trickle`: send the answer one octet at a time, this long apart (a slow or hostile primary).
  explicit LoopbackPrimary(Respond respond, bool hang_up_after_answer = false,
                           std::chrono::milliseconds trickle = std::chrono::milliseconds(0))
      : respond_(std::move(respond)), hang_up_(hang_up_after_answer), trickle_(trickle) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 1) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("loopback primary: cannot listen");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackPrimary() {
    finish();
    ::close(listener_);
  }
  LoopbackPrimary(const LoopbackPrimary&) = delete;
  LoopbackPrimary& operator=(const LoopbackPrimary&) = delete;

  xfr::PrimaryRequest request(const xfr::TsigKey* tsig = nullptr) const {
    xfr::PrimaryRequest request;
    request.primary = {"127.0.0.1", port_, false};
    request.zone = wire("example.test.");
    request.tsig = tsig;
    request.timeout = std::chrono::milliseconds(3000);
    return request;
  }
  // The query the primary got; waits for the connection to end.
  const std::vector<uint8_t>& query() {
    finish();
    return query_;
  }

 private:
  void finish() {
    if (thread_.joinable()) thread_.join();
  }

  static bool read_exactly(int fd, uint8_t* data, size_t length) {
    for (size_t got = 0; got < length;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return false;
      ssize_t n = ::recv(fd, data + got, length - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }

  bool send_framed(int fd, const std::vector<uint8_t>& framed) const {
    if (trickle_.count() == 0)
      return ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(framed.size());
    for (uint8_t octet : framed) {
      if (::send(fd, &octet, 1, MSG_NOSIGNAL) != 1) return false;
      std::this_thread::sleep_for(trickle_);
    }
    return true;
  }

  void serve() {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) {
      ADD_FAILURE() << "loopback primary: no connection";
      return;
    }
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    uint8_t prefix[2];
    if (read_exactly(fd, prefix, 2)) {
      query_.resize(static_cast<size_t>(prefix[0] << 8 | prefix[1]));
      if (read_exactly(fd, query_.data(), query_.size())) {
        for (const auto& message : respond_(query_)) {
          std::vector<uint8_t> framed{static_cast<uint8_t>(message.size() >> 8), static_cast<uint8_t>(message.size())};
          framed.insert(framed.end(), message.begin(), message.end());
          // The client may stop reading early (it refused a message): that ends the answer.
          if (!send_framed(fd, framed)) break;
        }
      }
    }
    if (!hang_up_) {
      uint8_t rest[512];
      while (read_exactly(fd, rest, 1)) {
      }
    }
    ::close(fd);
  }

  Respond respond_;
  bool hang_up_;
  std::chrono::milliseconds trickle_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::vector<uint8_t> query_;
  std::thread thread_;
};

// Calls `transfer` and returns what it threw (empty when it did not).
template <typename F>
std::string error_of(F&& transfer) {
  try {
    transfer();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace

// --- transfer_zone_incremental ---

TEST(IxfrTransfer, ReadsDiffsSplitAtAnyMessageBoundaryAndTheyApplyToOurZone) {
  for (size_t per_message : {1u, 2u, 3u, 5u, 100u}) {
    SCOPED_TRACE("records per message: " + std::to_string(per_message));
    LoopbackPrimary primary(
        [&](const auto& query) { return answer_messages(query, split(incremental_answer(), per_message)); });
    xfr::IxfrResult result = xfr::transfer_zone_incremental(primary.request(), soa(41));
    EXPECT_FALSE(result.full);
    EXPECT_TRUE(result.records.empty());
    ASSERT_EQ(result.diffs.size(), 3u);
    EXPECT_EQ(serial_of(result.diffs[0].old_soa), 41u);
    EXPECT_EQ(serial_of(result.diffs[0].new_soa), 42u);
    EXPECT_EQ(texts(result.diffs[0].removed), texts({a("www.example.test.", "192.0.2.1"), txt("old.example.test.", "bye")}));
    EXPECT_EQ(texts(result.diffs[0].added), texts({a("www.example.test.", "192.0.2.2"), txt("new.example.test.", "hello")}));
    EXPECT_EQ(serial_of(result.diffs[1].old_soa), 42u);
    EXPECT_EQ(serial_of(result.diffs[1].new_soa), 43u);
    EXPECT_TRUE(result.diffs[1].removed.empty());
    EXPECT_TRUE(result.diffs[1].added.empty());
    EXPECT_EQ(serial_of(result.diffs[2].new_soa), 45u);
    EXPECT_EQ(result.diffs[2].removed.size(), 2u);
    EXPECT_EQ(result.diffs[2].added.size(), 2u);

    // RFC 1995 §3: the query asks IXFR for the zone with our SOA in the authority section.
    xfr::Message query = xfr::parse_message(primary.query());
    ASSERT_EQ(query.questions.size(), 1u);
    EXPECT_EQ(query.questions[0].type, kIxfr);
    EXPECT_EQ(query.questions[0].name, wire("example.test."));
    ASSERT_EQ(query.authority.size(), 1u);
    EXPECT_EQ(serial_of(query.authority[0]), 41u);
  }
}

TEST(IxfrTransfer, DiffsAppliedToOurZoneGiveThePrimarysVersion) {
  LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, split(incremental_answer(), 4)); });
  auto result = xfr::transfer_zone_incremental(primary.request(), soa(41));
  EXPECT_EQ(texts(xfr::apply_ixfr(zone_41(), result.diffs)), texts(zone_45()));
}

TEST(IxfrTransfer, ReturnsTheWholeZoneWhenThePrimaryAnswersInAxfrForm) {
  Records zone = zone_45();
  Records answer = zone;
  answer.push_back(soa(45));
  for (size_t per_message : {1u, 2u, 100u}) {
    SCOPED_TRACE("records per message: " + std::to_string(per_message));
    LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, split(answer, per_message)); });
    auto result = xfr::transfer_zone_incremental(primary.request(), soa(41));
    EXPECT_TRUE(result.full);
    EXPECT_TRUE(result.diffs.empty());
    ASSERT_EQ(result.records.size(), zone.size());  // SOA first, no closing SOA
    EXPECT_EQ(result.records.front().type, dns::rr_type::SOA);
    EXPECT_EQ(texts(result.records), texts(zone));
  }
}

TEST(IxfrTransfer, ALoneSoaNotNewerThanOursMeansUpToDate) {
  for (uint32_t theirs : {41u, 40u}) {
    LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, {{soa(theirs)}}); });
    auto result = xfr::transfer_zone_incremental(primary.request(), soa(41));
    EXPECT_FALSE(result.full);
    EXPECT_TRUE(result.diffs.empty());
    EXPECT_TRUE(result.records.empty());
  }
}

TEST(IxfrTransfer, ALoneNewerSoaThrowsSoTheCallerFallsBackToAxfr) {
  LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, {{soa(45)}}); }, true);
  std::string error = error_of([&] { xfr::transfer_zone_incremental(primary.request(), soa(41)); });
  EXPECT_NE(error.find("example.test. from 127.0.0.1:"), std::string::npos) << error;
  EXPECT_NE(error.find("serial 45 (ours 41) but sent only its SOA"), std::string::npos) << error;
}

TEST(IxfrTransfer, RefusalsThrowNamingZonePrimaryAndRcode) {
  const std::pair<uint8_t, const char*> cases[] = {
      {xfr::rcode::notimp, "NOTIMP"}, {xfr::rcode::refused, "REFUSED"}, {xfr::rcode::formerr, "FORMERR"}};
  for (const auto& [rcode, name] : cases) {
    LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, {{}}, nullptr, rcode); });
    auto request = primary.request();
    std::string error = error_of([&] { xfr::transfer_zone_incremental(request, soa(41)); });
    EXPECT_NE(error.find("example.test. from " + request.primary.str()), std::string::npos) << error;
    EXPECT_NE(error.find(name), std::string::npos) << error;
  }
}

TEST(IxfrTransfer, MalformedAnswersThrow) {
  Records broken_chain = incremental_answer();
  broken_chain[7] = soa(44);  // 41->42 is followed by a diff from 44
  Records wrong_start = incremental_answer();
  wrong_start[1] = soa(40);
  Records trailing = incremental_answer();
  trailing.push_back(a("late.example.test.", "192.0.2.99"));
  Records past_theirs = {soa(45), soa(41), soa(46), soa(46)};
  Records backwards = {soa(45), soa(41), soa(40), soa(40)};
  Records other_axfr_end = zone_45();
  other_axfr_end.push_back(soa(44));
  const std::pair<Records, const char*> cases[] = {
      {broken_chain, "diff chain broken: serial 41 to 42 is followed by an SOA of serial 44"},
      {wrong_start, "changes start at serial 40, ours is 41"},
      {trailing, "records after the final SOA"},
      {past_theirs, "diff leads to serial 46, past the primary's 45"},
      {backwards, "diff from serial 41 leads to serial 40, not a newer one"},
      {other_axfr_end, "full zone of serial 45 closed by serial 44"},
      {{a("www.example.test.", "192.0.2.1")}, "answer does not start with the zone's SOA"},
  };
  for (const auto& [answer, expected] : cases) {
    LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, {answer}); });
    std::string error = error_of([&] { xfr::transfer_zone_incremental(primary.request(), soa(41)); });
    EXPECT_NE(error.find(expected), std::string::npos) << "expected \"" << expected << "\", got \"" << error << "\"";
    EXPECT_NE(error.find("example.test. from 127.0.0.1:"), std::string::npos) << error;
  }
}

TEST(IxfrTransfer, RefusesAnswersLargerThanMaxRecords) {
  LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, split(incremental_answer(), 3)); });
  std::string error = error_of([&] { xfr::transfer_zone_incremental(primary.request(), soa(41), 5); });
  EXPECT_NE(error.find("IXFR larger than 5 records"), std::string::npos) << error;
}

TEST(IxfrTransfer, CutsOffAPrimaryTricklingDataPastTheTransferTimeout) {
  // Each octet comes well within the per-wait timeout; only the limit on the
  // transfer as a whole stops it.
  LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, split(incremental_answer(), 1)); },
                          false, std::chrono::milliseconds(20));
  xfr::PrimaryRequest request = primary.request();
  request.max_transfer_time = std::chrono::seconds(1);
  auto start = std::chrono::steady_clock::now();
  std::string error = error_of([&] { xfr::transfer_zone_incremental(request, soa(41)); });
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(error.find("transfer-timeout reached, cut off"), std::string::npos) << error;
  EXPECT_NE(error.find("127.0.0.1:"), std::string::npos) << error;
  EXPECT_LT(took, std::chrono::milliseconds(2500));  // the limit, not the answer's end (several seconds away)
}

TEST(IxfrTransfer, CutsOffATransferLargerThanMaxTransferSize) {
  LoopbackPrimary primary([&](const auto& query) { return answer_messages(query, split(incremental_answer(), 1)); });
  xfr::PrimaryRequest request = primary.request();
  request.max_transfer_bytes = 150;
  std::string error = error_of([&] { xfr::transfer_zone_incremental(request, soa(41)); });
  EXPECT_NE(error.find("transfer larger than 150 octets (max-transfer-size)"), std::string::npos) << error;

  LoopbackPrimary roomy([&](const auto& query) { return answer_messages(query, split(incremental_answer(), 1)); });
  request = roomy.request();
  request.max_transfer_bytes = 100000;
  EXPECT_EQ(xfr::transfer_zone_incremental(request, soa(41)).diffs.size(), 3u);
}

TEST(IxfrTransfer, VerifiesTsigOnEveryMessageOfASignedAnswer) {
  auto tsig = key();
  LoopbackPrimary primary(
      [&](const auto& query) { return answer_messages(query, split(incremental_answer(), 1), &tsig); });
  auto result = xfr::transfer_zone_incremental(primary.request(&tsig), soa(41));
  EXPECT_EQ(result.diffs.size(), 3u);
  // The primary checked our query's TSIG (answer_messages expects it valid).
  std::vector<xfr::TsigKey> keys{tsig};
  EXPECT_EQ(xfr::tsig_verify(primary.query(), keys, static_cast<uint64_t>(std::time(nullptr))).outcome,
            xfr::TsigVerification::Outcome::ok);
}

TEST(IxfrTransfer, RefusesABadMacOnALaterMessageAndUnsignedAnswers) {
  auto tsig = key();
  LoopbackPrimary tampered([&](const auto& query) {
    auto messages = answer_messages(query, split(incremental_answer(), 4), &tsig);
    auto& second = messages[1];
    second[second.size() - 7] ^= 1;  // the MAC's last octet (original ID, error, other length follow)
    return messages;
  });
  std::string error = error_of([&] { xfr::transfer_zone_incremental(tampered.request(&tsig), soa(41)); });
  EXPECT_NE(error.find("TSIG BADSIG"), std::string::npos) << error;

  LoopbackPrimary unsigned_answer(
      [&](const auto& query) { return answer_messages(query, split(incremental_answer(), 4)); });
  error = error_of([&] { xfr::transfer_zone_incremental(unsigned_answer.request(&tsig), soa(41)); });
  EXPECT_NE(error.find("not signed"), std::string::npos) << error;
}

TEST(IxfrTransfer, AxfrThroughTheSharedReaderStillEndsAtTheClosingSoa) {
  Records answer = zone_45();
  answer.push_back(soa(45));
  LoopbackPrimary primary([&](const auto& query) {
    EXPECT_EQ(xfr::parse_message(query).questions.at(0).type, kAxfr);
    return answer_messages(query, split(answer, 1));
  });
  EXPECT_EQ(texts(xfr::transfer_zone(primary.request())), texts(zone_45()));
}

// --- apply_ixfr ---

namespace {

xfr::IxfrDiff diff(uint32_t from, Records removed, uint32_t to, Records added) {
  return {soa(from), std::move(removed), soa(to), std::move(added)};
}

}  // namespace

TEST(IxfrApply, RemovesAndAddsRecordsAndPutsTheNewSoaFirst) {
  auto records = xfr::apply_ixfr(
      zone_41(), {diff(41, {a("www.example.test.", "192.0.2.1")}, 42, {a("www.example.test.", "192.0.2.2")})});
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().type, dns::rr_type::SOA);
  EXPECT_EQ(serial_of(records.front()), 42u);
  Records expected = zone_41();
  expected[0] = soa(42);
  expected[3] = a("www.example.test.", "192.0.2.2");
  EXPECT_EQ(texts(records), texts(expected));
}

TEST(IxfrApply, MatchesOwnersWithoutRegardToCase) {
  // Name::from_text lower-cases; a primary may send any case.
  xfr::Record upper = a("www.example.test.", "192.0.2.1");
  for (auto& c : upper.owner)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  ASSERT_EQ(dns::to_text(upper.owner), "WWW.EXAMPLE.TEST.");
  auto records = xfr::apply_ixfr(zone_41(), {diff(41, {upper}, 42, {})});
  EXPECT_EQ(records.size(), zone_41().size() - 1);
  for (const auto& r : records) EXPECT_NE(dns::to_text(r.owner), "www.example.test.");
}

TEST(IxfrApply, RemovingAMissingRecordThrowsNamingIt) {
  std::string error = error_of(
      [&] { xfr::apply_ixfr(zone_41(), {diff(41, {a("www.example.test.", "192.0.2.99")}, 42, {})}); });
  EXPECT_EQ(error,
            "example.test.: IXFR serial 41 to 42 removes a record that is not in the zone "
            "(www.example.test. A 192.0.2.99)");
}

TEST(IxfrApply, AddingARecordAlreadyPresentThrowsNamingIt) {
  std::string error =
      error_of([&] { xfr::apply_ixfr(zone_41(), {diff(41, {}, 42, {a("ns1.example.test.", "192.0.2.53")})}); });
  EXPECT_NE(error.find("adds a record already in the zone (ns1.example.test. A 192.0.2.53)"), std::string::npos)
      << error;
}

TEST(IxfrApply, ADiffFromAnotherSerialThrows) {
  std::string error = error_of([&] { xfr::apply_ixfr(zone_41(), {diff(40, {}, 42, {})}); });
  EXPECT_EQ(error, "example.test.: IXFR diff from serial 40 to 42 does not apply to the zone at serial 41");
  error = error_of([&] { xfr::apply_ixfr(zone_41(), {diff(41, {}, 42, {}), diff(43, {}, 44, {})}); });
  EXPECT_NE(error.find("diff from serial 43 to 44 does not apply to the zone at serial 42"), std::string::npos)
      << error;
}

TEST(IxfrApply, AppliesSeveralDiffsInSequenceKeepingTheLastTtl) {
  std::vector<xfr::IxfrDiff> diffs = {
      diff(41, {a("www.example.test.", "192.0.2.1")}, 42, {a("www.example.test.", "192.0.2.2")}),
      diff(42, {a("www.example.test.", "192.0.2.2")}, 43,
           {a("www.example.test.", "192.0.2.3"), a("www.example.test.", "192.0.2.1", 60)}),
      // RFC 1995 has no TTL change: it is a removal and an addition.
      diff(43, {a("ns1.example.test.", "192.0.2.53"), txt("old.example.test.", "bye")}, 44,
           {a("ns1.example.test.", "192.0.2.53", 86400)}),
  };
  Records expected = {soa(44), ns("ns1.example.test."), a("ns1.example.test.", "192.0.2.53", 86400),
                      a("www.example.test.", "192.0.2.1", 60), a("www.example.test.", "192.0.2.3")};
  EXPECT_EQ(texts(xfr::apply_ixfr(zone_41(), diffs)), texts(expected));
  EXPECT_EQ(texts(xfr::apply_ixfr(zone_41(), {})), texts(zone_41()));
}

TEST(IxfrApply, HandlesAMillionRecordZoneInOnePass) {
  constexpr size_t kRecords = 1'000'000;
  Records zone;
  zone.reserve(kRecords + 1);
  zone.push_back(soa(41));
  const std::string origin = wire("example.test.");
  auto owner = [&](size_t i) {
    std::string label = "h" + std::to_string(i);
    return static_cast<char>(label.size()) + label + origin;
  };
  for (size_t i = 0; i < kRecords; ++i) {
    xfr::Record r;
    r.owner = owner(i);
    r.type = dns::rr_type::A;
    r.ttl = 300;
    r.rdata = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    zone.push_back(std::move(r));
  }
  // 10,000 records changed, then removed: a scan of the zone per change
  // (or an erase from the middle of a vector) would take minutes.
  constexpr size_t kChanged = 10'000;
  std::vector<xfr::IxfrDiff> diffs{diff(41, {}, 42, {}), diff(42, {}, 43, {})};
  for (size_t i = 0; i < kChanged; ++i) {
    diffs[0].removed.push_back(zone[1 + i * 97]);
    xfr::Record added = zone[1 + i * 97];
    added.rdata[0] = 11;
    diffs[0].added.push_back(added);
    diffs[1].removed.push_back(added);
  }
  auto started = std::chrono::steady_clock::now();
  auto records = xfr::apply_ixfr(zone, diffs);
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(records.size(), kRecords + 1 - kChanged);
  EXPECT_EQ(serial_of(records.front()), 43u);
  EXPECT_EQ(records[1].owner, owner(1));  // untouched records keep their order
  // Well under a second in a release build; the bound leaves room for sanitizers and a busy machine.
  EXPECT_LT(elapsed, std::chrono::seconds(20)) << "took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}
