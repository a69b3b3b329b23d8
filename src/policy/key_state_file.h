// The key states of a zone as text, for the daemon to keep in its state
// directory (written atomically there: temporary file, fsync, rename) and for
// `wiresign key states`. JSON, one object per key; errors name the field.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

#include "policy/key_state.h"

namespace wiresign::policy {

// A key state file that cannot be read; what() is "ORIGIN: WHERE: WHAT", e.g.
// `state/keys/example.com.json: keys[1] (ksk2): "dnskey.state": "omnipresnt" is
// not one of hidden, rumoured, omnipresent, unretentive`, or line:column for
// a JSON syntax error.
class KeyStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string key_ring_to_text(const KeyRing& ring);
// Where wiresignd keeps a zone's states: STATE-DIR/keys/ this name.
std::string key_state_file_name(const std::string& zone);
// `origin` (usually the file's path) starts every error message.
KeyRing key_ring_from_text(std::string_view text, const std::string& origin);

}  // namespace wiresign::policy
