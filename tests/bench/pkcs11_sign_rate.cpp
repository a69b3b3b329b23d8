// Benchmark (not a test): a PKCS#11 token's own signing rate, the ceiling for
// wiresign's rate with that token. N threads, each with its own logged-in
// session, loop C_SignInit + C_Sign over fixed input for S seconds:
//   ECDSA P-256 / P-384  CKM_ECDSA over a fixed 32 / 48-octet digest (no hashing by us)
//   Ed25519              CKM_EDDSA over a 100-octet message
//   RSA/SHA-256          CKM_SHA256_RSA_PKCS over a 100-octet message
// The key is the token's key for zone "bench.rate." with that algorithm,
// generated through the keystore on first use and reused afterwards.
//
// usage: pkcs11_sign_rate --module PATH --token-label L --pin-file F
//                         [--algorithm ecdsap256sha256] [--threads N] [--seconds S]
// prints: pkcs11 C_Sign rate: <signatures/s> (<N> threads, <algorithm>, <S> s)
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dns/algorithm.h"
#include "keystore/keystore.h"
#include "keystore/pkcs11_keystore.h"
#include "keystore/pkcs11_module.h"

namespace {

using wiresign::dns::Algorithm;
using wiresign::keystore::KeystoreError;
using wiresign::keystore::Pkcs11Module;
using wiresign::keystore::Pkcs11Session;
using Clock = std::chrono::steady_clock;

constexpr const char* kZone = "bench.rate.";
constexpr int kMaxThreads = 256;
constexpr double kMaxSeconds = 600;

struct Options {
  std::string module;
  std::string token_label;
  std::string pin_file;
  Algorithm algorithm = Algorithm::ecdsap256sha256;
  int threads = 1;
  double seconds = 5;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "pkcs11_sign_rate: %s\n"
               "usage: pkcs11_sign_rate --module PATH --token-label LABEL --pin-file FILE\n"
               "                        [--algorithm ecdsap256sha256] [--threads N] [--seconds S]\n",
               problem.c_str());
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "-h" || option == "--help") usage("measures a PKCS#11 token's own C_Sign rate");
    if (i + 1 >= argc) usage(option + " needs a value");
    std::string value = argv[++i];
    try {
      if (option == "--module") {
        options.module = value;
      } else if (option == "--token-label") {
        options.token_label = value;
      } else if (option == "--pin-file") {
        options.pin_file = value;
      } else if (option == "--algorithm") {
        auto algorithm = wiresign::dns::algorithm_from_name(value);
        if (!algorithm) usage("unknown algorithm \"" + value + "\"");
        options.algorithm = *algorithm;
      } else if (option == "--threads") {
        options.threads = std::stoi(value);
        if (options.threads < 1 || options.threads > kMaxThreads)
          usage("--threads must be 1.." + std::to_string(kMaxThreads));
      } else if (option == "--seconds") {
        options.seconds = std::stod(value);
        if (!(options.seconds > 0 && options.seconds <= kMaxSeconds))
          usage("--seconds must be > 0 and <= " + std::to_string(static_cast<int>(kMaxSeconds)));
      } else {
        usage("unknown option " + option);
      }
    } catch (const std::logic_error&) {  // std::stoi/stod: not a number, or out of range
      usage("bad value \"" + value + "\" for " + option);
    }
  }
  if (options.module.empty() || options.token_label.empty() || options.pin_file.empty())
    usage("--module, --token-label and --pin-file are required");
  return options;
}

// The first line of the file, without surrounding blanks (as wiresign's pin-file).
std::string read_pin(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw KeystoreError("pin-file " + path + " cannot be read");
  const char* blanks = " \t\r\n";
  size_t first = line.find_first_not_of(blanks);
  if (first == std::string::npos) throw KeystoreError("pin-file " + path + " has no PIN on its first line");
  return line.substr(first, line.find_last_not_of(blanks) - first + 1);
}

// The CKA_ID in a keystore locator "pkcs11:token=...;object=...;id=%xx%xx...".
std::vector<uint8_t> id_from_locator(const std::string& locator) {
  size_t start = locator.find(";id=");
  if (start == std::string::npos) throw KeystoreError("no id in key locator \"" + locator + "\"");
  std::string encoded = locator.substr(start + 4, locator.find(';', start + 4) - (start + 4));
  std::vector<uint8_t> id;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      id.push_back(static_cast<uint8_t>(encoded[i]));
    } else if (i + 2 < encoded.size()) {
      id.push_back(static_cast<uint8_t>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      throw KeystoreError("bad percent-encoding in key locator \"" + locator + "\"");
    }
  }
  return id;
}

// The id of the zone's key with `algorithm`, generating it if the token has none.
std::vector<uint8_t> bench_key_id(const Options& options, const std::string& pin) {
  auto keystore = wiresign::keystore::open_pkcs11_keystore(options.module, options.token_label, pin);
  for (const auto& key : keystore->list_keys(kZone))
    if (key.algorithm == options.algorithm) return id_from_locator(key.locator);
  wiresign::keystore::KeyRequest request;
  request.zone = kZone;
  request.role = wiresign::keystore::KeyRole::zsk;
  request.algorithm = options.algorithm;
  return id_from_locator(keystore->generate_key(request).locator);
}

struct Input {
  CK_MECHANISM_TYPE mechanism;
  std::vector<uint8_t> data;
};

Input signing_input(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::ecdsap256sha256: return {CKM_ECDSA, std::vector<uint8_t>(32, 0x5a)};
    case Algorithm::ecdsap384sha384: return {CKM_ECDSA, std::vector<uint8_t>(48, 0x5a)};
    case Algorithm::ed25519: return {CKM_EDDSA, std::vector<uint8_t>(100, 0x5a)};
    case Algorithm::rsasha256: return {CKM_SHA256_RSA_PKCS, std::vector<uint8_t>(100, 0x5a)};
  }
  throw KeystoreError("unsupported algorithm");
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  try {
    std::string pin = read_pin(options.pin_file);
    // Held from the start, so the keystore below shares this one C_Initialize.
    std::shared_ptr<Pkcs11Module> module = Pkcs11Module::open(options.module);
    std::vector<uint8_t> id = bench_key_id(options, pin);
    CK_SLOT_ID slot = module->find_token(options.token_label);
    const Input input = signing_input(options.algorithm);

    std::vector<uint64_t> counts(options.threads, 0);
    std::vector<Clock::time_point> ends(options.threads);
    std::mutex error_mutex;
    std::optional<std::string> error;
    std::atomic<bool> failed{false};
    Clock::time_point start, deadline;
    // Sessions are opened and keys found before the clock starts; the barrier's
    // completion step (run by one thread) starts it for everyone.
    std::barrier ready(options.threads, [&]() noexcept {
      start = Clock::now();
      deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
    });

    auto worker = [&](int index) {
      bool arrived = false;
      try {
        Pkcs11Session session(module, slot);
        session.login(pin);
        CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE query[] = {{CKA_CLASS, &key_class, sizeof key_class},
                                {CKA_ID, const_cast<uint8_t*>(id.data()), id.size()}};
        std::vector<CK_OBJECT_HANDLE> keys = session.find_objects(query);
        if (keys.empty()) throw KeystoreError("C_FindObjects: no private key for " + std::string(kZone));
        CK_FUNCTION_LIST* functions = session.functions();
        CK_MECHANISM mechanism{input.mechanism, nullptr, 0};
        std::vector<CK_BYTE> data(input.data.begin(), input.data.end());
        std::vector<CK_BYTE> signature(1024);
        ready.arrive_and_wait();
        arrived = true;
        uint64_t count = 0;
        while (!failed.load(std::memory_order_relaxed) && Clock::now() < deadline) {
          wiresign::keystore::check_rv(functions->C_SignInit(session.handle(), &mechanism, keys.front()),
                                       "C_SignInit");
          CK_ULONG length = signature.size();
          wiresign::keystore::check_rv(
              functions->C_Sign(session.handle(), data.data(), data.size(), signature.data(), &length), "C_Sign");
          ++count;
        }
        counts[index] = count;
        ends[index] = Clock::now();
      } catch (const std::exception& e) {
        failed = true;
        std::lock_guard lock(error_mutex);
        if (!error) error = e.what();
      }
      if (!arrived) ready.arrive_and_drop();  // do not leave the others waiting
    };

    std::vector<std::thread> threads;
    for (int i = 0; i < options.threads; ++i) threads.emplace_back(worker, i);
    for (auto& thread : threads) thread.join();
    if (error) throw KeystoreError(*error);

    // From the common start to the last thread's last signature.
    uint64_t total = 0;
    Clock::time_point end = start;
    for (int i = 0; i < options.threads; ++i) {
      total += counts[i];
      end = std::max(end, ends[i]);
    }
    double elapsed = std::chrono::duration<double>(end - start).count();
    double rate = elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0;
    std::printf("pkcs11 C_Sign rate: %.0f (%d threads, %s, %.1f s)\n", rate,
                options.threads, std::string(wiresign::dns::algorithm_name(options.algorithm)).c_str(), elapsed);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pkcs11_sign_rate: %s\n", e.what());
    return 1;
  }
}
