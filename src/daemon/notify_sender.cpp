// Sending NOTIFY from one thread, one target at a time, each wait bounded.
#include "daemon/notify_sender.h"

#include <random>

#include "dns/name.h"
#include "dns/rr_type.h"
#include "xfr/message.h"
#include "xfr/transport.h"

namespace wiresign::daemon {
namespace {
constexpr unsigned kMaxAttempts = 10;  // back-off 2 s doubling, capped at 5 min: about half an hour in all
}

NotifySender::NotifySender(xfr::LogSink log) : log_(std::move(log)), thread_([this] { run(); }) {}

NotifySender::~NotifySender() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

size_t NotifySender::pending(const std::string& zone) const {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (const auto& [key, pending] : pending_) count += pending.zone == zone;
  return count;
}

void NotifySender::announce(const std::string& zone, uint32_t serial, const std::vector<conf::SocketAddress>& targets) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& target : targets)
      pending_[zone + " " + target.str()] = {zone, serial, target, 0, std::chrono::steady_clock::now()};
  }
  wake_.notify_all();
}

bool NotifySender::send_one(const Pending& pending) {
  std::random_device random;
  xfr::Message notify;
  notify.header.id = static_cast<uint16_t>(random());
  notify.header.opcode = xfr::opcode::notify;
  notify.header.aa = true;
  notify.questions.push_back({dns::Name::from_text(pending.zone).wire(), dns::rr_type::SOA, dns::kClassIN});
  try {
    auto wire = xfr::udp_exchange(pending.target, xfr::build_message(notify), std::chrono::milliseconds(2000));
    xfr::Message answer = xfr::parse_message(wire);
    if (answer.header.id != notify.header.id || !answer.header.qr)
      throw xfr::MessageError("answer does not match");
    if (answer.header.rcode != xfr::rcode::noerror)
      throw xfr::MessageError("answered RCODE " + std::to_string(answer.header.rcode));
    log_(pending.zone + ": NOTIFY for serial " + std::to_string(pending.serial) + " to " + pending.target.str() +
         " acknowledged");
    return true;
  } catch (const std::exception& e) {
    log_(pending.zone + ": NOTIFY for serial " + std::to_string(pending.serial) + " to " + pending.target.str() +
         " failed (attempt " + std::to_string(pending.attempts + 1) + "): " + e.what());
    return false;
  }
}

void NotifySender::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto next_due = now + std::chrono::hours(1);
    std::string due_key;
    for (const auto& [key, pending] : pending_) {
      if (pending.due <= now) {
        due_key = key;
        break;
      }
      next_due = std::min(next_due, pending.due);
    }
    if (due_key.empty()) {
      wake_.wait_until(lock, next_due);
      continue;
    }
    Pending pending = pending_[due_key];
    lock.unlock();
    bool done = send_one(pending);
    lock.lock();
    auto it = pending_.find(due_key);
    // A newer announcement may have replaced this one while we were sending.
    if (it == pending_.end() || it->second.serial != pending.serial) continue;
    if (done || it->second.attempts + 1 >= kMaxAttempts) {
      if (!done)
        log_(pending.zone + ": giving up NOTIFY for serial " + std::to_string(pending.serial) + " to " +
             pending.target.str() + " after " + std::to_string(kMaxAttempts) + " attempts; it will refresh on its own");
      pending_.erase(it);
      continue;
    }
    ++it->second.attempts;
    auto backoff = std::chrono::seconds(std::min<unsigned>(300, 2u << std::min(it->second.attempts, 8u)));
    it->second.due = std::chrono::steady_clock::now() + backoff;
  }
}

}  // namespace wiresign::daemon
