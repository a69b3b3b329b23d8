// Opens the keystore a configuration names: software key files or a PKCS#11
// token (DESIGN.md promise 5).
#include "keystore/open_keystore.h"

#include "keystore/pkcs11_keystore.h"

namespace wiresign::keystore {

std::unique_ptr<Keystore> open_keystore(const conf::KeystoreConfig& config) {
  // Prefix errors with where the keystore was configured, so the operator
  // sees which keystore of which file failed to open.
  std::string where = config.where.str();
  std::string context = (where.empty() ? "" : where + ": ") + "keystore \"" + config.name + "\": ";
  try {
    switch (config.backend) {
      case conf::KeystoreConfig::Backend::files:
        return open_file_keystore(config.directory);
      case conf::KeystoreConfig::Backend::pkcs11:
        if (config.module.empty()) throw KeystoreError("no PKCS#11 module configured");
        if (config.token_label.empty()) throw KeystoreError("no token label configured");
        return open_pkcs11_keystore(config.module, config.token_label, config.pin);
    }
  } catch (const KeystoreError& e) {
    throw KeystoreError(context + e.what());
  }
  throw KeystoreError(context + "unknown backend");
}

}  // namespace wiresign::keystore
