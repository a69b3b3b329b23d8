// The fuzz harnesses' entry points (one per input format wiresign reads from
// outside). libFuzzer drives each through LLVMFuzzerTestOneInput in a
// WIRESIGN_FUZZ build; replay_test.cpp calls them on every corpus and
// regression file in the normal and sanitizer builds.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wiresign::fuzz {

// Each returns 0 and aborts (through a sanitizer or an uncaught exception) on a bug.
int fuzz_message(const uint8_t* data, size_t size);    // xfr::parse_message and build_message
int fuzz_transfer(const uint8_t* data, size_t size);   // AXFR/IXFR answer streams and apply_ixfr
int fuzz_tsig(const uint8_t* data, size_t size);       // xfr::tsig_verify (and tsig_sign)
int fuzz_zone_file(const uint8_t* data, size_t size);  // dns::ZoneReader
int fuzz_config(const uint8_t* data, size_t size);     // conf::parse_config

}  // namespace wiresign::fuzz

// In a libFuzzer build, makes `function` the target of this executable.
#ifdef WIRESIGN_LIBFUZZER
#define WIRESIGN_FUZZ_TARGET(function)                                           \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {      \
    return wiresign::fuzz::function(data, size);                                 \
  }
#else
#define WIRESIGN_FUZZ_TARGET(function)
#endif
