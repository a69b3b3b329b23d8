// `wiresign sign`: read an unsigned master file, sign it under a policy and
// write the signed zone atomically (temporary file, fsync, rename), so that a
// failure never leaves a half-written or partly signed output behind.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/key_source.h"
#include "conf/config.h"
#include "conf/duration.h"
#include "dns/zone_reader.h"
#include "signer/zone.h"
#include "signer/zone_sign.h"

namespace wiresign::cli {
namespace {

constexpr const char* kSignUsage =
    "usage: wiresign sign --origin ZONE --input FILE --output FILE\n"
    "         [--keys DIR | --config FILE --policy NAME]\n"
    "         [--algorithm ecdsap256sha256|ecdsap384sha384|ed25519|rsasha256] [--csk]\n"
    "         [--nsec3 [--opt-out]] [--serial keep|increment|unixtime|datecounter] [--threads N]\n"
    "         [--validity DURATION] [--jitter DURATION] [--inception-offset DURATION]\n"
    "         [--now UNIX-SECONDS] [--quiet]\n";

void log_line(const std::string& line) { std::cerr << line << '\n'; }

// A file written under a temporary name and renamed into place on commit().
class AtomicOutput {
 public:
  explicit AtomicOutput(std::string path) : path_(std::move(path)), temp_(path_ + ".tmp-XXXXXX") {
    int fd = mkstemp(temp_.data());
    if (fd < 0) throw std::runtime_error(path_ + ": cannot create a temporary file: " + std::strerror(errno));
    fchmod(fd, 0644);
    file_ = fdopen(fd, "w");
    buffer_.resize(1 << 20);
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
  }
  ~AtomicOutput() {
    if (file_) std::fclose(file_);
    if (!committed_) unlink(temp_.c_str());
  }
  void write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size())
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
  void commit() {
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0)
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
    std::fclose(file_);
    file_ = nullptr;
    if (std::rename(temp_.c_str(), path_.c_str()) != 0)
      throw std::runtime_error(path_ + ": cannot rename into place: " + std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string path_;
  std::string temp_;
  std::vector<char> buffer_;
  FILE* file_ = nullptr;
  bool committed_ = false;
};

uint32_t duration_option(const Options& options, const std::string& name, uint32_t fallback) {
  auto value = options.get(name);
  if (!value) return fallback;
  auto seconds = conf::parse_duration(*value);
  if (!seconds) throw UsageError("--" + name + ": '" + *value + "' is not a duration (e.g. 14d, 12h, 30m, 45s)");
  return *seconds;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int run_sign(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kSignUsage;
    return 0;
  }
  Options options(args,
                  {"origin", "input", "output", "keys", "config", "policy", "algorithm", "serial", "threads",
                   "validity", "jitter", "inception-offset", "now"},
                  {"nsec3", "opt-out", "csk", "nsec", "quiet"});
  const auto started = std::chrono::steady_clock::now();
  const std::string origin_text = options.require("origin");
  const std::string input = options.require("input");
  const std::string output = options.require("output");
  dns::Name origin;
  try {
    origin = dns::Name::from_text(origin_text.back() == '.' ? origin_text : origin_text + ".");
  } catch (const dns::ParseError& e) {
    throw UsageError("--origin: " + std::string(e.what()));
  }
  const std::string zone_name = origin.to_text();
  const bool quiet = options.has("quiet");
  Log log = [quiet](const std::string& line) {
    if (!quiet) log_line(line);
  };

  ZoneKeySource source = open_zone_keys(options, zone_name, log_line);
  signer::SignOptions sign_options;
  sign_options.policy = source.policy;
  auto& policy = sign_options.policy;
  if (options.has("nsec3")) policy.nsec3 = true;
  if (options.has("nsec")) policy.nsec3 = false;
  if (options.has("opt-out")) {
    if (!policy.nsec3) throw UsageError("--opt-out needs --nsec3");
    policy.opt_out = true;
  }
  if (auto serial = options.get("serial")) {
    auto parsed = conf::serial_policy_from_name(*serial);
    if (!parsed) throw UsageError("--serial: '" + *serial + "' is not keep, increment, unixtime or datecounter");
    policy.serial = *parsed;
  }
  policy.validity_s = duration_option(options, "validity", policy.validity_s);
  policy.jitter_s = duration_option(options, "jitter", policy.jitter_s);
  policy.inception_offset_s = duration_option(options, "inception-offset", policy.inception_offset_s);
  if (policy.jitter_s >= policy.validity_s) throw UsageError("--jitter must be shorter than --validity");
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  sign_options.threads = static_cast<unsigned>(options.number("threads", cores, 1, 256));
  sign_options.now = static_cast<uint32_t>(options.number("now", std::time(nullptr), 1, 0xffffffffL));
  if (policy.nsec3 && policy.nsec3_salt_length) {
    std::random_device random;
    for (unsigned i = 0; i < policy.nsec3_salt_length; ++i)
      sign_options.nsec3_salt.push_back(static_cast<uint8_t>(random()));
  }

  auto warn = [&](const std::string& line) { log_line("warning: " + line); };
  signer::Zone zone = signer::load_zone_file(input, origin, warn);
  const double load_s = seconds_since(started);
  uint32_t serial = signer::prepare_zone(zone, source.keys, sign_options, input, warn);
  log(zone_name + ": loaded " + std::to_string(zone.record_count()) + " records at " +
      std::to_string(zone.name_count()) + " names from " + input + " in " + std::to_string(load_s).substr(0, 5) +
      " s; signing serial " + std::to_string(serial) + " with " + std::to_string(sign_options.threads) +
      " threads (" + std::string(dns::algorithm_name(policy.algorithm)) + ", " +
      (policy.nsec3 ? (policy.opt_out ? "NSEC3 opt-out" : "NSEC3") : "NSEC") + ")");

  AtomicOutput out(output);
  auto last_report = std::chrono::steady_clock::now();
  auto progress = [&](const signer::SignProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (quiet || now - last_report < std::chrono::seconds(5)) return;
    last_report = now;
    log(zone_name + ": signing " + std::to_string(p.done * 100 / std::max<size_t>(1, p.total)) + "% (" +
        std::to_string(p.done) + "/" + std::to_string(p.total) + " names and NSEC3 records)");
  };
  signer::SignStats stats = signer::sign_zone(
      zone, source.keys, sign_options, [&](std::string_view text) { out.write(text); }, progress);
  out.commit();
  log(zone_name + ": signed serial " + std::to_string(stats.serial) + " to " + output + " (" +
      std::to_string(stats.rrsets_signed) + " RRsets, " + std::to_string(stats.rrsigs) + " RRSIGs, " +
      std::to_string(stats.denial_records) + (policy.nsec3 ? " NSEC3" : " NSEC") + ", " +
      std::to_string(seconds_since(started)).substr(0, 6) + " s)");
  return 0;
}

}  // namespace wiresign::cli
