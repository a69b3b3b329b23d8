// BIND's public key file, K<zone>+<alg>+<tag>.key: its name, and the DNSKEY
// record in it (RFC 4034 §2.2 presentation form) with the timing comments
// BIND's tools read. Shared by the files keystore and key import. Private to keystore/.
#pragma once
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "dns/algorithm.h"
#include "keystore/keystore.h"

namespace wiresign::keystore {

// "Kexample.test.+013+12345" (zone with its trailing dot, as BIND names files).
std::string key_file_base(const std::string& zone, dns::Algorithm alg, uint16_t key_tag);
// "20261123000000": the UTC timestamp BIND writes for Created/Publish/Activate.
std::string bind_timestamp(std::time_t when);
// The .key file: comment lines (what the key is, Created/Publish/Activate)
// then "<zone> IN DNSKEY <flags> 3 <alg> <base64>".
std::string format_public_key_file(const KeyInfo& key, std::time_t created);
// Reads the DNSKEY RR of a .key file (any TTL/class, multi-line or BIND's
// split base64); role from the SEP flag (257: ksk, 256: zsk). Errors name `path`.
KeyInfo parse_public_key_file(std::string_view text, const std::string& path);

}  // namespace wiresign::keystore
