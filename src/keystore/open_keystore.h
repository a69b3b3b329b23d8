// Opens the keystore a configuration describes (files or PKCS#11).
#pragma once
#include <memory>

#include "conf/config.h"
#include "keystore/keystore.h"

namespace wiresign::keystore {

std::unique_ptr<Keystore> open_keystore(const conf::KeystoreConfig& config);
// Software keys in BIND's K<zone>+<alg>+<tag>.{key,private} files in `directory` (created 0700).
std::unique_ptr<Keystore> open_file_keystore(const std::string& directory);

}  // namespace wiresign::keystore
