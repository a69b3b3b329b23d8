// Signing file zones for the daemon.
#include "daemon/zone_loader.h"

#include <chrono>
#include <ctime>
#include <random>

#include "keystore/open_keystore.h"
#include "policy/signing_policy.h"
#include "signer/zone.h"
#include "signer/zone_keys.h"
#include "signer/zone_sign.h"
#include "dns/rr_type.h"
#include "xfr/acl.h"

namespace wiresign::daemon {

ZoneLoader::ZoneLoader(const conf::Config& config, xfr::ZoneTable& zones, xfr::LogSink log, NotifySender* notifier)
    : config_(config), zones_(zones), log_(std::move(log)), notifier_(notifier) {}

keystore::Keystore& ZoneLoader::keystore_for(const conf::PolicyConfig& policy) {
  auto& slot = keystores_[policy.keystore];
  if (!slot) slot = keystore::open_keystore(*config_.find_keystore(policy.keystore));
  return *slot;
}

bool ZoneLoader::load_file_zone(const conf::ZoneConfig& zone) {
  return sign_and_publish(
      zone,
      [&] {
        auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
        return signer::load_zone_file(zone.file, dns::Name::from_text(zone.name), warn);
      },
      zone.file);
}

std::optional<uint32_t> ZoneLoader::load_saved_zone(const conf::ZoneConfig& zone, const std::string& path) {
  std::optional<uint32_t> serial;
  bool published = sign_and_publish(
      zone,
      [&] {
        auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
        signer::Zone saved = signer::load_zone_file(path, dns::Name::from_text(zone.name), warn);
        // The saved SOA's serial is the primary's; read it before signing bumps it.
        for (const auto& r : saved.records())
          if (r.type == dns::rr_type::SOA) {
            auto rdata = saved.rdata(r);
            size_t pos = dns::soa_serial_offset(rdata);
            if (pos + 4 <= rdata.size()) serial = dns::get_u32(rdata.data() + pos);
          }
        return saved;
      },
      path);
  return published ? serial : std::nullopt;
}

bool ZoneLoader::load_transferred_zone(const conf::ZoneConfig& zone, const std::vector<xfr::Record>& records,
                                       const std::string& source) {
  return sign_and_publish(
      zone,
      [&] {
        signer::Zone unsigned_zone(dns::Name::from_text(zone.name));
        size_t dropped = 0;
        for (const auto& r : records)
          if (!signer::add_input_record(unsigned_zone, {r.owner, r.type, r.rclass, r.ttl, r.rdata}, source)) ++dropped;
        signer::warn_dropped_dnssec_records([&](const std::string& line) { log_(zone.name + ": warning: " + line); },
                                            source, dropped);
        return unsigned_zone;
      },
      source);
}

bool ZoneLoader::sign_and_publish(const conf::ZoneConfig& zone, const std::function<signer::Zone()>& read_unsigned,
                                  const std::string& source) {
  std::lock_guard lock(mutex_);
  const auto started = std::chrono::steady_clock::now();
  try {
    const conf::PolicyConfig& policy_config = *config_.find_policy(zone.policy);
    keystore::Keystore& store = keystore_for(policy_config);
    signer::SignOptions options;
    options.policy = policy::policy_from_config(policy_config);
    options.threads = std::max(1u, std::thread::hardware_concurrency());
    options.now = static_cast<uint32_t>(std::time(nullptr));
    options.output = signer::OutputForm::wire;
    std::random_device random;
    for (unsigned i = 0; i < options.policy.nsec3_salt_length; ++i)
      options.nsec3_salt.push_back(static_cast<uint8_t>(random()));
    if (auto served = zones_.find(dns::Name::from_text(zone.name).wire())) options.published_serial = served->zone->serial();
    signer::ZoneKeys keys = signer::select_zone_keys(store, zone.name, options.policy, log_);

    dns::Name origin = dns::Name::from_text(zone.name);
    auto warn = [&](const std::string& line) { log_(zone.name + ": warning: " + line); };
    signer::Zone unsigned_zone = read_unsigned();
    signer::prepare_zone(unsigned_zone, keys, options, source, warn);
    std::string wire;
    signer::SignStats stats =
        signer::sign_zone(unsigned_zone, keys, options, [&](std::string_view chunk) { wire.append(chunk); });

    xfr::ServedZone served;
    served.zone = std::make_shared<xfr::SignedZone>(origin, std::move(wire));
    served.allow_transfer = xfr::parse_acl(zone.allow_transfer);
    if (!zone.transfer_tsig.empty()) {
      const conf::TsigKeyConfig* key = config_.find_tsig_key(zone.transfer_tsig);
      served.transfer_tsig = xfr::make_tsig_key(key->name, key->algorithm, key->secret);
    }
    zones_.publish(origin.wire(), std::move(served));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log_(zone.name + ": signed serial " + std::to_string(stats.serial) + " from " + source + " (" +
         std::to_string(stats.rrsets_signed) + " RRsets, " + std::to_string(stats.rrsigs) + " RRSIGs, " +
         std::to_string(seconds).substr(0, 5) + " s); serving it");
    if (notifier_ && !zone.notify.empty()) {
      std::vector<conf::SocketAddress> targets;
      for (const auto& text : zone.notify)
        if (auto address = conf::parse_socket_address(text, 53)) targets.push_back(*address);
      notifier_->announce(zone.name, stats.serial, targets);
    }
    return true;
  } catch (const std::exception& e) {
    log_(zone.name + ": not published: " + e.what() + "; the version already served (if any) stays");
    return false;
  }
}

}  // namespace wiresign::daemon
