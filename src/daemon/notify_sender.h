// NOTIFY to the secondaries (RFC 1996 §3.6) on every new signed serial,
// retried with back-off until each target answers; a newer serial for the
// same zone replaces a pending one.
#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conf/address.h"
#include "xfr/server.h"

namespace wiresign::daemon {

class NotifySender {
 public:
  explicit NotifySender(xfr::LogSink log);
  ~NotifySender();
  NotifySender(const NotifySender&) = delete;
  NotifySender& operator=(const NotifySender&) = delete;

  // Queues NOTIFY for `zone` (presentation form) at `serial` to each target.
  void announce(const std::string& zone, uint32_t serial, const std::vector<conf::SocketAddress>& targets);
  // NOTIFYs for `zone` not answered yet.
  size_t pending(const std::string& zone) const;

 private:
  struct Pending {
    std::string zone;
    uint32_t serial = 0;
    conf::SocketAddress target;
    unsigned attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void run();
  bool send_one(const Pending& pending);

  xfr::LogSink log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Pending> pending_;  // key: zone + target
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wiresign::daemon
