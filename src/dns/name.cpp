// Wire-form domain names: parsing, printing, label arithmetic and the
// canonical ordering of RFC 4034 §6.1.
#include "dns/name.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <vector>

namespace wiresign::dns {
namespace {

// Offsets of each label's length octet, from the first label to the last (no root).
std::vector<size_t> label_offsets(std::string_view wire) {
  std::vector<size_t> offsets;
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    offsets.push_back(pos);
    pos += 1 + static_cast<uint8_t>(wire[pos]);
  }
  return offsets;
}

}  // namespace

Name Name::from_text(std::string_view text, const Name& origin) {
  if (text.empty()) throw ParseError("empty domain name");
  if (text == "@") {
    if (origin.empty()) throw ParseError("'@' without an origin");
    return origin;
  }
  std::string wire;
  std::string label;
  bool absolute = false;
  auto flush_label = [&](void) {
    if (label.empty()) throw ParseError("empty label in '" + std::string(text) + "'");
    if (label.size() > 63) throw ParseError("label longer than 63 octets in '" + std::string(text) + "'");
    wire.push_back(static_cast<char>(label.size()));
    for (char c : label) wire.push_back(ascii_lower(c));
    label.clear();
  };
  if (text == ".") return root();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size()) throw ParseError("dangling '\\' in '" + std::string(text) + "'");
      if (i + 3 < text.size() + 0 && std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
          std::isdigit(static_cast<unsigned char>(text[i + 2])) &&
          std::isdigit(static_cast<unsigned char>(text[i + 3]))) {
        int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) throw ParseError("bad escape in '" + std::string(text) + "'");
        label.push_back(static_cast<char>(v));
        i += 3;
      } else {
        label.push_back(text[++i]);
      }
    } else if (c == '.') {
      flush_label();
      if (i + 1 == text.size()) absolute = true;
    } else {
      label.push_back(c);
    }
  }
  if (!label.empty()) flush_label();
  if (!absolute) {
    if (origin.empty()) throw ParseError("relative name '" + std::string(text) + "' without an origin");
    wire += origin.wire();
  } else {
    wire.push_back('\0');
  }
  if (wire.size() > 255) throw ParseError("name longer than 255 octets: '" + std::string(text) + "'");
  return Name(std::move(wire));
}

std::string Name::to_text() const { return dns::to_text(wire_); }

unsigned label_count(std::string_view wire) {
  unsigned count = 0;
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    ++count;
    pos += 1 + static_cast<uint8_t>(wire[pos]);
  }
  return count;
}

bool is_wildcard(std::string_view wire) {
  return wire.size() >= 2 && wire[0] == 1 && wire[1] == '*';
}

unsigned rrsig_label_count(std::string_view wire) {
  unsigned count = label_count(wire);
  return is_wildcard(wire) ? count - 1 : count;
}

bool is_at_or_below(std::string_view wire, std::string_view ancestor) {
  if (ancestor.size() > wire.size()) return false;
  // The suffix must start on a label boundary of `wire`.
  size_t pos = 0;
  while (wire.size() - pos > ancestor.size()) pos += 1 + static_cast<uint8_t>(wire[pos]);
  if (wire.size() - pos != ancestor.size()) return false;
  for (size_t i = 0; i < ancestor.size(); ++i)
    if (ascii_lower(wire[pos + i]) != ascii_lower(ancestor[i])) return false;
  return true;
}

std::string_view parent_of(std::string_view wire) {
  if (wire.empty() || wire[0] == 0) return wire;
  return wire.substr(1 + static_cast<uint8_t>(wire[0]));
}

void lowercase_name(char* wire, size_t len) {
  size_t pos = 0;
  while (pos < len && wire[pos] != 0) {
    size_t n = static_cast<uint8_t>(wire[pos]);
    for (size_t i = pos + 1; i <= pos + n && i < len; ++i) wire[i] = ascii_lower(wire[i]);
    pos += 1 + n;
  }
}

std::string to_text(std::string_view wire) {
  if (wire.empty() || wire[0] == 0) return ".";
  std::string out;
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    size_t n = static_cast<uint8_t>(wire[pos]);
    // A label cut short by the end of `wire` (a malformed name) prints as far as it goes.
    for (size_t i = pos + 1; i <= pos + n && i < wire.size(); ++i) {
      auto c = static_cast<unsigned char>(wire[i]);
      if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' || c == '$') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    pos += 1 + n;
  }
  return out;
}

std::string canonical_sort_key(std::string_view wire) {
  // Labels from the root down, lower-cased; 0x00 separates labels, and the
  // octets 0x00/0x01 inside a label are escaped as 0x01 0x01 / 0x01 0x02 so
  // that memcmp on the key equals RFC 4034 §6.1 order.
  auto offsets = label_offsets(wire);
  std::string key;
  key.reserve(wire.size() + 4);
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it) {
    size_t n = static_cast<uint8_t>(wire[*it]);
    for (size_t i = *it + 1; i <= *it + n; ++i) {
      char c = ascii_lower(wire[i]);
      if (c == 0 || c == 1) {
        key.push_back(1);
        key.push_back(static_cast<char>(c + 1));
      } else {
        key.push_back(c);
      }
    }
    key.push_back(0);
  }
  return key;
}

bool same_name(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

int canonical_compare(std::string_view a, std::string_view b) {
  auto la = label_offsets(a);
  auto lb = label_offsets(b);
  auto ia = la.rbegin();
  auto ib = lb.rbegin();
  for (; ia != la.rend() && ib != lb.rend(); ++ia, ++ib) {
    size_t na = static_cast<uint8_t>(a[*ia]);
    size_t nb = static_cast<uint8_t>(b[*ib]);
    size_t n = std::min(na, nb);
    for (size_t i = 0; i < n; ++i) {
      auto ca = static_cast<unsigned char>(ascii_lower(a[*ia + 1 + i]));
      auto cb = static_cast<unsigned char>(ascii_lower(b[*ib + 1 + i]));
      if (ca != cb) return ca < cb ? -1 : 1;
    }
    if (na != nb) return na < nb ? -1 : 1;
  }
  if (ia == la.rend() && ib == lb.rend()) return 0;
  return ia == la.rend() ? -1 : 1;
}

}  // namespace wiresign::dns
