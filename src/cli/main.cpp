// `wiresign`: the operator's command-line tool: offline commands (sign,
// keys) and the running daemon's control commands (status, zone, reload).
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "conf/config.h"
#include "keystore/keystore.h"

namespace {
constexpr const char* kUsage =
    "usage: wiresign sign --origin ZONE --input FILE --output FILE [--keys DIR | --config FILE --policy NAME] ...\n"
    "       wiresign keys ds|list --origin ZONE [--keys DIR | --config FILE --policy NAME] ...\n"
    "       wiresign status | reload [--json] [--config FILE | --socket PATH]\n"
    "       wiresign zone list | show ZONE | resign|retransfer|notify|hold|release|discard ZONE [--json] ...\n"
    "       wiresign zone add ZONE --policy P (--file PATH | --primaries ADDR[,ADDR]) [--notify ..] [--allow-transfer ..]\n"
    "       wiresign zone remove ZONE            (edit the configuration, then reload the daemon)\n"
    "       wiresign key list|ds ZONE [--json] ...           (the keys the running daemon publishes, their states)\n"
    "       wiresign key rollover ZONE --ksk|--zsk|--csk|--key TAG [--compromised]   (roll now; emergency)\n"
    "       wiresign key ds-seen|ds-gone ZONE TAG            (confirm the parent's DS was added|removed)\n"
    "       wiresign key generate ZONE --ksk|--zsk|--csk     (a standby key, published for a quick rollover)\n"
    "       wiresign key import --zone ZONE [--keys DIR | --config FILE --policy NAME] FILE... | --pkcs11-label L ...\n"
    "       wiresign policy check FILE\n"
    "       wiresign timeline ZONE [--config FILE] [--months N] [--json]   (key events to come)\n"
    "       wiresign COMMAND --help\n";
}

int main(int argc, char** argv) {
  using namespace wiresign;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "sign") return cli::run_sign(rest);
    if (command == "keys") return cli::run_keys(rest);
    if (command == "key" && !rest.empty() && rest[0] == "import")
      return cli::run_key_import({rest.begin() + 1, rest.end()});
    if (command == "status" || command == "reload" || command == "zone" || command == "key")
      return cli::run_control(command, rest);
    if (command == "timeline") return cli::run_timeline(rest);
    if (command == "policy" && !rest.empty() && rest[0] == "check")
      return cli::run_policy_check({rest.begin() + 1, rest.end()});
    throw cli::UsageError("unknown command '" + command + "'");
  } catch (const cli::UsageError& e) {
    std::cerr << "wiresign " << command << ": " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const conf::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const keystore::KeystoreError& e) {
    std::cerr << "error: keystore: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
