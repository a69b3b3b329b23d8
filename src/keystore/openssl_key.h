// Software keys held by OpenSSL: their BIND ".private" form (so keys from
// dnssec-keygen and ours are interchangeable) and the SigningContext that
// signs with them (RFC 3110 §3, RFC 6605 §4, RFC 8080 §4). Private to keystore/.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dns/algorithm.h"
#include "keystore/algorithm.h"
#include "keystore/keystore.h"

namespace wiresign::keystore {

// Takes ownership of `key`; the context keeps its own OpenSSL state, so each
// signing thread needs its own (call once per thread).
std::unique_ptr<SigningContext> make_openssl_signer(EvpPkey key, dns::Algorithm alg);

// BIND's "Private-key-format: v1.3" text for `key`; `timestamp` (YYYYMMDDhhmmss)
// goes into Created/Publish/Activate. It holds secrets: callers wipe it.
std::string format_private_key_file(EVP_PKEY* key, dns::Algorithm alg, const std::string& timestamp);
// Loads the private key of a .private file. ECDSA files carry only the
// private scalar, so the public key (DNSKEY field) comes from the .key file.
// Errors start with `path`.
EvpPkey parse_private_key_file(std::string_view text, dns::Algorithm alg,
                               const std::vector<uint8_t>& public_key, const std::string& path);

}  // namespace wiresign::keystore
