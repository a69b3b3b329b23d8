// The dry run behind `wiresign timeline`: advance_rollover stepped from event
// to event on a copy of the key states, with keys generated when asked for,
// DS changes assumed done after a delay, and retired keys removed.
#include "policy/key_timeline.h"

#include <algorithm>
#include <ctime>
#include <map>

namespace wiresign::policy {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}


}  // namespace

std::vector<KeyEvent> key_timeline(const KeyRing& start, const SigningPolicy& policy, UnixTime now, UnixTime until,
                                   const TimelineAssumptions& assumptions) {
  std::vector<KeyEvent> out;
  KeyRing ring = start;
  std::map<std::string, std::string> planned_labels;
  int planned = 0;
  auto keep = [&](std::vector<KeyEvent> events) {
    for (auto& event : events) {
      if (auto it = planned_labels.find(event.key); it != planned_labels.end()) event.label = it->second;
      out.push_back(std::move(event));
    }
  };
  // Each step moves at least one record or the clock; the bound only guards
  // against a policy that never settles.
  for (int guard = 0; guard < 100000 && now <= until; ++guard) {
    RolloverStep step = advance_rollover(ring, policy, now);
    for (int round = 0; round < 3 && !step.keys_needed.empty(); ++round) {
      ring = step.ring;
      keep(std::move(step.events));
      for (const auto& request : step.keys_needed) {
        keystore::KeyInfo info;
        info.algorithm = request.algorithm;
        std::string role(keystore::key_role_name(request.role));
        info.locator = "planned-" + role + "-" + std::to_string(++planned);
        std::string label = upper(role) + " (planned #" + std::to_string(planned) + ", " +
                            std::string(dns::algorithm_name(request.algorithm)) + ")";
        planned_labels[info.locator] = label;
        ring.keys.push_back(new_key_state(request, info, now));
        std::string what = "generated";
        if (request.standby)
          what += " (standby)";
        else if (!request.predecessor.empty())
          what += " (successor of " + request.predecessor + ")";
        out.push_back({now, info.locator, label, what});
      }
      step = advance_rollover(ring, policy, now);
    }
    ring = step.ring;
    keep(std::move(step.events));
    for (const auto& id : step.removable) {
      const KeyState* key = ring.find(id);
      out.push_back({now, id, planned_labels.count(id) ? planned_labels[id] : key->label(), "removed"});
      forget_key(ring, id);
    }
    // The parent is assumed to act parent_delay_s after each request.
    const uint32_t parent_delay = assumptions.parent_delay_s.value_or(policy.parent_registration_delay_s);
    std::optional<UnixTime> next = step.next_event;
    auto assume = [&](const std::vector<std::string>& ids, bool seen) {
      for (const auto& id : ids) {
        KeyState* key = ring.find(id);
        UnixTime when = std::max(key->ds.since + parent_delay, now);
        if (when <= now) {
          (seen ? key->ds_seen : key->ds_gone) = now;
          out.push_back({now, id, planned_labels.count(id) ? planned_labels[id] : key->label(),
                         seen ? "DS seen at the parent (assumed)" : "DS gone from the parent (assumed)"});
        }
        if (when > now && (!next || when < *next)) next = when;
        if (when <= now && (!next || now < *next)) next = now;
      }
    };
    assume(step.use.awaiting_ds_seen, true);
    assume(step.use.awaiting_ds_gone, false);
    if (!next || *next > until) break;
    now = *next;
  }
  std::stable_sort(out.begin(), out.end(), [](const KeyEvent& a, const KeyEvent& b) { return a.when < b.when; });
  return out;
}

std::string timeline_text(const std::vector<KeyEvent>& events) {
  std::string text;
  for (const auto& event : events) text += utc_text(event.when) + "  " + event.label + "  " + event.what + "\n";
  return text;
}

std::string utc_text(UnixTime when) {
  std::time_t t = static_cast<std::time_t>(when);
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace wiresign::policy
