#!/usr/bin/env bash
# Benchmark (not a test): sign one generated zone with wiresign, ldns-signzone,
# BIND's dnssec-signzone and Knot's kzonesign, all ECDSA P-256 with NSEC3
# (0 extra iterations, no salt, RFC 9276), in one run on one machine. Reports
# per signer: wall and CPU seconds, peak RSS, RRSIGs written, signatures per
# second, and that rate as a share of `openssl speed -multi $(nproc) ecdsap256`
# measured in the same run. Each output is validated once (ldns-verify-zone).
#
# usage: sign_bench.sh [--hsm] [--no-verify] [--signers "wiresign ldns bind knot"] [NAMES]
#   NAMES          zone size for tools/gen_zone.py (default $BENCH_NAMES or 1000000)
#   --hsm          also sign with wiresign using a SoftHSM keystore, and measure
#                  SoftHSM's own C_Sign rate (tests/bench/pkcs11_sign_rate) to compare
#   --no-verify    skip the validation of the outputs
# Env: WIRESIGN (default: build/src/wiresign or build/wiresign), WIRESIGN_SOURCE_DIR,
#      BENCH_TIMEOUT (seconds per signer, default 3600), VERIFY_TIMEOUT (default 1800),
#      PKCS11_SIGN_RATE (default: tests/bench/pkcs11_sign_rate in WIRESIGN's build dir),
#      KEEP_TMP=1 keeps the work directory.
set -euo pipefail

src=${WIRESIGN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
names=${BENCH_NAMES:-1000000}
hsm=false
verify=true
signers="wiresign ldns bind knot"
while [[ $# -gt 0 ]]; do
  case $1 in
    --hsm) hsm=true ;;
    --no-verify) verify=false ;;
    --signers) signers=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "sign_bench.sh: unknown option $1" >&2; exit 2 ;;
    *) names=$1 ;;
  esac
  shift
done
bench_timeout=${BENCH_TIMEOUT:-3600}
verify_timeout=${VERIFY_TIMEOUT:-1800}
threads=$(nproc)
origin=example.test.

if [[ -z ${WIRESIGN:-} ]]; then
  for candidate in "$PWD/src/wiresign" "$PWD/wiresign" "$src/build/src/wiresign" "$src/build/wiresign"; do
    if [[ -x $candidate ]]; then WIRESIGN=$candidate; break; fi
  done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wiresign-bench.XXXXXX")
cleanup() { if [[ -n ${KEEP_TMP:-} ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }
# calc FORMAT EXPRESSION: floating-point arithmetic without bc; 0 on division by zero.
calc() { awk "BEGIN { x = 0; d = 1; $2; printf \"$1\", x }" 2>/dev/null || echo 0; }

# --- the zone -------------------------------------------------------------------
zone=$tmp/example.test.zone
start=$(date +%s.%N)
timeout 600 python3 "$src/tools/gen_zone.py" example.test "$names" > "$zone"
say "zone: $names names, $(wc -l < "$zone") records, $(du -h "$zone" | cut -f1), generated in $(calc %.1f "x = $(date +%s.%N) - $start") s"

# --- the machine's signing speed ------------------------------------------------
say "openssl speed -seconds 3 -multi $threads ecdsap256 ..."
openssl_rate=$(timeout 120 openssl speed -seconds 3 -multi "$threads" ecdsap256 2>/dev/null |
  awk '/ecdsa \(nistp256\)/ { rate = $(NF-1) } END { print rate }')
if [[ -z $openssl_rate ]]; then
  say "could not parse openssl speed output; ratios omitted"
  openssl_rate=0
fi
say "openssl: $openssl_rate ECDSA P-256 signatures/s on $threads cores"

rows=()
last_rate=0  # sig/s of the last run_signer, 0 if it failed

# count_rrsigs FILE: RRSIG records in a zone file with one record per line
# (the type is the 3rd or 4th field; RRSIG in an NSEC bitmap is further right).
count_rrsigs() {
  awk '{ for (i = 2; i <= 4 && i <= NF; i++) if ($i == "RRSIG") { n++; break } } END { print n + 0 }' "$1"
}

# run_signer LABEL OUTPUT COMMAND...: time COMMAND, count and validate OUTPUT,
# and add a row to the table.
run_signer() {
  local label=$1 output=$2 rc wall user sys rss rrsigs rate cpu_rate share result
  shift 2
  last_rate=0
  say "$label: $*"
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/$label.time" \
    timeout --kill-after=10 "$bench_timeout" "$@" > "$tmp/$label.log" 2>&1 && rc=0 || rc=$?
  read -r wall user sys rss < <(tail -n1 "$tmp/$label.time")
  if [[ $rc -ne 0 || ! -s $output ]]; then
    say "$label: FAILED (exit $rc); last lines of its output:"
    tail -n 5 "$tmp/$label.log" >&2
    rows+=("$(printf '%-18s %8s %8s %8s %10s %10s %10s %9s  %s' "$label" "$wall" "-" "-" "-" "-" "-" "-" "failed (exit $rc)")")
    return 0
  fi
  rrsigs=$(count_rrsigs "$output")
  rate=$(calc %d "if ($wall > 0) x = $rrsigs / $wall")
  cpu_rate=$(calc %d "if ($user + $sys > 0) x = $rrsigs / ($user + $sys)")
  last_rate=$rate
  share=-
  [[ $openssl_rate != 0 ]] && share=$(calc %.1f "x = 100 * $rate / $openssl_rate")%
  result=not-checked
  if $verify; then
    say "$label: ldns-verify-zone ..."
    if timeout --kill-after=10 "$verify_timeout" ldns-verify-zone "$output" > "$tmp/$label.verify" 2>&1; then
      result=valid
    elif [[ $? -eq 124 ]]; then
      result="verify timed out"
    else
      result="INVALID: $(grep -m1 -i error "$tmp/$label.verify" || tail -n1 "$tmp/$label.verify")"
    fi
  fi
  rows+=("$(printf '%-18s %8s %8.2f %8d %10d %10d %10d %9s  %s' "$label" "$wall" \
    "$(calc %.2f "x = $user + $sys")" "$((rss / 1024))" "$rrsigs" "$rate" "$cpu_rate" "$share" "$result")")
}

for signer in $signers; do
  case $signer in
    wiresign)
      if [[ -z ${WIRESIGN:-} || ! -x $WIRESIGN ]]; then
        say "wiresign: binary not found (set WIRESIGN); skipped"
        continue
      fi
      mkdir -p "$tmp/wiresign-keys"
      run_signer wiresign "$tmp/wiresign.signed" "$WIRESIGN" sign --origin $origin --input "$zone" \
        --output "$tmp/wiresign.signed" --keys "$tmp/wiresign-keys" --algorithm ecdsap256sha256 \
        --nsec3 --threads "$threads"
      ;;
    ldns)
      # Single-threaded; -n NSEC3, -t 0 iterations, no -s: empty salt.
      mkdir -p "$tmp/ldns-keys"
      ksk=$(cd "$tmp/ldns-keys" && timeout 60 ldns-keygen -a ECDSAP256SHA256 -k $origin)
      zsk=$(cd "$tmp/ldns-keys" && timeout 60 ldns-keygen -a ECDSAP256SHA256 $origin)
      run_signer ldns-signzone "$tmp/ldns.signed" ldns-signzone -n -t 0 -o $origin \
        -f "$tmp/ldns.signed" "$zone" "$tmp/ldns-keys/$ksk" "$tmp/ldns-keys/$zsk"
      ;;
    bind)
      # -3 - : NSEC3 without salt, -H 0 iterations; -n threads; -O full: one
      # record per line; -P: no post-sign verification (timed separately below).
      mkdir -p "$tmp/bind-keys"
      timeout 60 dnssec-keygen -q -K "$tmp/bind-keys" -a ECDSAP256SHA256 -f KSK $origin > /dev/null
      timeout 60 dnssec-keygen -q -K "$tmp/bind-keys" -a ECDSAP256SHA256 $origin > /dev/null
      run_signer dnssec-signzone "$tmp/bind.signed" dnssec-signzone -q -P -S -K "$tmp/bind-keys" \
        -3 - -H 0 -n "$threads" -O full -o $origin -f "$tmp/bind.signed" "$zone"
      ;;
    knot)
      # kzonesign generates the keys in a fresh KASP database on first use.
      mkdir -p "$tmp/knot/out"
      cat > "$tmp/knot/knot.conf" <<EOF
server:
    rundir: $tmp/knot
database:
    storage: $tmp/knot
    kasp-db: $tmp/knot/kasp
policy:
  - id: bench
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
    signing-threads: $threads
template:
  - id: default
    storage: $tmp/knot
zone:
  - domain: $origin
    file: $zone
    dnssec-signing: on
    dnssec-policy: bench
EOF
      run_signer kzonesign "$tmp/knot/out/example.test.zone" \
        kzonesign -c "$tmp/knot/knot.conf" -o "$tmp/knot/out" $origin
      ;;
    *) say "unknown signer '$signer' (wiresign, ldns, bind, knot)"; exit 2 ;;
  esac
done

if $hsm; then
  if [[ -z ${WIRESIGN:-} || ! -x $WIRESIGN ]]; then
    say "--hsm: wiresign binary not found; skipped"
  else
    mkdir -p "$tmp/hsm/tokens"
    printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$tmp" \
      > "$tmp/hsm/softhsm2.conf"
    export SOFTHSM2_CONF=$tmp/hsm/softhsm2.conf
    timeout 60 softhsm2-util --init-token --free --label wiresign --pin 1234 --so-pin 5678 > /dev/null
    (umask 077 && echo 1234 > "$tmp/hsm/hsm.pin")
    cat > "$tmp/hsm/wiresign.yaml" <<EOF
keystores:
  - {name: hsm, backend: pkcs11, module: /usr/lib/softhsm/libsofthsm2.so, token-label: wiresign, pin-file: $tmp/hsm/hsm.pin}
policies:
  - name: bench
    keystore: hsm
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
EOF
    run_signer wiresign+softhsm "$tmp/hsm.signed" "$WIRESIGN" sign --origin $origin --input "$zone" \
      --output "$tmp/hsm.signed" --config "$tmp/hsm/wiresign.yaml" --policy bench --threads "$threads"
    # SoftHSM's own rate (C_SignInit + C_Sign over a fixed digest, one session per
    # thread) is the ceiling for wiresign+softhsm; its key is for zone bench.rate.
    hsm_rate=0
    hsm_note="pkcs11_sign_rate not found (set PKCS11_SIGN_RATE)"
    if [[ -z ${PKCS11_SIGN_RATE:-} ]]; then
      for candidate in "$(dirname "$WIRESIGN")/../tests/bench/pkcs11_sign_rate" \
          "$(dirname "$WIRESIGN")/tests/bench/pkcs11_sign_rate" "$PWD/tests/bench/pkcs11_sign_rate" \
          "$src/build/tests/bench/pkcs11_sign_rate"; do
        if [[ -x $candidate ]]; then PKCS11_SIGN_RATE=$candidate; break; fi
      done
    fi
    if [[ -n ${PKCS11_SIGN_RATE:-} && -x $PKCS11_SIGN_RATE ]]; then
      say "pkcs11_sign_rate: $threads threads, 5 s ..."
      if timeout 120 "$PKCS11_SIGN_RATE" --module /usr/lib/softhsm/libsofthsm2.so --token-label wiresign \
          --pin-file "$tmp/hsm/hsm.pin" --algorithm ecdsap256sha256 --threads "$threads" --seconds 5 \
          > "$tmp/hsm/sign_rate.log" 2>&1; then
        hsm_rate=$(awk '/^pkcs11 C_Sign rate:/ { print $4 }' "$tmp/hsm/sign_rate.log")
        hsm_note=
        if [[ -z $hsm_rate ]]; then hsm_rate=0; hsm_note="could not parse pkcs11_sign_rate output"; fi
      else
        hsm_note="pkcs11_sign_rate failed: $(tail -n1 "$tmp/hsm/sign_rate.log")"
      fi
    fi
    if [[ $hsm_rate != 0 ]]; then
      hsm_share=-
      [[ $last_rate != 0 ]] && hsm_share=$(calc %.1f "x = 100 * $last_rate / $hsm_rate")%
      hsm_summary="SoftHSM C_Sign rate ($threads threads): $hsm_rate sign/s; wiresign+softhsm: $last_rate sig/s = $hsm_share of it (target >= 70%)"
    else
      hsm_summary="SoftHSM C_Sign rate: not measured ($hsm_note)"
    fi
    say "$hsm_summary"
  fi
fi

echo
echo "zone: $names names ($(wc -l < "$zone") records); $threads threads; ECDSA P-256; NSEC3 0 iterations, no salt"
echo "openssl speed -multi $threads ecdsap256: $openssl_rate sign/s"
printf '%-18s %8s %8s %8s %10s %10s %10s %9s  %s\n' signer wall_s cpu_s rss_MB RRSIGs sig/s sig/cpu_s %openssl output
for row in "${rows[@]}"; do echo "$row"; done
if [[ -n ${hsm_summary:-} ]]; then echo "$hsm_summary"; fi
