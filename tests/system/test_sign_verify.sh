#!/usr/bin/env bash
# `wiresign sign` output validates with BIND, ldns and Knot, for every
# algorithm x {NSEC, NSEC3, NSEC3 opt-out}, on a generated zone and on each
# zone in tests/data/edge/. Also checks what the validators do not:
#  - no input record lost; glue and occluded data kept but neither signed nor
#    in the NSEC/NSEC3 chain; empty non-terminals get NSEC3 but no NSEC
#  - NSEC/NSEC3 TTL = min(SOA TTL, SOA minimum) (RFC 9077); NSEC3PARAM "1 0 0 -"
#  - KSK signs the DNSKEY RRset, ZSK the rest; --csk: one key signs everything
#  - serial modes keep, increment, datecounter, unixtime
#  - a second run with the same --keys DIR reuses the keys; private key files
#    are mode 0600 and named after their key tag
#  - RRsets with mixed TTLs: a warning citing RFC 2181 §5.2, lowest TTL used
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, ALGORITHMS (space-separated),
# GEN_NAMES (default 2000), RSA_GEN_NAMES (default 1000), VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a algorithms <<< "${ALGORITHMS:-ecdsap256sha256 ecdsap384sha384 ed25519 rsasha256}"
modes=(nsec nsec3 optout)
gen_names=${GEN_NAMES:-2000}
rsa_gen_names=${RSA_GEN_NAMES:-1000}

bounded python3 "$SRC/tools/gen_zone.py" example.test "$gen_names" > "$TMP/gen.zone"
bounded python3 "$SRC/tools/gen_zone.py" example.test "$rsa_gen_names" > "$TMP/gen-rsa.zone"

# mode_args MODE: the denial options of `wiresign sign` for MODE.
mode_args() {
  case $1 in
    nsec) ;;
    nsec3) echo --nsec3 ;;
    optout) echo --nsec3 --opt-out ;;
  esac
}

# sign ORIGIN INPUT OUTPUT KEYDIR ARGS...: wiresign sign; stderr kept in
# OUTPUT.stderr. On failure records a FAIL with the error and returns 1.
sign() {
  local origin=$1 input=$2 output=$3 keys=$4 rc
  shift 4
  mkdir -p "$keys"
  wiresign sign --origin "$origin" --input "$input" --output "$output" --keys "$keys" "$@" \
    > "$output.stdout" 2> "$output.stderr" && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "wiresign sign --origin $origin --input $input $*: exit $rc: $(head -c 600 "$output.stderr")"
    return 1
  fi
}

# soa_serial FILE: the serial of the signed zone's SOA.
soa_serial() { records "$1" SOA | awk '{print $7}'; }

# --- every algorithm x denial mode, generated zone and edge zones -----------
for alg in "${algorithms[@]}"; do
  gen=$TMP/gen.zone
  [[ $alg == rsasha256 ]] && gen=$TMP/gen-rsa.zone
  for mode in "${modes[@]}"; do
    for zone in "$gen" "$DATA"/edge/*.zone; do
      name=$(basename "$zone" .zone)
      origin=$(zone_origin "$zone" example.test.)
      out=$TMP/$alg-$mode-$name.signed
      what="$alg $mode $name"
      # shellcheck disable=SC2046
      sign "$origin" "$zone" "$out" "$TMP/keys-$alg" --algorithm "$alg" $(mode_args "$mode") || continue
      check "$what: validates (dnssec-verify, ldns-verify-zone, kzonecheck)" verify_all "$origin" "$out"
      problems=$(check_signed "$origin" "$zone" "$out" "$mode" split 2>&1) || true
      if [[ -n $problems ]]; then fail "$what: $problems"; else pass "$what: zone contents"; fi
    done
  done
done

alg=ecdsap256sha256

# --- --csk: one key (flags 257) signs everything ------------------------------
for mode in nsec nsec3; do
  out=$TMP/csk-$mode.signed
  # shellcheck disable=SC2046
  if sign example.test. "$TMP/gen.zone" "$out" "$TMP/keys-csk" --algorithm $alg --csk $(mode_args $mode); then
    check "--csk $mode: validates" verify_all example.test. "$out" csk
    problems=$(check_signed example.test. "$TMP/gen.zone" "$out" "$mode" csk 2>&1) || true
    if [[ -n $problems ]]; then fail "--csk $mode: $problems"; else pass "--csk $mode: zone contents"; fi
  fi
done

# --- serial modes (the generated zone has serial 1) ---------------------------
out=$TMP/serial.signed
if sign example.test. "$TMP/gen.zone" "$out" "$TMP/keys-$alg" --algorithm $alg --serial keep; then
  serial=$(soa_serial "$out")
  check "--serial keep: serial $serial is 1" test "$serial" = 1
fi
if sign example.test. "$TMP/gen.zone" "$out" "$TMP/keys-$alg" --algorithm $alg --serial increment; then
  serial=$(soa_serial "$out")
  check "--serial increment: serial $serial is 2" test "$serial" = 2
fi
before=$(date -u +%Y%m%d)
if sign example.test. "$TMP/gen.zone" "$out" "$TMP/keys-$alg" --algorithm $alg --serial datecounter; then
  serial=$(soa_serial "$out")
  after=$(date -u +%Y%m%d)
  check "--serial datecounter: serial $serial is ${before}nn (input 1 is older than today)" \
    grep -Eq "^(${before}|${after})[0-9]{2}\$" <<< "$serial"
fi
# An input already at today's date counter: the counter goes up by one.
today=$(date -u +%Y%m%d)
sed "s/ SOA ns1 hostmaster 1 / SOA ns1 hostmaster ${today}05 /" "$TMP/gen.zone" > "$TMP/gen-today.zone"
if sign example.test. "$TMP/gen-today.zone" "$out" "$TMP/keys-$alg" --algorithm $alg --serial datecounter; then
  serial=$(soa_serial "$out")
  check "--serial datecounter: input ${today}05 gives ${today}06 (got $serial)" test "$serial" = "${today}06"
fi
start=$(date +%s)
if sign example.test. "$TMP/gen.zone" "$out" "$TMP/keys-$alg" --algorithm $alg --serial unixtime; then
  serial=$(soa_serial "$out")
  end=$(date +%s)
  check "--serial unixtime: $start <= serial $serial <= $end" \
    test "$serial" -ge "$start" -a "$serial" -le "$end"
fi

# --- keys: created once in BIND format, mode 0600, reused -------------------
keys=$TMP/keys-reuse
first=$TMP/reuse-1.signed
second=$TMP/reuse-2.signed
if sign example.test. "$TMP/gen.zone" "$first" "$keys" --algorithm $alg; then
  listing=$(cd "$keys" && ls -1)
  count_key=$(find "$keys" -name 'Kexample.test.+013+*.key' | wc -l)
  count_private=$(find "$keys" -name 'Kexample.test.+013+*.private' | wc -l)
  check "--keys: a KSK and a ZSK in BIND format (found: $(echo $listing))" \
    test "$count_key" = 2 -a "$count_private" = 2
  for f in "$keys"/*.private; do
    perm=$(stat -c %a "$f")
    check "$(basename "$f") has mode 0600 (is $perm)" test "$perm" = 600
  done
  # The tag in each file name is the key tag of the DNSKEY in the file.
  for f in "$keys"/*.key; do
    read -r flags proto algnum key < <(grep -v '^;' "$f" | sed -n 's/.*[[:space:]]DNSKEY[[:space:]]\+//p')
    tag=$(keytag "$flags" "$proto" "$algnum" "$key")
    check "$(basename "$f"): key tag $tag in the file name" \
      test "$(basename "$f" .key)" = "Kexample.test.+$(printf %03d "$algnum")+$(printf %05d "$tag")"
  done
  if sign example.test. "$TMP/gen.zone" "$second" "$keys" --algorithm $alg; then
    check "second run with the same --keys DIR creates no files" test "$(cd "$keys" && ls -1)" = "$listing"
    check "second run with the same --keys DIR uses the same DNSKEY set" \
      test "$(records "$first" DNSKEY | sort)" = "$(records "$second" DNSKEY | sort)"
    check "second run signs with the same key tags" \
      test "$(rrsig_tags "$first" '!NONE')" = "$(rrsig_tags "$second" '!NONE')"
  fi
fi

# --- threads: the same zone contents with 1 and 2 threads ---------------------
for threads in 1 2; do
  out=$TMP/threads-$threads.signed
  if sign example.test. "$TMP/gen.zone" "$out" "$TMP/keys-$alg" --algorithm $alg --nsec3 --serial keep --threads $threads; then
    check "--threads $threads: validates" verify_all example.test. "$out"
  fi
done
if [[ -s $TMP/threads-1.signed && -s $TMP/threads-2.signed ]]; then
  check "--threads 1 and 2 give the same records apart from signatures" \
    test "$(canonical "$TMP/threads-1.signed" | awk '$4 != "RRSIG"' | sort)" = \
         "$(canonical "$TMP/threads-2.signed" | awk '$4 != "RRSIG"' | sort)"
fi

# --- TTL normalisation warning (RFC 2181 §5.2) --------------------------------
zone=$DATA/edge/ttl_mismatch.zone
out=$TMP/ttl.signed
if sign ttl.test. "$zone" "$out" "$TMP/keys-$alg" --algorithm $alg; then
  err=$(cat "$out.stderr")
  check "mixed TTLs: a warning on stderr naming TTL and RFC 2181 §5.2 (stderr: ${err:0:300})" \
    grep -q 'TTL.*RFC 2181\|RFC 2181.*TTL' "$out.stderr"
  check "mixed TTLs: the warning names www.ttl.test" grep -qi 'www\.ttl\.test' "$out.stderr"
  check "mixed TTLs: the warning names txt.ttl.test" grep -qi 'txt\.ttl\.test' "$out.stderr"
  check "mixed TTLs: no warning for ok.ttl.test (different RRsets)" \
    bash -c "! grep -qi 'ok\.ttl\.test' '$out.stderr'"
  check "mixed TTLs: www A records all have TTL 300" \
    test "$(records "$out" A | awk '$1 == "www.ttl.test." {print $2}' | sort -u)" = 300
  check "mixed TTLs: txt TXT records all have TTL 60" \
    test "$(records "$out" TXT | awk '$1 == "txt.ttl.test." {print $2}' | sort -u)" = 60
  check "mixed TTLs: the RRSIG over www A has original TTL 300" \
    test "$(records "$out" RRSIG | awk '$1 == "www.ttl.test." && $5 == "A" {print $8}')" = 300
fi
out=$TMP/$alg-nsec-all.signed
if [[ -e $out.stderr ]]; then
  check "no RFC 2181 warning for a zone without mixed TTLs" bash -c "! grep -q 'RFC 2181' '$out.stderr'"
fi

finish
