// Fuzzes the YAML config reader: any text gives a Config or a ConfigError
// listing problems with file:line, nothing else.
#include <string>

#include "conf/config.h"
#include "fuzz/fuzz_targets.h"

namespace wiresign::fuzz {

int fuzz_config(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    conf::Config config = conf::parse_config(text, "/nonexistent/fuzz/wiresign.yaml");
    for (const auto& zone : config.zones) (void)config.find_zone(zone.name);
  } catch (const conf::ConfigError&) {
  }
  return 0;
}

}  // namespace wiresign::fuzz

WIRESIGN_FUZZ_TARGET(fuzz_config)
