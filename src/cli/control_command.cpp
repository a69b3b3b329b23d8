// `wiresign status | zone ... | reload`: the daemon's control API over its
// UNIX socket (HTTP/JSON), shown for people or, with --json, for scripts.
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/zone_config_edit.h"
#include "conf/config.h"

namespace wiresign::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

constexpr const char* kDefaultConfig = "/etc/wiresign/wiresign.yaml";

// The control socket: --socket, else the one the config names.
std::string control_socket(const Options& options) {
  if (auto socket = options.get("socket")) return *socket;
  std::string path = options.get("config").value_or(kDefaultConfig);
  return conf::load_config(path).server.control_socket();
}

struct Reply {
  unsigned status = 0;
  json body;
};

Reply call(const std::string& socket_path, http::verb method, const std::string& target) {
  asio::io_context io;
  asio::local::stream_protocol::socket socket(io);
  boost::system::error_code error;
  socket.connect(asio::local::stream_protocol::endpoint(socket_path), error);
  if (error)
    throw std::runtime_error("cannot reach wiresignd at " + socket_path + ": " + error.message() +
                             " (is it running? is this its config or --socket?)");
  timeval limit{60, 0};  // a reload signs file zones before it answers
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "wiresignd");
  request.prepare_payload();
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  Reply reply{response.result_int(), nullptr};
  try {
    reply.body = json::parse(response.body());
  } catch (const json::exception&) {
    reply.body = response.body();
  }
  return reply;
}

std::string text(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// One line per zone: what an operator scans for first.
void print_zone_table(const json& zones) {
  std::cout << std::left << std::setw(28) << "ZONE" << std::setw(12) << "SERIAL" << std::setw(22)
            << "SIGNATURES UNTIL" << std::setw(22) << "NEXT RE-SIGN" << "STATE\n";
  for (const auto& zone : zones) {
    std::string state = "ok";
    if (!zone["held"].is_null()) state = "HELD: " + text(zone["held"]["reason"]);
    else if (zone["operator_hold"].get<bool>()) state = "on hold (operator)";
    else if (!zone["last_error"].is_null()) state = "ERROR: " + text(zone["last_error"]);
    else if (zone.contains("primary") && zone["primary"]["failures_in_a_row"].get<unsigned>() > 0)
      state = "primary failing: " + text(zone["primary"]["last_outcome"]);
    else if (zone["signed_serial"].is_null()) state = "nothing served yet";
    else if (text(zone["dnssec"]) == "unsigned") state = "unsigned (insecure: true)";
    else if (text(zone["dnssec"]) == "going-insecure") state = "going insecure: DS being withdrawn";
    else if (zone.contains("key_states"))
      for (const auto& key : zone["key_states"]["keys"])
        if (!key["awaiting_ds"].is_null())
          state = "ok; key " + text(key["key_tag"]) + " waits for its DS to be " +
                  (text(key["awaiting_ds"]) == "seen" ? "published" : "removed") + " since " +
                  text(key["waiting_since"]);
    std::cout << std::left << std::setw(28) << text(zone["zone"]) << std::setw(12) << text(zone["signed_serial"])
              << std::setw(22) << text(zone["earliest_expiration"]) << std::setw(22) << text(zone["next_resign"])
              << state << "\n";
  }
}

// The rollover states: a line per key, each record's state (RFC 7583), and
// what the parent is waited for.
void print_key_states(const json& states) {
  if (states["keys"].empty()) return;
  std::cout << "key states (next change " << text(states["next_event"]) << "):\n";
  for (const auto& key : states["keys"]) {
    std::cout << "  " << std::left << std::setw(6) << text(key["key_tag"]) << std::setw(5) << text(key["role"])
              << std::setw(17) << text(key["algorithm"]) << std::setw(8)
              << (key["standby"].get<bool>() ? "standby" : text(key["goal"]));
    for (const char* record : {"dnskey", "krrsig", "zrrsig", "ds"})
      if (key.contains(record)) std::cout << " " << record << "=" << text(key[record]["state"]);
    if (key.contains("shared_from")) std::cout << " (shared; made by " << text(key["shared_from"]) << ")";
    std::cout << "\n";
    if (!key["awaiting_ds"].is_null())
      std::cout << "        waiting since " << text(key["waiting_since"]) << " for the DS to be "
                << (text(key["awaiting_ds"]) == "seen" ? "published at" : "removed from") << " the parent"
                << (key.contains("parent_check") ? ": " + text(key["parent_check"]) : "") << "\n";
  }
}

void print_zone(const json& zone) {
  auto line = [](const char* what, const std::string& value) {
    std::cout << std::left << std::setw(26) << (std::string(what) + ":") << value << "\n";
  };
  line("zone", text(zone["zone"]));
  line("policy", text(zone["policy"]));
  line("source", text(zone["source"]));
  line("signed serial", text(zone["signed_serial"]));
  line("input serial", text(zone["input_serial"]));
  line("records", text(zone["records"]));
  line("dnssec", text(zone["dnssec"]));
  line("signatures valid until", text(zone["earliest_expiration"]));
  line("next re-sign", text(zone["next_resign"]));
  line("last signed", text(zone["last_signed"]) + " (" + text(zone["last_rrsigs_made"]) + " RRSIGs made, " +
                          text(zone["last_rrsigs_kept"]) + " kept, " + text(zone["last_signing_seconds"]) + " s)");
  if (!zone["last_error"].is_null()) line("LAST ERROR", text(zone["last_error_at"]) + " " + text(zone["last_error"]));
  if (zone["resign_failures"].get<unsigned>() > 0) line("re-sign failures", text(zone["resign_failures"]));
  line("journal", text(zone["journal"]["versions"]) + " versions, " + text(zone["journal"]["bytes"]) +
                      " bytes, from serial " + text(zone["journal"]["oldest_serial"]));
  line("held", zone["held"].is_null() ? "no" : "YES: " + text(zone["held"]["reason"]));
  if (zone["operator_hold"].get<bool>()) line("operator hold", "YES: new inputs are held until wiresign zone release");
  if (zone.contains("unsaved"))
    line("state dir", "NOT SAVED since " + text(zone["unsaved"]["since"]) + " (served from memory): " +
                          text(zone["unsaved"]["error"]));
  if (zone.contains("primary")) {
    const json& p = zone["primary"];
    line("unsigned serial", text(p["unsigned_serial"]));
    line("last refresh", text(p["last_check"]) + ": " + text(p["last_outcome"]));
    line("primary last answered", text(p["last_success"]));
    line("next refresh", text(p["next_check"]));
    if (p.contains("past_soa_expire_seconds"))
      line("PAST SOA EXPIRE by", text(p["past_soa_expire_seconds"]) + " s (still serving the last good version)");
  }
  if (zone.contains("key_states")) print_key_states(zone["key_states"]);
}

// Options that take a value: where the daemon is, and a new zone's settings
// (named as in the zones section of the configuration).
const std::set<std::string> kValued = {"socket",  "config",         "policy",       "file",          "primaries",
                                       "notify",  "allow-transfer", "primary-tsig", "transfer-tsig", "key"};

std::vector<std::string> comma_list(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  std::stringstream in(*text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// zone add|remove: the configuration file changed (checked first), then
// the daemon reloads it. Returns what to tell the operator.
std::string edit_zones(const std::string& action, const std::string& zone, const Options& options) {
  std::string path = options.get("config").value_or(kDefaultConfig);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read it: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (action == "add") {
    ZoneEntry entry;
    entry.name = zone;
    entry.policy = options.require("policy");
    entry.file = options.get("file").value_or("");
    entry.primaries = comma_list(options.get("primaries"));
    if (entry.file.empty() == entry.primaries.empty())
      throw UsageError("zone add needs --file PATH or --primaries ADDRESS[,ADDRESS...] (one of them)");
    entry.notify = comma_list(options.get("notify"));
    entry.allow_transfer = comma_list(options.get("allow-transfer"));
    entry.primary_tsig = options.get("primary-tsig").value_or("");
    entry.transfer_tsig = options.get("transfer-tsig").value_or("");
    replace_config_checked(path, add_zone_to_config(text, entry));
    return "zone " + zone + " added to " + path;
  }
  replace_config_checked(path, remove_zone_from_config(text, zone));
  return "zone " + zone + " removed from " + path;
}

}  // namespace

int run_control(const std::string& command, const std::vector<std::string>& args) {
  std::vector<std::string> positional, flags;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      flags.push_back(args[i]);
      if (kValued.count(args[i].substr(2)) && i + 1 < args.size()) flags.push_back(args[++i]);
    } else {
      positional.push_back(args[i]);
    }
  }
  Options options(flags, kValued, {"json", "ksk", "zsk", "csk", "compromised"});
  const bool as_json = options.has("json");

  http::verb method = http::verb::get;
  std::string target;
  std::string edited;  // zone add|remove: what changed in the configuration
  if (command == "zone" && positional.size() == 2 && (positional[0] == "add" || positional[0] == "remove")) {
    edited = edit_zones(positional[0], positional[1], options);
    method = http::verb::post;
    target = "/reload";
  } else if (command == "status" && positional.empty()) {
    target = "/status";
  } else if (command == "reload" && positional.empty()) {
    method = http::verb::post;
    target = "/reload";
  } else if (command == "zone" && positional.size() == 1 && positional[0] == "list") {
    target = "/zones";
  } else if (command == "zone" && positional.size() == 2 && positional[0] == "show") {
    target = "/zones/" + positional[1];
  } else if (command == "key" && positional.size() == 2 && (positional[0] == "list" || positional[0] == "ds")) {
    target = "/zones/" + positional[1] + "/keys";
  } else if (command == "key" && positional.size() == 2 && positional[0] == "rollover") {
    method = http::verb::post;
    std::string which;
    for (const char* role : {"ksk", "zsk", "csk"})
      if (options.has(role)) which = std::string("role=") + role;
    if (auto tag = options.get("key")) which = "key=" + *tag;
    if (which.empty()) throw UsageError("key rollover ZONE needs --ksk, --zsk, --csk or --key TAG");
    if (options.has("compromised")) which += "&compromised=1";
    target = "/zones/" + positional[1] + "/rollover?" + which;
  } else if (command == "key" && positional.size() == 2 && positional[0] == "generate") {
    method = http::verb::post;
    std::string role;
    for (const char* name : {"ksk", "zsk", "csk"})
      if (options.has(name)) role = name;
    if (role.empty()) throw UsageError("key generate ZONE needs --ksk, --zsk or --csk");
    target = "/zones/" + positional[1] + "/generate?role=" + role;
  } else if (command == "key" && positional.size() == 3 && (positional[0] == "ds-seen" || positional[0] == "ds-gone")) {
    method = http::verb::post;
    target = "/zones/" + positional[1] + "/" + positional[0] + "?key=" + positional[2];
  } else if (command == "zone" && positional.size() == 2) {
    method = http::verb::post;
    target = "/zones/" + positional[1] + "/" + positional[0];
  } else {
    throw UsageError("expected: status | reload | zone list | zone show ZONE | "
                     "zone resign|retransfer|notify|hold|release|discard ZONE | "
                     "zone add ZONE --policy P (--file PATH | --primaries A[,B]) | zone remove ZONE | "
                     "key list|ds ZONE | key rollover ZONE (--ksk|--zsk|--csk|--key TAG) [--compromised] | "
                     "key ds-seen|ds-gone ZONE TAG | key generate ZONE --ksk|--zsk|--csk");
  }
  if (!edited.empty()) std::cout << edited << "\n";
  Reply reply;
  try {
    reply = call(control_socket(options), method, target);
  } catch (const std::exception& e) {
    if (edited.empty()) throw;
    std::cerr << "error: the configuration was changed, but wiresignd was not told: " << e.what()
              << "; it takes effect at the next start or `wiresign reload`\n";
    return 1;
  }
  if (reply.status != 200) {
    std::cerr << "error: " << (reply.body.is_object() ? text(reply.body["error"]) : text(reply.body)) << "\n";
    return 1;
  }
  if (as_json) {
    std::cout << reply.body.dump(2) << "\n";
  } else if (target == "/status") {
    std::cout << "wiresignd up since " << text(reply.body["started"]) << " (" << text(reply.body["uptime_seconds"])
              << " s), " << reply.body["zones"].size() << " zones\n";
    if (reply.body.contains("keystores"))
      for (const auto& [name, health] : reply.body["keystores"].items())
        std::cout << "keystore " << name << ": "
                  << (health["up"].get<bool>() ? "up"
                                               : "FAILING since " + text(health["down_since"]) + ": " +
                                                     text(health["last_error"]))
                  << "\n";
    print_zone_table(reply.body["zones"]);
  } else if (target == "/zones") {
    print_zone_table(reply.body);
  } else if (command == "key" && positional[0] == "ds") {
    // As a registrar takes them: the DS records of the KSKs, then their DNSKEYs.
    for (const auto& key : reply.body["keys"])
      if (key.contains("ds"))
        for (const auto& ds : key["ds"]) std::cout << text(ds) << "\n";
    for (const auto& key : reply.body["keys"])
      if (key.contains("ds")) std::cout << text(key["dnskey"]) << "\n";
  } else if (command == "key" && method == http::verb::get) {
    std::cout << "published (DNSKEY TTL " << text(reply.body["dnskey_ttl"]) << "):\n";
    std::cout << std::left << std::setw(8) << "TAG" << std::setw(12) << "ROLE" << std::setw(18) << "ALGORITHM" << "\n";
    for (const auto& key : reply.body["keys"])
      std::cout << std::left << std::setw(8) << text(key["key_tag"]) << std::setw(12) << text(key["role"])
                << std::setw(18) << text(key["algorithm"]) << "\n";
    if (reply.body.contains("states")) print_key_states(reply.body["states"]);
  } else if (method == http::verb::get) {
    print_zone(reply.body);
  } else {
    std::cout << (reply.body.contains("zone") ? text(reply.body["zone"]) + ": " : "") << text(reply.body["result"])
              << "\n";
  }
  return 0;
}

}  // namespace wiresign::cli
