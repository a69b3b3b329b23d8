// Durations as operators write them: "90d", "12h", "30m", "45s", "1w" or plain seconds.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wiresign::conf {

// Seconds, or nullopt when the text is not a duration (or overflows 32 bits).
std::optional<uint32_t> parse_duration(std::string_view text);
// The other way, as operators write durations: "5d", "1d2h", "45m", "0s".
std::string duration_text(uint64_t seconds);

}  // namespace wiresign::conf
