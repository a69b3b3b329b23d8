// Base64 (RFC 4648 §4), base32hex without padding (RFC 4648 §7, as NSEC3 uses
// it, RFC 5155 §3.3) and hex, as presentation formats need them.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wiresign::dns {

void append_base64(std::string& out, std::span<const uint8_t> data);
std::string to_base64(std::span<const uint8_t> data);
// nullopt on a character outside the alphabet or bad padding; white space is skipped.
std::optional<std::vector<uint8_t>> from_base64(std::string_view text);

void append_base32hex(std::string& out, std::span<const uint8_t> data);  // lower-case, unpadded
std::optional<std::vector<uint8_t>> from_base32hex(std::string_view text);

void append_hex(std::string& out, std::span<const uint8_t> data, bool upper = true);
std::string to_hex(std::span<const uint8_t> data, bool upper = true);
std::optional<std::vector<uint8_t>> from_hex(std::string_view text);

}  // namespace wiresign::dns
