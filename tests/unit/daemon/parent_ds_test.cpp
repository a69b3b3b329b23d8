// The parent-side DS check without a parent: DS matching against digests
// BIND's dnssec-dsfromkey computed (SHA-1, SHA-256, SHA-384), the presence
// verdict over several servers' answers, and finding the parent's servers
// from configuration or, failing that, the resolver.
#include "daemon/parent_ds.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "unit/daemon/ds_tool_key.h"

namespace wiresign::daemon {
namespace {

using namespace std::chrono_literals;
using testing::make_tool_key;
using testing::TempDir;
using testing::ToolKey;

// Two KSKs per algorithm, made once: BIND's tools take a moment each.
class ParentDs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    ecdsa_ = new ToolKey(make_tool_key(dir_->path(), "Example.TEST"));
    rsa_ = new ToolKey(make_tool_key(dir_->path(), "example.test", "RSASHA256"));
    other_ = new ToolKey(make_tool_key(dir_->path(), "example.test"));
  }
  static void TearDownTestSuite() {
    delete other_;
    delete rsa_;
    delete ecdsa_;
    delete dir_;
  }
  static ParentDsAnswer answer(const std::string& server, std::vector<std::vector<uint8_t>> ds) {
    return ParentDsAnswer{server, true, "", std::move(ds)};
  }
  static ParentDsAnswer silent(const std::string& server, const std::string& error) {
    return ParentDsAnswer{server, false, error, {}};
  }
  static DsPresence presence(const std::vector<ParentDsAnswer>& answers) {
    return ds_presence(answers, ecdsa_->owner_wire, ecdsa_->dnskey_rdata);
  }

  static inline TempDir* dir_ = nullptr;
  static inline ToolKey* ecdsa_ = nullptr;  // owner written "Example.TEST": the digest is over the lower-cased name
  static inline ToolKey* rsa_ = nullptr;
  static inline ToolKey* other_ = nullptr;  // another KSK of the same zone and algorithm
};

TEST_F(ParentDs, MatchesTheDsDnssecDsfromkeyComputesForEachDigestType) {
  for (const ToolKey* key : {ecdsa_, rsa_}) {
    for (unsigned type : {1u, 2u, 4u}) {
      ASSERT_EQ(key->ds.at(type).size(), 4u + (type == 1 ? 20 : type == 2 ? 32 : 48)) << key->ds_line.at(type);
      EXPECT_TRUE(ds_matches_dnskey(key->ds.at(type), key->owner_wire, key->dnskey_rdata)) << key->ds_line.at(type);
    }
  }
}

TEST_F(ParentDs, IgnoresTheCaseOfTheOwnerName) {
  std::string lower = dns::Name::from_text("example.test.").wire();
  ASSERT_NE(lower, ecdsa_->owner_wire);
  EXPECT_TRUE(ds_matches_dnskey(ecdsa_->ds.at(2), lower, ecdsa_->dnskey_rdata));
  EXPECT_TRUE(ds_matches_dnskey(rsa_->ds.at(2), testing::wire_as_written("EXAMPLE.test"), rsa_->dnskey_rdata));
}

TEST_F(ParentDs, DoesNotMatchTheDsOfAnotherKeyOrAnAlteredOne) {
  const auto& key = *ecdsa_;
  EXPECT_FALSE(ds_matches_dnskey(other_->ds.at(2), key.owner_wire, key.dnskey_rdata));
  EXPECT_FALSE(ds_matches_dnskey(key.ds.at(2), dns::Name::from_text("example.net.").wire(), key.dnskey_rdata));

  std::vector<uint8_t> digest_changed = key.ds.at(2);
  digest_changed.back() ^= 1;
  EXPECT_FALSE(ds_matches_dnskey(digest_changed, key.owner_wire, key.dnskey_rdata));
  std::vector<uint8_t> wrong_algorithm = key.ds.at(2);
  wrong_algorithm[2] = 8;
  EXPECT_FALSE(ds_matches_dnskey(wrong_algorithm, key.owner_wire, key.dnskey_rdata));
  std::vector<uint8_t> wrong_tag = key.ds.at(2);
  wrong_tag[1] ^= 1;
  EXPECT_FALSE(ds_matches_dnskey(wrong_tag, key.owner_wire, key.dnskey_rdata));
  // A SHA-256 digest labelled GOST (3), or cut short: not something we can check.
  std::vector<uint8_t> gost = key.ds.at(2);
  gost[3] = 3;
  EXPECT_FALSE(ds_matches_dnskey(gost, key.owner_wire, key.dnskey_rdata));
  std::vector<uint8_t> short_digest(key.ds.at(2).begin(), key.ds.at(2).end() - 1);
  EXPECT_FALSE(ds_matches_dnskey(short_digest, key.owner_wire, key.dnskey_rdata));
  EXPECT_FALSE(ds_matches_dnskey(std::vector<uint8_t>{0x01, 0x02}, key.owner_wire, key.dnskey_rdata));
}

TEST_F(ParentDs, PresenceIsEverywhereOnlyWhenEveryServerServesAMatchingDs) {
  auto mine = ecdsa_->ds.at(2), mine_sha384 = ecdsa_->ds.at(4), unrelated = other_->ds.at(2);
  EXPECT_EQ(presence({answer("a", {unrelated, mine}), answer("b", {mine_sha384})}), DsPresence::everywhere);
  EXPECT_EQ(presence({answer("a", {unrelated}), answer("b", {})}), DsPresence::nowhere);
  EXPECT_EQ(presence({answer("a", {mine}), answer("b", {unrelated})}), DsPresence::partly);
  EXPECT_EQ(presence({answer("a", {mine}), silent("b", "REFUSED")}), DsPresence::unknown);
  EXPECT_EQ(presence({answer("a", {}), silent("b", "REFUSED")}), DsPresence::unknown);
  EXPECT_EQ(presence({}), DsPresence::unknown);
}

TEST_F(ParentDs, DescribesWhoServesTheDsAndWhoDidNotAnswer) {
  std::vector<ParentDsAnswer> answers{answer("192.0.2.1:53", {other_->ds.at(2), ecdsa_->ds.at(2)}),
                                      answer("192.0.2.2:53", {other_->ds.at(2)}),
                                      silent("192.0.2.3:53", "timeout (no answer over UDP within 500 ms)")};
  EXPECT_EQ(describe_ds_presence(answers, ecdsa_->owner_wire, ecdsa_->dnskey_rdata),
            "DS for key " + std::to_string(ecdsa_->key_tag) +
                " served by 1 of 3 parent servers; missing at 192.0.2.2:53; "
                "192.0.2.3:53 did not answer: timeout (no answer over UDP within 500 ms)");
  answers.pop_back();
  answers[1].ds_rdatas.push_back(ecdsa_->ds.at(1));
  EXPECT_EQ(describe_ds_presence(answers, ecdsa_->owner_wire, ecdsa_->dnskey_rdata),
            "DS for key " + std::to_string(ecdsa_->key_tag) + " served by 2 of 2 parent servers");
}

TEST(FindParentServers, TakesTheConfiguredServersWithPort53AsDefault) {
  auto servers =
      find_parent_servers("example.test.", {"192.0.2.1", "192.0.2.2:5353", "2001:db8::1", "[2001:db8::2]:54"});
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(servers[0].str(), "192.0.2.1:53");
  EXPECT_EQ(servers[1].str(), "192.0.2.2:5353");
  EXPECT_EQ(servers[2].str(), "[2001:db8::1]:53");
  EXPECT_TRUE(servers[2].v6);
  EXPECT_EQ(servers[3].str(), "[2001:db8::2]:54");
}

TEST(FindParentServers, RefusesAConfiguredServerThatIsNotAnAddress) {
  try {
    find_parent_servers("example.test.", {"192.0.2.1", "ns1.example.net"});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "example.test.: parent server \"ns1.example.net\" is not an address "
                 "(\"192.0.2.1\", \"192.0.2.1:53\", \"[2001:db8::1]:53\")");
  }
}

TEST(FindParentServers, TheRootZoneHasNone) {
  try {
    find_parent_servers(".", {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), ".: cannot find the parent zone's servers: the root zone has no parent");
  }
}

// A UDP socket on loopback that receives and never answers.
class SilentServer {
 public:
  SilentServer() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  conf::SocketAddress address() const { return {"127.0.0.1", port_, false}; }

 private:
  int fd_;
  uint16_t port_ = 0;
};

TEST(FindParentServers, SaysWhichLookupFailedWhenTheResolverIsSilent) {
  SilentServer resolver;
  auto started = std::chrono::steady_clock::now();
  try {
    find_parent_servers("www.example.test.", {}, ResolverOptions{resolver.address(), 1s, 1});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "www.example.test.: cannot find the parent zone's servers: the resolver gave no answer "
                 "for example.test. NS (timeout, SERVFAIL or REFUSED)");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(QueryParentDs, ReportsATimeoutForAServerThatNeverAnswers) {
  SilentServer server;
  auto started = std::chrono::steady_clock::now();
  auto answers = query_parent_ds("example.test.", {server.address(), server.address(), server.address()}, 300ms);
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& answer : answers) {
    EXPECT_EQ(answer.server, server.address().str());
    EXPECT_FALSE(answer.answered);
    EXPECT_EQ(answer.error, "timeout (no answer over UDP within 300 ms)");
  }
  EXPECT_LT(elapsed, 850ms) << "the servers are asked at once, not in turn (that would take 900 ms)";
}

}  // namespace
}  // namespace wiresign::daemon
