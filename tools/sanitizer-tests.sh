#!/usr/bin/env bash
# Builds wiresign with AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ and runs every test (unit and system) against that build. Any
# memory error, leak or undefined behaviour fails the run.
# usage: tools/sanitizer-tests.sh   (from the source tree; the CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRESIGN_WERROR=ON -DWIRESIGN_SANITIZE=ON \
  -DWIRESIGN_BENCH=OFF
cmake --build build-asan -j"$(nproc)"
# Full unwinding, so that the one suppression (SoftHSM's own leak, see the
# file) can recognise its stack.
export ASAN_OPTIONS=fast_unwind_on_malloc=0:detect_leaks=1
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Instrumented code is several times slower: the kill -9 test gets a smaller
# zone and fewer rounds, so that its kills still land before and after signing.
export CRASH_NAMES=2000 CRASH_ROUNDS=8
# The signing test's generated zones are smaller too: every algorithm and
# denial mode still runs through the instrumented signer and the validators.
export GEN_NAMES=500 RSA_GEN_NAMES=250
# The fair-scheduling test compresses its timings to seconds, which an
# instrumented build cannot keep: it skips itself (exit 77) here.
export WIRESIGN_INSTRUMENTED=1
ctest --test-dir build-asan --output-on-failure -j2

# ThreadSanitizer over the daemon: its unit tests (the scheduler, the key
# manager, incremental signing, the change log) and the xfr ones (the server
# and zone table it shares between threads), then the system tests that run
# wiresignd's threads at once (transfers in and out, NOTIFY, re-sign slices,
# the control API). A data race stops the daemon (halt_on_error) and its
# report, written to build-tsan/reports, fails the run.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRESIGN_WERROR=ON -DWIRESIGN_TSAN=ON \
  -DWIRESIGN_BENCH=OFF
cmake --build build-tsan -j"$(nproc)" --target unit_daemon unit_xfr wiresignd wiresign
# Reports go to files: a race found while a test stops the daemon (when its
# exit status is no longer looked at) must fail the run too.
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
reports=$PWD/build-tsan/reports
rm -rf "$reports" && mkdir -p "$reports"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan
tsan_failed() {
  echo "sanitizer-tests: ThreadSanitizer run failed; its reports:" >&2
  cat "$reports"/tsan.* >&2 2>/dev/null || true
  exit 1
}
build-tsan/tests/unit_daemon || tsan_failed
build-tsan/tests/unit_xfr || tsan_failed
ctest --test-dir build-tsan --output-on-failure -j2 \
  -R '^system\.test_(daemon_pipeline|daemon_follow_primary|daemon_bind_primary|control|daemon_serve|daemon_tcp_limits|daemon_hostile_primary|zone_add_remove|tsig)$' || tsan_failed
if compgen -G "$reports/tsan.*" > /dev/null; then tsan_failed; fi
echo "sanitizer-tests: no ThreadSanitizer report"
