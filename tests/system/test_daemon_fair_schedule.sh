#!/usr/bin/env bash
# Fair scheduling in wiresignd (issue 9), with compressed timings: one big
# zone (20,000 names by default, about 30 s to sign and check here) with
# signatures valid 150 s and renewed 75 s before they expire, and 20 small
# zones valid 40 s and renewed 20 s before, on a pool of only two workers
# (max-concurrent-zones: 2). While the big zone is signed in full and later
# re-signed, the small zones keep being re-signed on time, and the big
# zone's re-sign starts early enough to finish before its own refresh time:
#  - judged from the wire: every zone is transferred (AXFR) once a second
#    and its least (earliest RRSIG expiration - now) never falls more than
#    5 s below its policy's refresh
#  - every small zone was re-signed several times meanwhile, and a small
#    zone's AXFR validates with ldns-verify-zone at the end
# Env: WIRESIGN (wiresignd beside it), WIRESIGN_SOURCE_DIR, BIG_NAMES, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
big_names=${BIG_NAMES:-20000}
# Timings compressed to seconds leave no room for an instrumented build's
# slowness (its signings alone outrun the refresh time): the scheduling is
# judged on the normal build; the sanitizer run still covers the scheduler
# through the unit tests and every other daemon test.
if [[ -n ${WIRESIGN_INSTRUMENTED:-} ]]; then
  echo "test_daemon_fair_schedule: skipped (timing test; WIRESIGN_INSTRUMENTED is set)"
  exit 77
fi
small_zones=20
small_refresh_s=20
big_refresh_s=75
tolerance_s=5
watch_s=150      # the small zones, from their first signing
big_watch_s=90   # the big zone, from its first signing: past its first re-sign
port=$(random_port)
probe=$SRC/tests/bench/scale_probe.py

bounded python3 "$SRC/tools/gen_zone.py" big.test. "$big_names" > "$TMP/big.zone"
bounded python3 "$SRC/tools/gen_zone.py" small.test. 50 > "$TMP/small.template"
{
  cat <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
  max-concurrent-zones: 2
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: fast
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 40s, refresh: ${small_refresh_s}s, jitter: 4s, inception-offset: 5s}
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
  - name: slow
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 150s, refresh: ${big_refresh_s}s, jitter: 10s, inception-offset: 5s}
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
EOF
  # The small zones first: the big one's first signing then runs while
  # they are already being re-signed.
  for i in $(seq 1 $small_zones); do
    sed "s/^\$ORIGIN .*/\$ORIGIN s$i.test./" "$TMP/small.template" > "$TMP/s$i.zone"
    echo "  - {name: s$i.test, policy: fast, file: $TMP/s$i.zone, allow-transfer: [\"127.0.0.1\"]}"
  done
  echo "  - {name: big.test, policy: slow, file: $TMP/big.zone, allow-transfer: [\"127.0.0.1\"]}"
} > "$TMP/wiresign.yaml"

"$WIRESIGND" -c "$TMP/wiresign.yaml" >> "$TMP/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait 2>/dev/null || true; _cleanup' EXIT
for i in $(seq 1 $small_zones); do wait_log "s$i.test.: signed serial" || true; done
check "all small zones signed at start" wait_log "s$small_zones.test.: signed serial"

# Watch every zone from the wire while the big zone is signed and re-signed.
zones=()
for i in $(seq 1 $small_zones); do zones+=("s$i.test"); done
bounded python3 "$probe" margin "$port" "$watch_s" "${zones[@]}" > "$TMP/margins.small" &
small_watch=$!
# The big zone's margin once it is served (its AXFR takes a while: on its own).
for _ in $(seq 1 900); do grep -q "big.test.: signed serial" "$TMP/daemon.log" && break; sleep 0.2; done
check "the big zone is signed" grep -q "big.test.: signed serial" "$TMP/daemon.log"
bounded python3 "$probe" margin "$port" "$big_watch_s" big.test > "$TMP/margins.big" || true
wait "$small_watch" || true

while read -r zone least; do
  allowed=$((small_refresh_s - tolerance_s))
  [[ $zone == big.test ]] && allowed=$((big_refresh_s - tolerance_s))
  check "$zone: least signature margin seen ($least s) >= refresh - tolerance ($allowed s)" \
    test "${least:-None}" != None -a "${least:-0}" -ge "$allowed"
done < <(cat "$TMP/margins.small" "$TMP/margins.big")
[[ -z ${VERBOSE:-} ]] || cat "$TMP/margins.small" "$TMP/margins.big"
echo "least margins (s): small zones $(awk '{print $2}' "$TMP/margins.small" | sort -n | head -n1), big zone $(awk '{print $2}' "$TMP/margins.big")"

resigned=$(grep -c "s1.test.: signed serial .* from re-sign" "$TMP/daemon.log" || true)
check "a small zone was re-signed several times ($resigned) while the big zone was signed" test "$resigned" -ge 4
check "the big zone was re-signed too" grep -q "big.test.: signed serial .* from re-sign" "$TMP/daemon.log"
bounded dig -p "$port" +time=5 +tries=1 @127.0.0.1 s7.test AXFR > "$TMP/s7.axfr"
check "a small zone's AXFR validates" bounded ldns-verify-zone "$TMP/s7.axfr"
check "no zone failed to sign" bash -c "! grep -q 'not published' '$TMP/daemon.log'"
finish
