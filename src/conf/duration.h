// Durations as operators write them: "90d", "12h", "30m", "45s", "1w" or plain seconds.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace wiresign::conf {

// Seconds, or nullopt when the text is not a duration (or overflows 32 bits).
std::optional<uint32_t> parse_duration(std::string_view text);

}  // namespace wiresign::conf
