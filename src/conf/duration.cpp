// Durations as operators write them in the config: "14d", "12h", "1d12h", "2w"
// or plain seconds ("3600"), checked to fit the 32-bit seconds RRSIG times use.
#include "conf/duration.h"

#include <limits>

namespace wiresign::conf {
namespace {

// Seconds per unit, or 0 for a character that is not a unit.
uint64_t unit_seconds(char unit) {
  switch (unit) {
    case 'w': return 7 * 86400;
    case 'd': return 86400;
    case 'h': return 3600;
    case 'm': return 60;
    case 's': return 1;
    default: return 0;
  }
}

}  // namespace

std::optional<uint32_t> parse_duration(std::string_view text) {
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  // Units must come largest first, each at most once ("1d12h", not "12h1d" or
  // "1h1h"): anything else is more likely a typo than an intent.
  uint64_t previous_unit = std::numeric_limits<uint64_t>::max();
  size_t pos = 0;
  while (pos < text.size()) {
    uint64_t number = 0;
    size_t digits = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      number = number * 10 + static_cast<uint64_t>(text[pos] - '0');
      if (number > kMax) return std::nullopt;
    }
    if (digits == 0) return std::nullopt;  // "-1", "d", "1dd"
    uint64_t unit = 1;
    if (pos < text.size()) {
      unit = unit_seconds(text[pos]);
      if (unit == 0 || unit >= previous_unit) return std::nullopt;
      previous_unit = unit;
      ++pos;
    } else if (previous_unit != std::numeric_limits<uint64_t>::max()) {
      // "1d30" has no unit on its last part; seconds would be a guess.
      return std::nullopt;
    }
    total += number * unit;  // number <= 2^32 and unit < 2^20: cannot wrap
    if (total > kMax) return std::nullopt;
  }
  return static_cast<uint32_t>(total);
}

std::string duration_text(uint64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  for (auto [unit, size] : {std::pair{"d", 86400u}, std::pair{"h", 3600u}, std::pair{"m", 60u}, std::pair{"s", 1u}}) {
    if (seconds >= size) {
      out += std::to_string(seconds / size) + unit;
      seconds %= size;
    }
  }
  return out;
}

}  // namespace wiresign::conf
