// The parent-side DS check against a real parent: NSD on loopback serving
// test. with the DS of example.test (from BIND's dnssec-dsfromkey) beside an
// unrelated one. Covers everywhere / partly / unknown / nowhere, a DS RRset
// too large for UDP, servers that must not count (the child's own, a lame
// one), and finding the parent's servers through a resolver. Skipped
// without nsd.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "daemon/parent_ds.h"
#include "dns/rr_type.h"
#include "unit/daemon/ds_tool_key.h"
#include "xfr/message.h"
#include "xfr/transport.h"

namespace wiresign::daemon {
namespace {

using namespace std::chrono_literals;
using testing::make_tool_key;
using testing::TempDir;
using testing::ToolKey;

// A port on 127.0.0.1 free for UDP and TCP, below the ephemeral range
// where other tests' outgoing sockets take theirs (as tests/system/lib.sh picks).
uint16_t free_port() {
  std::random_device random;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto port = static_cast<uint16_t>(10000 + random() % 22000);
    bool free = true;
    for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
      int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(port);
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      free = free && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
      ::close(fd);
    }
    if (free) return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  // NSD reloads a zone file on SIGHUP only when its time stamp moved.
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() + 2s);
}

// The server part of an NSD config keeping all its files in `dir` (as
// nsd_server_conf in tests/system/lib.sh).
std::string server_config(const std::string& dir, uint16_t port) {
  std::string config = R"(server:
  ip-address: 127.0.0.1@PORT
  zonesdir: "DIR"
  pidfile: "DIR/nsd.pid"
  database: ""
  zonelistfile: "DIR/zone.list"
  xfrdfile: "DIR/xfrd.state"
  xfrdir: "DIR"
  logfile: "DIR/nsd.log"
  username: ""
  chroot: ""
  verbosity: 2
remote-control:
  control-enable: no
)";
  for (auto [key, value] : {std::pair<std::string, std::string>{"PORT", std::to_string(port)}, {"DIR", dir}})
    for (size_t at; (at = config.find(key)) != std::string::npos;) config.replace(at, key.size(), value);
  return config;
}

// One NSD in the foreground on 127.0.0.1:port, its files in `dir`.
class Nsd {
 public:
  Nsd(std::filesystem::path dir, const std::string& zones) : dir_(std::move(dir)), port_(free_port()) {
    write_file(dir_ / "nsd.conf", server_config(dir_.string(), port_) + zones);
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open((dir_ / "nsd.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execlp("nsd", "nsd", "-d", "-c", (dir_ / "nsd.conf").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    try {
      wait_until_answering();
    } catch (...) {
      stop();
      throw;
    }
  }
  ~Nsd() { stop(); }
  Nsd(const Nsd&) = delete;
  Nsd& operator=(const Nsd&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void reload() { ::kill(pid_, SIGHUP); }
  std::string log() const { return keystore::testing::read_text((dir_ / "nsd.out").string()); }

 private:
  // SIGTERM, and SIGKILL when NSD is still there after 2 s.
  void stop() {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // NSD answers once its zones are loaded: wait for an SOA answer (bounded, 10 s).
  void wait_until_answering() {
    xfr::Message query;
    query.header.id = 1;
    query.questions.push_back({dns::Name::root().wire(), dns::rr_type::SOA, dns::kClassIN});
    for (int i = 0; i < 50; ++i) {
      try {
        xfr::udp_exchange({"127.0.0.1", port_, false}, xfr::build_message(query), 200ms);
        return;
      } catch (const xfr::TransportError&) {
        std::this_thread::sleep_for(i < 10 ? 20ms : 200ms);
      }
    }
    throw std::runtime_error("nsd did not start on " + address() + ":\n" + log());
  }

  std::filesystem::path dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

// The parent zone test., delegating example.test (with `example_ds`) and
// big.test (with `big_ds`).
std::string parent_zone(const std::vector<std::string>& example_ds, const std::vector<std::string>& big_ds,
                        unsigned serial) {
  std::string zone = "$ORIGIN test.\n$TTL 300\n@ SOA ns1 hostmaster " + std::to_string(serial) +
                     " 3600 900 1209600 300\n"
                     "@ NS ns1\n@ NS ns2\n@ NS ns3\n"
                     "ns1 A 127.0.0.1\nns2 A 127.0.0.2\n"
                     "ns2 AAAA fe80::53\n"  // link-local without an interface: no route, left out
                     "ns3 A 127.0.0.1\n"    // the same server under another name: counted once
                     "example NS ns.example\nns.example A 127.0.0.1\n"
                     "big NS ns.big\nns.big A 127.0.0.1\n";
  for (const auto& ds : example_ds) zone += ds + "\n";
  for (const auto& ds : big_ds) zone += ds + "\n";
  return zone;
}

std::string zone_entry(const std::string& name, const std::string& file) {
  return "zone:\n  name: " + name + "\n  zonefile: " + file + "\n";
}

class ParentDsAtNsd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("command -v nsd > /dev/null 2>&1") != 0) return;
    keys_ = new TempDir;
    example_ = new ToolKey(make_tool_key(keys_->path(), "example.test"));
    unrelated_ = new ToolKey(make_tool_key(keys_->path(), "example.test"));
    big_ = new ToolKey(make_tool_key(keys_->path(), "big.test"));
  }
  static void TearDownTestSuite() {
    delete big_;
    delete unrelated_;
    delete example_;
    delete keys_;
  }
  void SetUp() override {
    if (!keys_) GTEST_SKIP() << "nsd is not installed";
  }

  // example.test's DS at the parent: ours (SHA-256) and another key's, or just the other.
  static std::vector<std::string> example_ds(bool with_ours) {
    std::vector<std::string> ds{unrelated_->ds_line.at(2)};
    if (with_ours) ds.push_back(example_->ds_line.at(2));
    return ds;
  }
  // Thirty SHA-384 DS of keys that do not exist, and big.test's own: ~2 KB, past 1232 octets.
  static std::vector<std::string> big_ds() {
    std::vector<std::string> ds{big_->ds_line.at(4)};
    for (int tag = 1; tag <= 30; ++tag)
      ds.push_back("big.test. IN DS " + std::to_string(tag) + " 13 4 " + std::string(96, 'A'));
    return ds;
  }
  static std::vector<conf::SocketAddress> servers(const std::vector<std::string>& addresses) {
    return find_parent_servers("example.test.", addresses);
  }
  static DsPresence presence(const std::vector<ParentDsAnswer>& answers, const ToolKey& key) {
    return ds_presence(answers, key.owner_wire, key.dnskey_rdata);
  }

  static inline TempDir* keys_ = nullptr;
  static inline ToolKey* example_ = nullptr;
  static inline ToolKey* unrelated_ = nullptr;
  static inline ToolKey* big_ = nullptr;
  TempDir dir_;
};

TEST_F(ParentDsAtNsd, EverywhereThenUnknownWithASilentServerThenNowhereAfterTheDsIsDropped) {
  write_file(std::filesystem::path(dir_.path()) / "test.zone", parent_zone(example_ds(true), {}, 1));
  Nsd parent(dir_.path(), zone_entry("test.", "test.zone"));

  auto answers = query_parent_ds("example.test.", servers({parent.address()}), 2s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].answered) << answers[0].error;
  EXPECT_EQ(answers[0].ds_rdatas.size(), 2u);
  EXPECT_EQ(presence(answers, *example_), DsPresence::everywhere);
  EXPECT_EQ(describe_ds_presence(answers, example_->owner_wire, example_->dnskey_rdata),
            "DS for key " + std::to_string(example_->key_tag) + " served by 1 of 1 parent servers");

  // A second parent server that receives but never answers: we cannot tell.
  int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), length), 0);
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  std::string silent_address = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  answers = query_parent_ds("example.test.", servers({parent.address(), silent_address}), 500ms);
  ::close(silent);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].answered);
  EXPECT_FALSE(answers[1].answered);
  EXPECT_EQ(answers[1].error, "timeout (no answer over UDP within 500 ms)");
  EXPECT_EQ(presence(answers, *example_), DsPresence::unknown);
  EXPECT_EQ(describe_ds_presence(answers, example_->owner_wire, example_->dnskey_rdata),
            "DS for key " + std::to_string(example_->key_tag) + " served by 1 of 2 parent servers; " + silent_address +
                " did not answer: timeout (no answer over UDP within 500 ms)");

  // The registrar withdrew our DS; the other key's stays.
  write_file(std::filesystem::path(dir_.path()) / "test.zone", parent_zone(example_ds(false), {}, 2));
  parent.reload();
  DsPresence seen = DsPresence::everywhere;
  for (int i = 0; i < 100 && seen != DsPresence::nowhere; ++i) {
    std::this_thread::sleep_for(100ms);
    answers = query_parent_ds("example.test.", servers({parent.address()}), 2s);
    seen = presence(answers, *example_);
  }
  EXPECT_EQ(seen, DsPresence::nowhere) << parent.log();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].ds_rdatas, std::vector<std::vector<uint8_t>>{unrelated_->ds.at(2)});
}

TEST_F(ParentDsAtNsd, UnknownWhenNothingListensOnAServersPort) {
  write_file(std::filesystem::path(dir_.path()) / "test.zone", parent_zone(example_ds(true), {}, 1));
  Nsd parent(dir_.path(), zone_entry("test.", "test.zone"));
  std::string closed = "127.0.0.1:" + std::to_string(free_port());
  auto answers = query_parent_ds("example.test.", servers({parent.address(), closed}), 2s);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[1].answered);
  EXPECT_EQ(answers[1].error, "Connection refused");  // loopback answers with ICMP port unreachable
  EXPECT_EQ(presence(answers, *example_), DsPresence::unknown);
}

TEST_F(ParentDsAtNsd, PartlyWhileOneParentServerLacksTheDs) {
  std::filesystem::path second = std::filesystem::path(dir_.path()) / "second";
  std::filesystem::create_directory(second);
  write_file(std::filesystem::path(dir_.path()) / "test.zone", parent_zone(example_ds(true), {}, 2));
  write_file(second / "test.zone", parent_zone(example_ds(false), {}, 1));
  Nsd updated(dir_.path(), zone_entry("test.", "test.zone"));
  Nsd lagging(second, zone_entry("test.", "test.zone"));
  auto answers = query_parent_ds("example.test.", servers({updated.address(), lagging.address()}), 2s);
  EXPECT_EQ(presence(answers, *example_), DsPresence::partly);
  EXPECT_EQ(describe_ds_presence(answers, example_->owner_wire, example_->dnskey_rdata),
            "DS for key " + std::to_string(example_->key_tag) + " served by 1 of 2 parent servers; missing at " +
                lagging.address());
}

TEST_F(ParentDsAtNsd, AsksOverTcpWhenTheDsRrsetDoesNotFitInUdp) {
  write_file(std::filesystem::path(dir_.path()) / "test.zone", parent_zone({}, big_ds(), 1));
  Nsd parent(dir_.path(), zone_entry("test.", "test.zone"));
  auto answers = query_parent_ds("big.test.", servers({parent.address()}), 2s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].answered) << answers[0].error;
  EXPECT_EQ(answers[0].ds_rdatas.size(), 31u);
  EXPECT_EQ(presence(answers, *big_), DsPresence::everywhere);
}

TEST_F(ParentDsAtNsd, DoesNotCountTheChildsOwnServerOrALameOne) {
  // A server of example.test alone answers "no DS" from the child's apex: that says nothing about the parent.
  write_file(std::filesystem::path(dir_.path()) / "example.test.zone",
             "$ORIGIN example.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 1209600 300\n@ NS ns\nns A 127.0.0.1\n");
  Nsd child(dir_.path(), zone_entry("example.test.", "example.test.zone"));
  auto answers = query_parent_ds("example.test.", servers({child.address()}), 2s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_FALSE(answers[0].answered);
  EXPECT_EQ(answers[0].error, "answered from the child zone, not the parent (NODATA with the SOA of example.test.)");
  EXPECT_EQ(presence(answers, *example_), DsPresence::unknown);

  answers = query_parent_ds("other.example.", servers({child.address()}), 2s);
  EXPECT_FALSE(answers[0].answered);
  EXPECT_EQ(answers[0].error, "REFUSED");
}

TEST_F(ParentDsAtNsd, FindsTheParentServersThroughTheResolver) {
  write_file(std::filesystem::path(dir_.path()) / "test.zone", parent_zone(example_ds(true), {}, 1));
  Nsd parent(dir_.path(), zone_entry("test.", "test.zone"));
  ResolverOptions resolver{conf::parse_socket_address(parent.address()), 2s, 1};
  // b.test does not exist (NXDOMAIN): the walk goes on up to test.
  auto found = find_parent_servers("a.b.test.", {}, resolver);
  std::vector<std::string> addresses;
  for (const auto& server : found) addresses.push_back(server.str());
  EXPECT_EQ(addresses, (std::vector<std::string>{"127.0.0.1:53", "127.0.0.2:53"}));

  try {
    find_parent_servers("example.nowhere.", {}, resolver);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "example.nowhere.: cannot find the parent zone's servers: the resolver gave no answer for "
                 "nowhere. NS (timeout, SERVFAIL or REFUSED)");
  }
}

}  // namespace
}  // namespace wiresign::daemon
