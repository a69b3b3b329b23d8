#!/usr/bin/env bash
# `wiresign sign` rejects each zone in tests/data/broken/ and publishes nothing:
#  - exit status 1
#  - stderr names the place: "broken/<name>.zone:<line>:" with the line from
#    the file's "; expect-line: N" comment, and matches its "; expect: REGEX"
#    comment (an extended regular expression, case-insensitive)
#  - the --output file is not created, and an existing output file (the last
#    good version) is left byte-for-byte untouched; no temporary files are left
#    next to it
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$TMP/keys"
shopt -s nullglob
zones=("$DATA"/broken/*.zone)
check "tests/data/broken/ has zones" test ${#zones[@]} -gt 0

for zone in "${zones[@]}"; do
  name=$(basename "$zone")
  origin=$(zone_origin "$zone" broken.test.)
  expect=$(sed -n '1,5s/^; *expect: *//p' "$zone" | head -n1)
  line=$(sed -n '1,5s/^; *expect-line: *\([0-9]*\).*/\1/p' "$zone" | head -n1)
  if [[ -z $expect || -z $line ]]; then
    fail "$name: no '; expect:' or '; expect-line:' comment"
    continue
  fi

  # 1. No output file before: none after.
  out_dir=$TMP/out-${name%.zone}
  mkdir -p "$out_dir"
  out=$out_dir/signed.zone
  wiresign sign --origin "$origin" --input "$zone" --output "$out" --keys "$TMP/keys" \
    > "$out_dir/stdout" 2> "$out_dir/stderr" && rc=0 || rc=$?
  err=$(head -c 400 "$out_dir/stderr")
  check "$name: exit status 1 (got $rc; stderr: $err)" test "$rc" = 1
  check "$name: stderr names broken/$name:$line: (stderr: $err)" \
    grep -qF "broken/$name:$line:" "$out_dir/stderr"
  check "$name: stderr matches /$expect/ (stderr: $err)" grep -qEi -- "$expect" "$out_dir/stderr"
  check "$name: no output file created" test ! -e "$out"
  check "$name: nothing left in the output directory ($(cd "$out_dir" && ls -A | tr '\n' ' '))" \
    test "$(cd "$out_dir" && ls -A | grep -v -x -e stdout -e stderr || true)" = ""

  # 2. An existing output file (the last good version) stays as it was.
  printf '; the last good version\nbroken.test. 1 IN TXT "keep me"\n' > "$out"
  before=$(sha256sum < "$out")
  wiresign sign --origin "$origin" --input "$zone" --output "$out" --keys "$TMP/keys" \
    > /dev/null 2> "$out_dir/stderr2" && rc=0 || rc=$?
  check "$name: exit status 1 with an existing output file (got $rc)" test "$rc" = 1
  check "$name: existing output file left untouched" test "$(sha256sum < "$out")" = "$before"
  check "$name: nothing else left in the output directory" \
    test "$(cd "$out_dir" && ls -A | grep -v -x -e stdout -e stderr -e stderr2 -e signed.zone || true)" = ""
done

finish
