// Replays every seed in tests/fuzz/corpus/<harness>/ and every input that
// once crashed a harness, kept in tests/fuzz/regressions/<harness>/, through
// the harness entry points: CI runs these under the normal and the
// ASan+UBSan builds without building the libFuzzer targets.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs(const std::string& harness) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    fs::path dir = fs::path(WIRESIGN_SOURCE_DIR) / "tests/fuzz" / kind / harness;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') files.push_back(entry.path());
  }
  return files;
}

// Runs every input of `harness` (the folder name under corpus/ and regressions/).
void replay(const std::string& harness, int (*run)(const uint8_t*, size_t)) {
  auto files = inputs(harness);
  EXPECT_FALSE(files.empty()) << "no corpus for " << harness;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A bug aborts the whole test (sanitizer report or std::abort): name the input first.
    std::fprintf(stderr, "replaying %s\n", path.c_str());
    EXPECT_EQ(run(data.data(), data.size()), 0);
  }
}

TEST(FuzzReplay, MessageInputsRunClean) { replay("message", wiresign::fuzz::fuzz_message); }
TEST(FuzzReplay, TransferInputsRunClean) { replay("transfer", wiresign::fuzz::fuzz_transfer); }
TEST(FuzzReplay, TsigInputsRunClean) { replay("tsig", wiresign::fuzz::fuzz_tsig); }
TEST(FuzzReplay, ZoneFileInputsRunClean) { replay("zone_file", wiresign::fuzz::fuzz_zone_file); }
TEST(FuzzReplay, ConfigInputsRunClean) { replay("config", wiresign::fuzz::fuzz_config); }

}  // namespace
