// Control API routes, the zone state as JSON, and the metrics.
#include "daemon/control_api.h"

#include <nlohmann/json.hpp>

#include <sstream>

#include "daemon/time_text.h"
#include "dns/name.h"
#include "dns/record.h"
#include "dns/rr_type.h"
#include "keystore/dnskey.h"

namespace wiresign::daemon {
namespace {

using nlohmann::json;

ControlResponse error(unsigned status, const std::string& message) {
  return {status, "application/json", json{{"error", message}}.dump()};
}

// Times as the operator reads them, and as scripts compute with them.
json when(std::time_t t) {
  if (t <= 0) return nullptr;
  return utc_text(t);
}

std::string label(const std::string& zone) { return "{zone=\"" + zone + "\"}"; }

// The keys the version in service publishes (its DNSKEY RRset), with their
// DNSKEY and DS records as a registrar takes them.
json published_keys(const conf::ZoneConfig& zone, const xfr::SignedZone& served) {
  json keys = json::array();
  uint32_t ttl = 0;
  for (const auto& rr : served.lookup(served.origin().wire(), dns::rr_type::DNSKEY, false)) {
    if (rr.rdata.size() < 4) continue;
    keystore::KeyInfo key;
    key.zone = zone.name;
    key.flags = dns::get_u16(rr.rdata.data());
    key.role = key.flags & 1 ? keystore::KeyRole::ksk : keystore::KeyRole::zsk;
    key.algorithm = static_cast<dns::Algorithm>(rr.rdata[3]);
    key.public_key.assign(rr.rdata.begin() + 4, rr.rdata.end());
    key.key_tag = keystore::compute_key_tag(rr.rdata);
    ttl = rr.ttl;
    json entry{{"key_tag", key.key_tag},
               {"flags", key.flags},
               {"role", key.flags & 1 ? "KSK (SEP)" : "ZSK"},
               {"algorithm", std::string(dns::algorithm_name(key.algorithm))},
               {"dnskey", keystore::dnskey_text(key, ttl)}};
    if (key.flags & 1)
      entry["ds"] = {keystore::ds_text(key, dns::DigestType::sha256, ttl),
                     keystore::ds_text(key, dns::DigestType::sha384, ttl)};
    keys.push_back(entry);
  }
  return json{{"zone", zone.name}, {"dnskey_ttl", ttl}, {"keys", keys}};
}

// The key states of the zone's rollovers (RFC 7583): per key its role, goal
// and each record's state, and what is awaited from the parent.
json key_states(const ZoneKeyReport& report) {
  json keys = json::array();
  for (const KeyReport& key : report.keys) {
    const policy::KeyState& state = key.state;
    json entry{{"key_tag", state.key_tag},
               {"role", std::string(keystore::key_role_name(state.role))},
               {"algorithm", std::string(dns::algorithm_name(state.algorithm))},
               {"goal", state.goal == policy::RecordState::hidden ? "retire" : "use"},
               {"standby", state.standby},
               {"compromised", state.compromised},
               {"created", when(static_cast<std::time_t>(state.created))},
               {"in_service", when(static_cast<std::time_t>(state.in_service))},
               {"id", state.id}};
    for (policy::KeyRecord record : policy::kKeyRecords)
      if (state.has(record))
        entry[std::string(policy::key_record_name(record))] = {
            {"state", std::string(policy::record_state_name(state.record(record).state))},
            {"since", when(static_cast<std::time_t>(state.record(record).since))}};
    entry["awaiting_ds"] = key.awaiting_ds_seen ? json("seen") : key.awaiting_ds_gone ? json("gone") : json(nullptr);
    if (key.waiting_since) entry["waiting_since"] = when(key.waiting_since);
    if (!key.parent_check.empty()) entry["parent_check"] = key.parent_check;
    if (!state.keystore_zone.empty()) entry["shared_from"] = state.keystore_zone;
    keys.push_back(entry);
  }
  return json{{"keys", keys},
              {"going_insecure", report.going_insecure},
              {"next_event", when(report.next_event.value_or(0))},
              {"next_parent_check", when(report.next_parent_check.value_or(0))}};
}

// "role=zsk&key=12345" -> value of `name`, or "".
std::string query_value(const std::string& query, const std::string& name) {
  std::stringstream in(query);
  for (std::string pair; std::getline(in, pair, '&');)
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
  return "";
}

std::optional<uint16_t> key_tag_value(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long value = std::stoul(text);
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace

ControlApi::ControlApi(ZoneSet& zones, ZoneLoader& loader, xfr::LogSink log, const xfr::TransferCounters* counters,
                       const NotifySender* notifier)
    : zones_(zones),
      loader_(loader),
      log_(std::move(log)),
      counters_(counters),
      notifier_(notifier),
      started_(std::time(nullptr)) {}

std::string ControlApi::zone_json(const conf::ZoneConfig& zone, std::time_t now) const {
  SigningStatus signing = loader_.status(zone);
  json out;
  out["zone"] = zone.name;
  out["policy"] = zone.policy;
  out["source"] = zone.file.empty() ? json(zone.primaries) : json(zone.file);
  out["signed_serial"] = signing.signed_serial ? json(*signing.signed_serial) : json(nullptr);
  out["input_serial"] = signing.signed_serial ? json(signing.input_serial) : json(nullptr);
  out["records"] = signing.records;
  // signed; going-insecure (DS being withdrawn, still signed); unsigned
  // (insecure: true, DNSSEC withdrawn); null before the first version.
  if (!signing.signed_serial)
    out["dnssec"] = nullptr;
  else if (!zone.insecure)
    out["dnssec"] = "signed";
  else
    out["dnssec"] = signing.earliest_expiration ? "going-insecure" : "unsigned";
  out["earliest_expiration"] = when(signing.earliest_expiration.value_or(0));
  out["earliest_expiration_unix"] = signing.earliest_expiration ? json(*signing.earliest_expiration) : json(nullptr);
  out["next_resign"] = when(signing.next_resign);
  out["resign_failures"] = signing.resign_failures;
  out["last_signed"] = when(signing.last_signed);
  out["last_signing_seconds"] = signing.last_duration_s;
  out["last_rrsigs_made"] = signing.last_rrsigs_made;
  out["last_rrsigs_kept"] = signing.last_rrsigs_kept;
  out["last_error"] = signing.last_error.empty() ? json(nullptr) : json(signing.last_error);
  out["last_error_at"] = when(signing.last_error_at);
  out["journal"] = {{"versions", signing.journal_versions},
                    {"bytes", signing.journal_bytes},
                    {"oldest_serial", signing.journal_oldest_serial ? json(*signing.journal_oldest_serial) : json(nullptr)}};
  out["held"] = signing.held ? json{{"reason", signing.held_reason}} : json(nullptr);
  out["operator_hold"] = signing.operator_hold;
  out["saved"] = signing.unsaved_since == 0;
  if (signing.unsaved_since)
    out["unsaved"] = {{"since", when(signing.unsaved_since)}, {"error", signing.save_error}};
  out["key_states"] = key_states(loader_.key_report(zone));
  if (std::optional<RefreshStatus> followed = zones_.refresh_status(zone.name)) {
    const RefreshStatus& refresh = *followed;
    json primary;
    primary["unsigned_serial"] = refresh.unsigned_serial ? json(*refresh.unsigned_serial) : json(nullptr);
    primary["last_check"] = when(refresh.last_check);
    primary["last_outcome"] = refresh.last_outcome;
    primary["last_success"] = when(refresh.last_success);
    primary["next_check"] = when(refresh.next_check);
    primary["failures_in_a_row"] = refresh.failures;
    primary["reachable"] = refresh.last_check != 0 && refresh.failures == 0;
    primary["soa_refresh_retry_expire"] = {refresh.refresh_s, refresh.retry_s, refresh.expire_s};
    if (refresh.last_success && now - refresh.last_success > static_cast<std::time_t>(refresh.expire_s))
      primary["past_soa_expire_seconds"] = now - refresh.last_success - refresh.expire_s;
    out["primary"] = primary;
  }
  return out.dump();
}

ControlResponse ControlApi::handle(const ControlRequest& request) {
  const std::time_t now = std::time(nullptr);
  const std::string& target = request.target;
  if (target == "/metrics") {
    if (request.method != "GET") return error(405, "use GET for /metrics");
    return {200, "text/plain; version=0.0.4", metrics(now)};
  }
  if (request.metrics_only) return error(404, "this port serves /metrics only");
  const conf::Config& config = zones_.config();

  if (target == "/status" && request.method == "GET") {
    json zones = json::array();
    for (const auto& zone : config.zones) zones.push_back(json::parse(zone_json(zone, now)));
    json keystores = json::object();
    for (const auto& [name, health] : loader_.keystore_health())
      keystores[name] = {{"up", health.up},
                         {"down_since", when(health.down_since)},
                         {"last_error", health.last_error.empty() ? json(nullptr) : json(health.last_error)},
                         {"last_error_at", when(health.last_error_at)}};
    return {200, "application/json",
            json{{"started", when(started_)}, {"uptime_seconds", now - started_}, {"keystores", keystores},
                 {"zones", zones}}.dump()};
  }
  if (target == "/zones" && request.method == "GET") {
    json zones = json::array();
    for (const auto& zone : config.zones) zones.push_back(json::parse(zone_json(zone, now)));
    return {200, "application/json", zones.dump()};
  }
  if (target == "/reload" && request.method == "POST") {
    log_("reload asked over the control API");
    try {
      return {200, "application/json", json{{"result", zones_.reload()}}.dump()};
    } catch (const conf::ConfigError& e) {
      return error(400, std::string("the configuration was not reloaded; nothing changed: ") + e.what());
    }
  }
  if (target.rfind("/zones/", 0) == 0) {
    std::string rest = target.substr(7);
    std::string action;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      action = rest.substr(slash + 1);
      rest.resize(slash);
    }
    const conf::ZoneConfig* zone = nullptr;
    try {
      zone = config.find_zone(rest);
    } catch (const std::exception&) {
    }
    if (!zone) return error(404, "zone " + rest + " is not configured here (wiresign zone list shows the zones)");
    std::string query;
    if (auto mark = action.find('?'); mark != std::string::npos) {
      query = action.substr(mark + 1);
      action.resize(mark);
    }
    if (action.empty()) {
      if (request.method != "GET") return error(405, "use GET to show a zone");
      return {200, "application/json", zone_json(*zone, now)};
    }
    if (action == "keys") {
      if (request.method != "GET") return error(405, "use GET for keys");
      auto served = loader_.served(*zone);
      if (!served) return error(409, zone->name + ": nothing is in service yet, so no keys are published");
      json keys = published_keys(*zone, *served);
      keys["states"] = key_states(loader_.key_report(*zone));
      return {200, "application/json", keys.dump()};
    }
    if (action == "generate") {
      if (request.method != "POST") return error(405, "use POST for generate");
      std::string role_text = query_value(query, "role");
      keystore::KeyRole role = role_text == "ksk"   ? keystore::KeyRole::ksk
                               : role_text == "csk" ? keystore::KeyRole::csk
                                                    : keystore::KeyRole::zsk;
      if (role_text != "ksk" && role_text != "zsk" && role_text != "csk")
        return error(400, "say which role: role=ksk|zsk|csk");
      try {
        std::string result = loader_.generate_standby_key(*zone, role);
        return {200, "application/json", json{{"zone", zone->name}, {"result", result}}.dump()};
      } catch (const std::invalid_argument& e) {
        return error(409, e.what());
      } catch (const std::exception& e) {
        return error(500, zone->name + ": no key generated: " + e.what());
      }
    }
    if (action == "rollover" || action == "ds-seen" || action == "ds-gone") {
      if (request.method != "POST") return error(405, "use POST for " + action);
      std::string tag_text = query_value(query, "key"), role_text = query_value(query, "role");
      std::optional<uint16_t> tag = key_tag_value(tag_text);
      if (!tag_text.empty() && !tag) return error(400, "key=" + tag_text + " is not a key tag (0-65535)");
      std::optional<keystore::KeyRole> role;
      if (role_text == "ksk") role = keystore::KeyRole::ksk;
      else if (role_text == "zsk") role = keystore::KeyRole::zsk;
      else if (role_text == "csk") role = keystore::KeyRole::csk;
      else if (!role_text.empty()) return error(400, "role=" + role_text + " is not ksk, zsk or csk");
      if (action == "rollover" ? !tag && !role : !tag)
        return error(400, action == "rollover" ? "say which key: key=TAG or role=ksk|zsk|csk" : "say which key: key=TAG");
      try {
        bool compromised = query_value(query, "compromised") == "1";
        std::string result = action == "rollover" ? loader_.request_key_rollover(*zone, role, tag.value_or(0), compromised)
                                                  : loader_.confirm_ds(*zone, *tag, action == "ds-seen");
        log_(zone->name + ": " + action + " asked over the control API: " + result);
        return {200, "application/json", json{{"zone", zone->name}, {"result", result}}.dump()};
      } catch (const std::invalid_argument& e) {
        return error(409, e.what());
      }
    }
    if (request.method != "POST") return error(405, "use POST for " + action);
    bool done = false;
    std::string result, refusal;
    if (action == "resign") {
      done = loader_.request_resign(*zone);
      result = "re-sign started; a new serial follows";
      refusal = "nothing is in service yet to re-sign";
    } else if (action == "retransfer") {
      done = zones_.retransfer(zone->name);
      result = "full transfer from the primary started";
      refusal = "the zone is read from a file, not transferred";
    } else if (action == "notify") {
      done = loader_.renotify(*zone);
      result = "NOTIFY sent again to the notify targets";
      refusal = "no notify targets configured, or nothing in service";
    } else if (action == "hold") {
      done = loader_.request_hold(*zone);
      result = "new inputs are held until `wiresign zone release`; re-signing goes on";
      refusal = "holding needs a state dir";
    } else if (action == "release") {
      done = loader_.request_release(*zone);
      result = "the hold ends; a held input (if any) will be published";
      refusal = "nothing is held for this zone";
    } else if (action == "discard") {
      done = loader_.discard_held(*zone);
      result = "the held input was discarded";
      refusal = "no input is held for this zone";
    } else {
      return error(404, "unknown action " + action +
                            " (resign, retransfer, notify, hold, release, discard, rollover, ds-seen, ds-gone, "
                            "generate)");
    }
    if (!done) return error(409, zone->name + ": " + refusal);
    return {200, "application/json", json{{"zone", zone->name}, {"result", result}}.dump()};
  }
  return error(404, "no such resource: " + request.method + " " + target);
}

std::string ControlApi::metrics(std::time_t now) const {
  std::ostringstream out;
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
  };
  auto header = [&](const Metric& m) {
    out << "# HELP " << m.name << " " << m.help << "\n# TYPE " << m.name << " " << m.type << "\n";
  };
  const conf::Config& config = zones_.config();
  std::vector<std::pair<const conf::ZoneConfig*, SigningStatus>> signing;
  for (const auto& zone : config.zones) signing.emplace_back(&zone, loader_.status(zone));

  auto per_zone = [&](const Metric& m, const std::function<std::optional<double>(const conf::ZoneConfig&,
                                                                                const SigningStatus&)>& value) {
    header(m);
    for (const auto& [zone, status] : signing)
      if (auto v = value(*zone, status)) out << m.name << label(zone->name) << " " << std::fixed << *v << "\n";
  };
  out.precision(3);
  per_zone({"wiresign_zone_signed_serial", "gauge", "SOA serial of the signed version in service"},
           [](auto&, const SigningStatus& s) -> std::optional<double> {
             if (!s.signed_serial) return std::nullopt;
             return *s.signed_serial;
           });
  per_zone({"wiresign_zone_rrsig_earliest_expiration_timestamp_seconds", "gauge",
            "earliest RRSIG expiration of the version in service (Unix time)"},
           [](auto&, const SigningStatus& s) -> std::optional<double> {
             if (!s.earliest_expiration) return std::nullopt;
             return static_cast<double>(*s.earliest_expiration);
           });
  per_zone({"wiresign_zone_next_resign_timestamp_seconds", "gauge", "when the zone is re-signed next (Unix time)"},
           [](auto&, const SigningStatus& s) -> std::optional<double> {
             if (!s.next_resign) return std::nullopt;
             return static_cast<double>(s.next_resign);
           });
  per_zone({"wiresign_zone_signature_refresh_seconds", "gauge",
            "the policy's refresh: signatures are renewed this long before they expire"},
           [&config](const conf::ZoneConfig& zone, auto&) -> std::optional<double> {
             const conf::PolicyConfig* policy = config.find_policy(zone.policy);
             if (!policy) return std::nullopt;
             return policy->signatures.refresh_s;
           });
  per_zone({"wiresign_zone_resign_failures", "gauge", "failed re-sign attempts in a row"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return s.resign_failures; });
  per_zone({"wiresign_zone_held", "gauge", "1 when an input is held back by the sanity limits"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return s.held ? 1 : 0; });
  per_zone({"wiresign_zone_unsaved", "gauge",
            "1 while the version in service could not be written to the state dir (served from memory)"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return s.unsaved_since ? 1 : 0; });
  per_zone({"wiresign_zone_publications_total", "counter", "signed versions published since start"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return static_cast<double>(s.publications); });
  per_zone({"wiresign_zone_rrsigs_made_total", "counter", "RRSIGs made (not kept from the version before) since start"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return static_cast<double>(s.rrsigs_made); });
  per_zone({"wiresign_zone_last_signing_duration_seconds", "gauge", "time the last publication took"},
           [](auto&, const SigningStatus& s) -> std::optional<double> {
             if (!s.last_signed) return std::nullopt;
             return s.last_duration_s;
           });
  per_zone({"wiresign_zone_signing_error", "gauge", "1 when the last signing attempt failed"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return s.last_error.empty() ? 0 : 1; });
  per_zone({"wiresign_zone_journal_versions", "gauge", "versions in the journal (IXFR out)"},
           [](auto&, const SigningStatus& s) -> std::optional<double> { return static_cast<double>(s.journal_versions); });
  if (notifier_)
    per_zone({"wiresign_zone_notify_pending", "gauge", "NOTIFYs to secondaries not answered yet"},
             [this](const conf::ZoneConfig& zone, auto&) -> std::optional<double> {
               return static_cast<double>(notifier_->pending(zone.name));
             });
  if (counters_) {
    header({"wiresign_zone_transfers_total", "counter", "zone transfers by direction, type and outcome"});
    for (const auto& [key, count] : counters_->snapshot()) {
      const auto& [zone, direction, type, outcome] = key;
      out << "wiresign_zone_transfers_total{zone=\"" << zone << "\",direction=\"" << direction << "\",type=\""
          << type << "\",outcome=\"" << outcome << "\"} " << count << "\n";
    }
  }

  std::vector<std::pair<const conf::ZoneConfig*, RefreshStatus>> refresh;
  for (const auto& zone : config.zones)
    if (auto status = zones_.refresh_status(zone.name)) refresh.emplace_back(&zone, *status);
  auto per_followed = [&](const Metric& m, const std::function<std::optional<double>(const RefreshStatus&)>& value) {
    header(m);
    for (const auto& [zone, status] : refresh)
      if (auto v = value(status)) out << m.name << label(zone->name) << " " << std::fixed << *v << "\n";
  };
  per_followed({"wiresign_zone_unsigned_serial", "gauge", "SOA serial last transferred from the primary"},
               [](const RefreshStatus& r) -> std::optional<double> {
                 if (!r.unsigned_serial) return std::nullopt;
                 return *r.unsigned_serial;
               });
  per_followed({"wiresign_zone_seconds_since_refresh", "gauge", "seconds since a primary last answered"},
               [now](const RefreshStatus& r) -> std::optional<double> {
                 if (!r.last_success) return std::nullopt;
                 return static_cast<double>(now - r.last_success);
               });
  per_followed({"wiresign_zone_past_soa_expire_seconds", "gauge",
                "seconds past the SOA expire time without a primary (served from the last good version)"},
               [now](const RefreshStatus& r) -> std::optional<double> {
                 if (!r.last_success) return std::nullopt;
                 auto silent = now - r.last_success;
                 return silent > static_cast<std::time_t>(r.expire_s) ? static_cast<double>(silent - r.expire_s) : 0.0;
               });
  per_followed({"wiresign_zone_soa_refresh_seconds", "gauge", "the primary's SOA refresh interval"},
               [](const RefreshStatus& r) -> std::optional<double> {
                 if (!r.refresh_s) return std::nullopt;
                 return r.refresh_s;
               });
  per_followed({"wiresign_zone_refresh_failures", "gauge", "failed refresh checks in a row"},
               [](const RefreshStatus& r) -> std::optional<double> { return r.failures; });
  header({"wiresign_key_record_state", "gauge",
          "1 for the state each record of each key is in (RFC 7583: hidden, rumoured, omnipresent, unretentive)"});
  std::vector<std::pair<const conf::ZoneConfig*, ZoneKeyReport>> key_reports;
  for (const auto& zone : config.zones) key_reports.emplace_back(&zone, loader_.key_report(zone));
  for (const auto& [zone, report] : key_reports)
    for (const KeyReport& key : report.keys)
      for (policy::KeyRecord record : policy::kKeyRecords)
        if (key.state.has(record))
          out << "wiresign_key_record_state{zone=\"" << zone->name << "\",key_tag=\"" << key.state.key_tag
              << "\",role=\"" << keystore::key_role_name(key.state.role) << "\",record=\""
              << policy::key_record_name(record) << "\",state=\""
              << policy::record_state_name(key.state.record(record).state) << "\"} 1\n";
  header({"wiresign_key_ds_wait_seconds", "gauge",
          "seconds a KSK (or CSK) has waited for its DS to appear at or go from the parent; 0: not waiting"});
  for (const auto& [zone, report] : key_reports)
    for (const KeyReport& key : report.keys)
      if (key.state.has(policy::KeyRecord::ds))
        out << "wiresign_key_ds_wait_seconds{zone=\"" << zone->name << "\",key_tag=\"" << key.state.key_tag
            << "\",awaiting=\"" << (key.awaiting_ds_seen ? "seen" : key.awaiting_ds_gone ? "gone" : "nothing")
            << "\"} " << static_cast<double>(key.waiting_since ? now - key.waiting_since : 0) << "\n";
  header({"wiresign_zone_next_key_event_timestamp_seconds", "gauge",
          "when the zone's key states next change by time alone (Unix time)"});
  for (const auto& [zone, report] : key_reports)
    if (report.next_event)
      out << "wiresign_zone_next_key_event_timestamp_seconds" << label(zone->name) << " "
          << static_cast<double>(*report.next_event) << "\n";
  // The worker pool: queued work is one entry per zone and kind at most.
  ZoneScheduler::Counts work = zones_.scheduler_counts();
  header({"wiresign_scheduler_queued", "gauge", "zone jobs waiting for a worker, by kind (resign, refresh)"});
  out << "wiresign_scheduler_queued{kind=\"resign\"} " << work.resigns_queued << "\n"
      << "wiresign_scheduler_queued{kind=\"refresh\"} " << work.refreshes_queued << "\n";
  header({"wiresign_scheduler_running", "gauge", "zone jobs running (at most server.max-concurrent-zones)"});
  out << "wiresign_scheduler_running " << work.running << "\n";
  header({"wiresign_scheduler_jobs_total", "counter", "zone jobs run since start"});
  out << "wiresign_scheduler_jobs_total " << work.jobs_run << "\n";
  out << loader_.keystore_metrics();
  return out.str();
}

}  // namespace wiresign::daemon
