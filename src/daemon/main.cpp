// wiresignd: the signer daemon. It signs `file:` zones and zones followed
// from a primary (NOTIFY in, SOA refresh, AXFR in; never expiring), and
// serves them to secondaries (SOA, exact-match queries, AXFR; TSIG, ACLs).
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>

#include "conf/address.h"
#include "conf/config.h"
#include "daemon/control_api.h"
#include "daemon/control_server.h"
#include "daemon/file_watcher.h"
#include "daemon/log.h"
#include "daemon/privileges.h"
#include "daemon/zone_follower.h"
#include "daemon/zone_loader.h"
#include "daemon/time_text.h"
#include "daemon/zone_set.h"
#include "policy/policy_lint.h"
#include "policy/signing_policy.h"
#include "dns/name.h"
#include "xfr/acl.h"
#include "xfr/server.h"

namespace {

constexpr const char* kUsage = "usage: wiresignd -c FILE [--check]\n";

wiresign::daemon::Log& daemon_log() {
  static wiresign::daemon::Log log(wiresign::daemon::Log::stderr_is_journal());
  return log;
}

void log_line(const std::string& line) { daemon_log().line(line); }

}  // namespace

int main(int argc, char** argv) {
  using namespace wiresign;
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) config_path = argv[++i];
    else if (arg == "--check") check_only = true;
    else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "wiresignd: unexpected argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (config_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  auto loaded = std::make_unique<conf::Config>();
  try {
    *loaded = conf::load_config(config_path);
  } catch (const conf::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  const conf::Config& config = *loaded;
  daemon_log().set_level(daemon::log_level_from_name(config.server.log_level));
  if (check_only) {
    std::cout << config_path << ": configuration OK (" << config.zones.size() << " zones, "
              << config.policies.size() << " policies, " << config.keystores.size() << " keystores)\n";
    return 0;
  }

  // The policy lint (`wiresign policy check`), said once at start: a policy
  // whose rollovers cannot finish, or whose signatures could run out in
  // caches, is worth an operator's look even when the daemon can run it.
  for (const auto& policy_config : config.policies) {
    policy::SigningPolicy policy = policy::policy_from_config(policy_config);
    std::vector<policy::LintProblem> problems = policy::lint_policy(policy);
    if (problems.empty()) continue;
    std::string text = policy::lint_text(policy, problems);
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) log_line(policy_config.where.str() + ": " + text.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const auto& zone : config.zones) {
    const conf::PolicyConfig* policy = config.find_policy(zone.policy);
    if (policy && policy->serial == conf::SerialPolicy::keep && !policy->resign_bump)
      log_line(zone.name + ": warning: policy \"" + policy->name +
               "\" keeps the primary's serial, so a re-signed version with an unchanged serial will not reach "
               "the secondaries; use increment, unixtime or datecounter, or allow serial+1 on re-signs with "
               "resign-bump: true");
  }

  boost::asio::io_context io;
  xfr::ZoneTable zones;
  daemon::NotifySender notifier(log_line);
  std::vector<conf::SocketAddress> listen;
  for (const auto& text : config.server.listen)
    if (auto address = conf::parse_socket_address(text, 53)) listen.push_back(*address);
  std::unique_ptr<daemon::StateDir> state;
  try {
    state = std::make_unique<daemon::StateDir>(config.server.state_dir);
  } catch (const std::exception& e) {
    // Serving from memory beats not serving: go on, but say so loudly.
    log_line(std::string("state dir unusable, nothing will survive a restart: ") + e.what());
  }
  daemon::ZoneLoader loader(config, zones, log_line, &notifier, state.get());
  // What was published before a restart is served again at once, unsigned
  // and unchanged: same serial, same signatures, IXFR from the journal.
  for (const auto& zone : config.zones) loader.restore_saved_version(zone);
  xfr::TransferCounters transfers;  // outlives the followers that count into it
  daemon::ZoneSet zone_set(std::move(loaded), loader, state.get(), &transfers, log_line);
  // RFC 1996 §3.10: only listed sources may trigger a check; with a
  // primary-tsig, only NOTIFYs signed with that key.
  auto on_notify = [&](const xfr::Message& notify, std::span<const uint8_t> wire, const std::string& source) {
    return zone_set.on_notify(notify, wire, source);
  };
  try {
    xfr::Server server(io, listen, zones, log_line, on_notify, &transfers);
    xfr::Server::TcpLimits tcp_limits;
    tcp_limits.idle = std::chrono::seconds(config.server.tcp_idle_timeout_s);
    tcp_limits.io_timeout = std::chrono::seconds(config.server.tcp_io_timeout_s);
    tcp_limits.max_clients = config.server.max_tcp_clients;
    server.set_tcp_limits(tcp_limits);
    // The ports are bound: root is not needed any more (server.user).
    daemon::drop_privileges(config.server.user, config.server.state_dir, log_line);
    // Starting the zones and SIGHUP reloads: on their own thread, never the
    // one serving DNS. Re-signs and transfers run on the zone scheduler's
    // workers (see ZoneSet).
    std::atomic<bool> stopping = false, reload_requested = false;
    std::thread reloader([&] {
      // File zones: signed now, again on reload, and whenever their file
      // changes; the other zones followed from their primaries. Started
      // here, so that DNS and the control API answer from the first moment
      // (saved versions are served already) while a large zone is signed.
      zone_set.start();
      while (!stopping) {
        if (reload_requested.exchange(false)) {
          try {
            zone_set.reload();
            daemon_log().set_level(daemon::log_level_from_name(zone_set.config().server.log_level));
          } catch (const conf::ConfigError& e) {
            log_line(std::string("reload refused, the configuration in effect stays: ") + e.what());
          }
        }
        for (int i = 0; i < 10 && !stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    struct Join {
      std::atomic<bool>& stop;
      std::thread& thread;
      ~Join() {
        stop = true;
        thread.join();
      }
    } join_reloader{stopping, reloader};
    daemon::ControlApi api(zone_set, loader, log_line, &transfers, &notifier);
    std::string token;
    if (!config.server.control_token_file.empty()) {
      auto text = daemon::read_file(config.server.control_token_file);
      if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos)
        throw std::runtime_error("control-token-file " + config.server.control_token_file + " is missing or empty");
      token = text->substr(0, text->find_last_not_of(" \t\r\n") + 1);
    }
    daemon::ControlServer control(config.server.control_socket(), conf::parse_socket_address(config.server.control_tcp),
                                  token, conf::parse_socket_address(config.server.metrics),
                                  [&](const daemon::ControlRequest& request) {
                                    daemon::ControlResponse response = api.handle(request);
                                    if (request.target == "/reload" && response.status == 200)
                                      daemon_log().set_level(
                                          daemon::log_level_from_name(zone_set.config().server.log_level));
                                    return response;
                                  },
                                  log_line);
    // SIGHUP re-reads and re-signs the file zones; SIGINT/SIGTERM stop.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& error, int signal) {
          if (error) return;
          if (signal == SIGHUP) {
            log_line("SIGHUP: reloading the configuration, re-reading file zones, checking primaries");
            reload_requested = true;
            signals.async_wait(on_signal);
          } else {
            log_line(std::string("stopping on ") + strsignal(signal));
            io.stop();
          }
        };
    signals.async_wait(on_signal);
    io.run();
  } catch (const std::exception& e) {
    log_line(std::string("fatal: ") + e.what());
    return 1;
  }
  return 0;
}
