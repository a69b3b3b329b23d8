// DNSSEC algorithm numbers (RFC 8624) and the names wiresign accepts for them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wiresign::dns {

enum class Algorithm : uint8_t {
  rsasha256 = 8,
  ecdsap256sha256 = 13,
  ecdsap384sha384 = 14,
  ed25519 = 15,
};

// "ecdsap256sha256" (also "13", case-insensitive) -> Algorithm; nullopt if unknown.
std::optional<Algorithm> algorithm_from_name(std::string_view name);
// The lower-case mnemonic used in configs and on the command line.
std::string_view algorithm_name(Algorithm alg);
// The mnemonic BIND writes in .private files ("ECDSAP256SHA256").
std::string_view algorithm_bind_name(Algorithm alg);

// DS digest types (RFC 4509, RFC 6605).
enum class DigestType : uint8_t { sha256 = 2, sha384 = 4 };

}  // namespace wiresign::dns
