// Zone names as keys record them: lower case with the trailing dot, the
// form RFC 4034 §6.2 makes canonical. Private to keystore/.
#pragma once
#include <string>

#include "dns/name.h"
#include "keystore/keystore.h"

namespace wiresign::keystore {

// "Example.TEST" -> "example.test."; throws KeystoreError on a malformed name.
inline std::string canonical_zone(const std::string& zone) {
  std::string text = zone.empty() || zone.back() != '.' ? zone + "." : zone;
  try {
    return dns::Name::from_text(text).to_text();
  } catch (const dns::ParseError& e) {
    throw KeystoreError("bad zone name '" + zone + "': " + e.what());
  }
}

}  // namespace wiresign::keystore
