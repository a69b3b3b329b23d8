// Domain names in uncompressed wire form (RFC 1035 §3.1) and the canonical
// order of RFC 4034 §6.1. Names are kept lower-cased (RFC 4034 §6.2 form).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wiresign::dns {

// Bad presentation or wire input; the message says what was wrong.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A name as its wire octets ("\x03www\x07example\x00"). Empty means "no name".
class Name {
 public:
  Name() = default;
  explicit Name(std::string wire) : wire_(std::move(wire)) {}

  // "www.example.test." or relative to origin; "@" is the origin. Throws ParseError.
  static Name from_text(std::string_view text, const Name& origin = Name{});
  static Name root() { return Name(std::string(1, '\0')); }

  std::string to_text() const;
  const std::string& wire() const { return wire_; }
  bool empty() const { return wire_.empty(); }

  bool operator==(const Name& other) const { return wire_ == other.wire_; }

 private:
  std::string wire_;
};

// --- functions over raw wire names (hot paths use these on string_views) ---

// Number of labels, not counting the root.
unsigned label_count(std::string_view wire);
// RRSIG Labels field (RFC 4034 §3.1.3): like label_count, minus a leading "*".
unsigned rrsig_label_count(std::string_view wire);
bool is_wildcard(std::string_view wire);
// True when `wire` equals `ancestor` or lies below it (case-insensitive).
bool is_at_or_below(std::string_view wire, std::string_view ancestor);
// The name with its first label removed; the root stays the root.
std::string_view parent_of(std::string_view wire);
// ASCII lower case of one octet. Applied octet by octet to a wire name it
// leaves the label lengths (0-63) as they are.
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
// Equal wire names, ignoring ASCII case (RFC 4343).
bool same_name(std::string_view a, std::string_view b);
// ASCII lower-case every label in place.
void lowercase_name(char* wire, size_t len);
std::string to_text(std::string_view wire);
// Key whose memcmp order is the canonical DNS order of RFC 4034 §6.1.
std::string canonical_sort_key(std::string_view wire);
// RFC 4034 §6.1 comparison: <0, 0, >0.
int canonical_compare(std::string_view a, std::string_view b);

}  // namespace wiresign::dns
