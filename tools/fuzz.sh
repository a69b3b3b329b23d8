#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/*_fuzz.cpp) with clang, ASan and
# UBSan in build-fuzz/, and runs each for SECONDS (default 60), starting from
# the seeds in tests/fuzz/corpus/<harness>/ and the earlier crashes in
# tests/fuzz/regressions/<harness>/. New inputs go to build-fuzz/corpus/, a
# crash to build-fuzz/crashes/<harness>/ (copy it into regressions/ with the
# fix, so that the fuzz_replay unit test replays it in CI).
# usage: tools/fuzz.sh [SECONDS] [HARNESS...]   (harnesses: message transfer tsig zone_file config)
# Env: FUZZ_JOBS (harnesses run at once, default: number of CPUs).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
harnesses=("$@")
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(message transfer tsig zone_file config)
jobs=${FUZZ_JOBS:-$(nproc)}

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRESIGN_FUZZ=ON \
  -DWIRESIGN_BENCH=OFF > /dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${harnesses[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local harness=$1 work=build-fuzz/corpus/$1 crashes=build-fuzz/crashes/$1 seeds=()
  mkdir -p "$work" "$crashes"
  for dir in tests/fuzz/corpus/$harness tests/fuzz/regressions/$harness; do
    [[ -d $dir ]] && seeds+=("$dir")
  done
  # -max_total_time bounds the run; -timeout flags an input slower than 10 s
  # (a hang); -rss_limit_mb flags runaway memory.
  local status=0
  timeout $((seconds + 120)) "build-fuzz/tests/fuzz/fuzz_$harness" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "${seeds[@]}" \
    > "build-fuzz/fuzz_$harness.log" 2>&1 || status=$?
  local execs time cov
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/fuzz_$harness.log" | grep -o '[0-9]*$' || echo "?")
  time=$(grep -o 'Done [0-9]* runs in [0-9]* second' "build-fuzz/fuzz_$harness.log" | awk '{print $5}' || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "build-fuzz/fuzz_$harness.log" | tail -1 || true)
  if [[ $status -eq 0 ]]; then
    printf '%-10s ok     %10s execs in %ss (%s)\n' "$harness" "$execs" "${time:-$seconds}" "$cov"
  else
    printf '%-10s FAILED %10s execs; see build-fuzz/fuzz_%s.log and %s\n' "$harness" "$execs" "$harness" "$crashes"
  fi
  return $status
}

failed=0
pids=()
for harness in "${harnesses[@]}"; do
  run_one "$harness" &
  pids+=($!)
  if [[ ${#pids[@]} -ge $jobs ]]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
