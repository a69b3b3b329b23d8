// wiresignd: the signer daemon. This stage signs `file:` zones and serves
// them to secondaries (SOA, exact-match queries, AXFR; TSIG and ACLs);
// following a primary by NOTIFY/SOA/AXFR/IXFR and sending NOTIFY come next.
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>

#include <chrono>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>

#include "conf/address.h"
#include "conf/config.h"
#include "daemon/zone_loader.h"
#include "xfr/server.h"

namespace {

constexpr const char* kUsage = "usage: wiresignd -c FILE [--check]\n";

void log_line(const std::string& line) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::cerr << stamp << " " << line << std::endl;
}

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
  conf::Config config;
  try {
    config = conf::load_config(config_path);
  } catch (const conf::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK (" << config.zones.size() << " zones, "
              << config.policies.size() << " policies, " << config.keystores.size() << " keystores)\n";
    return 0;
  }

  boost::asio::io_context io;
  xfr::ZoneTable zones;
  daemon::ZoneLoader loader(config, zones, log_line);
  std::vector<conf::SocketAddress> listen;
  for (const auto& text : config.server.listen)
    if (auto address = conf::parse_socket_address(text, 53)) listen.push_back(*address);
  try {
    xfr::Server server(io, listen, zones, log_line);
    auto load_all = [&] {
      for (const auto& zone : config.zones) {
        if (!zone.file.empty()) {
          loader.load_file_zone(zone);
        } else {
          log_line(zone.name + ": following primaries is not implemented in this version; zone not served");
        }
      }
    };
    load_all();
    // SIGHUP re-reads and re-signs the file zones; SIGINT/SIGTERM stop.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& error, int signal) {
          if (error) return;
          if (signal == SIGHUP) {
            log_line("SIGHUP: re-signing file zones");
            load_all();
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
