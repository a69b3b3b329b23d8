// `wiresign timeline ZONE`: a dry run of the zone's key lifecycle without a
// daemon: the policy's keys in its keystore, taken as in use (and their DS
// as at the parent), stepped through the rollover rules (RFC 7583 timings)
// for the coming months, the parent assumed to act on DS changes in a day.
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "conf/config.h"
#include "conf/duration.h"
#include "dns/name.h"
#include "keystore/open_keystore.h"
#include "policy/key_state_file.h"
#include "policy/key_timeline.h"
#include "policy/signing_policy.h"

namespace wiresign::cli {
namespace {

constexpr const char* kTimelineUsage =
    "usage: wiresign timeline ZONE [--config FILE] [--months N] [--json] [--no-ds] [--now UNIX-SECONDS]\n"
    "  The key events the zone's policy will bring, from its keys in the policy's keystore.\n"
    "  --no-ds: the zone's DS is not at the parent yet (default: it is, for its KSKs)\n";


// `months` calendar months after `when` (UTC), day of month kept where it exists.
policy::UnixTime months_later(policy::UnixTime when, long months) {
  std::time_t t = static_cast<std::time_t>(when);
  std::tm parts{};
  gmtime_r(&t, &parts);
  parts.tm_mon += static_cast<int>(months);
  return static_cast<policy::UnixTime>(timegm(&parts));
}

}  // namespace

int run_timeline(const std::vector<std::string>& args) {
  std::vector<std::string> positional, flags;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help") {
      std::cout << kTimelineUsage;
      return 0;
    }
    if (args[i].rfind("--", 0) != 0) {
      positional.push_back(args[i]);
      continue;
    }
    flags.push_back(args[i]);
    bool valued = args[i] == "--config" || args[i] == "--months" || args[i] == "--now";
    if (valued && i + 1 < args.size()) flags.push_back(args[++i]);
  }
  if (positional.size() != 1) throw UsageError("expected one ZONE\n" + std::string(kTimelineUsage));
  Options options(flags, {"config", "months", "now"}, {"json", "no-ds"});
  std::string zone;
  try {
    const std::string& text = positional[0];
    zone = dns::Name::from_text(text.back() == '.' ? text : text + ".").to_text();
  } catch (const dns::ParseError& e) {
    throw UsageError("ZONE: " + std::string(e.what()));
  }
  const long months = options.number("months", 12, 1, 120);
  const policy::UnixTime now = options.number("now", static_cast<long>(std::time(nullptr)), 1, 0xffffffffL);

  conf::Config config = conf::load_config(options.get("config").value_or("/etc/wiresign/wiresign.yaml"));
  const conf::ZoneConfig* zone_config = config.find_zone(zone);
  if (!zone_config) throw UsageError(config.path + ": no zone " + zone + " (the timeline follows a configured zone's policy)");
  const conf::PolicyConfig* policy_config = config.find_policy(zone_config->policy);
  if (!policy_config) throw UsageError(config.path + ": zone " + zone + " names an unknown policy");
  const conf::KeystoreConfig* store_config = config.find_keystore(policy_config->keystore);
  if (!store_config) throw UsageError(config.path + ": policy \"" + policy_config->name + "\" names an unknown keystore");
  policy::SigningPolicy policy = policy::policy_from_config(*policy_config);
  auto store = keystore::open_keystore(*store_config);

  // The daemon's key states when it keeps them; otherwise the keys the
  // signer would use now (the policy's algorithm), as in use.
  policy::KeyRing ring;
  std::string states_path;
  if (!config.server.state_dir.empty()) {
    states_path = config.server.state_dir + "/keys/" + policy::key_state_file_name(zone);
    std::ifstream in(states_path);
    if (in) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ring = policy::key_ring_from_text(text, states_path);
    } else {
      states_path.clear();
    }
  }
  for (const keystore::KeyInfo& key : states_path.empty() ? store->list_keys(zone) : std::vector<keystore::KeyInfo>{}) {
    if (key.algorithm != policy.algorithm) continue;
    keystore::KeyRole role = key.role;
    if (key.flags == 257 && policy.csk) role = keystore::KeyRole::csk;  // files say only "SEP"
    if (key.flags == 257 && !policy.csk && role == keystore::KeyRole::csk) role = keystore::KeyRole::ksk;
    ring.keys.push_back(policy::adopted_key_state(key, role, !options.has("no-ds"), now));
  }
  const policy::UnixTime until = months_later(now, months);
  std::vector<policy::KeyEvent> events = policy::key_timeline(ring, policy, now, until);

  if (options.has("json")) {
    nlohmann::json out = {{"zone", zone},
                          {"policy", policy.name},
                          {"keystore", store->describe()},
                          {"from", policy::utc_text(now)},
                          {"until", policy::utc_text(until)},
                          {"signatures", {{"validity_s", policy.validity_s},
                                          {"refresh_s", policy.refresh_s},
                                          {"jitter_s", policy.jitter_s},
                                          {"renewed_every_s", policy.validity_s - policy.refresh_s}}},
                          {"events", nlohmann::json::array()}};
    for (const auto& event : events)
      out["events"].push_back({{"when", policy::utc_text(event.when)},
                               {"when_unix", event.when},
                               {"key", event.key},
                               {"label", event.label},
                               {"what", event.what}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "; " << zone << " under policy \"" << policy.name << "\", " << ring.keys.size() << " keys in "
            << store->describe() << ", " << policy::utc_text(now) << " to " << policy::utc_text(until)
            << (!states_path.empty() ? "; key states from " + states_path
                : options.has("no-ds")  ? "; no DS at the parent yet"
                                        : "; the KSKs' DS at the parent")
            << "; the parent assumed to act on DS changes within "
            << conf::duration_text(policy.parent_registration_delay_s) << " (parent-registration-delay)\n";
  // The signatures' own cycle, which the key events come on top of.
  std::cout << "; signatures: each renewed " << conf::duration_text(policy.refresh_s)
            << " before it expires (validity " << conf::duration_text(policy.validity_s)
            << ", so about every " << conf::duration_text(policy.validity_s - policy.refresh_s)
            << "), expirations spread over " << conf::duration_text(policy.jitter_s)
            << "; wiresignd re-signs what is due with a new serial each time\n";
  if (events.empty()) std::cout << "; no key events in this time\n";
  std::cout << policy::timeline_text(events);
  return 0;
}

}  // namespace wiresign::cli
