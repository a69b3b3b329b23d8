#!/usr/bin/env bash
# A primary that misbehaves (tests/system/hostile_primary.py: no real server
# does these on demand). For each, wiresignd refuses the new version with a
# log line that says why, and the last good signed version stays in service
# and validates:
#  - IXFR answered NOTIMP: falls back to AXFR
#  - an AXFR that stops mid-way
#  - an AXFR with a record outside the zone (named in the log)
#  - an AXFR larger than the zone's max-records, or its max-transfer-size
#  - an AXFR trickling in one octet at a time, past the zone's transfer-timeout
#  - a serial that goes backwards: not followed, logged with the way out
# and a good version afterwards is followed again.
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
signer_port=$(random_port)
primary_port=$(random_port)
echo "good 1" > "$TMP/mode"
cat > "$TMP/wiresign.yaml" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - {name: default, keystore: local, serial: increment}
zones:
  - name: example.test
    policy: default
    primaries: ["127.0.0.1:$primary_port"]
    allow-transfer: ["127.0.0.1"]
    max-records: 100
    max-transfer-size: 40K
    transfer-timeout: 3s
YAML
python3 "$SRC/tests/system/hostile_primary.py" example.test "$primary_port" "$TMP/mode" 2> "$TMP/primary.err" &
primary=$!
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon $primary 2>/dev/null || true; wait $daemon $primary 2>/dev/null || true; _cleanup' EXIT
# still_good: the first signed version (serial 2) is served and validates.
still_good() { wait_serial 2 && axfr_validates "$signer_port" example.test; }

check "the good zone is transferred, signed and served" wait_serial 2
check "and validates" axfr_validates "$signer_port" example.test

echo "cut 3" > "$TMP/mode"
check "an AXFR that stops mid-way fails the refresh (after IXFR NOTIMP fell back to AXFR)" \
  wait_log "example.test.: refresh failed .*127.0.0.1:$primary_port: connection closed"
check "the IXFR refusal was logged before the AXFR" grep -q "example.test.: IXFR failed: .*NOTIMP.*falling back to AXFR" "$TMP/daemon.log"
check "the last good version stays in service" still_good

echo "outside 4" > "$TMP/mode"
check "a record outside the zone is refused, named in the log" \
  wait_log "example.test.: not published: .*evil.example.org. A is outside the zone"
check "the last good version stays in service" still_good

echo "big 5" > "$TMP/mode"
check "a transfer over max-records is refused" wait_log "example.test.: refresh failed .*larger than 100 records"
check "the last good version stays in service" still_good

echo "fat 5" > "$TMP/mode"
check "a transfer over max-transfer-size is refused" \
  wait_log "example.test.: refresh failed .*transfer larger than 40960 octets \(max-transfer-size\)"
check "the last good version stays in service" still_good

echo "trickle 5" > "$TMP/mode"
check "a transfer trickling past transfer-timeout is cut off" \
  wait_log "example.test.: refresh failed .*transfer-timeout reached, cut off"
check "the last good version stays in service" still_good

echo "good 4294967000" > "$TMP/mode"
check "a serial that went backwards is not followed and says how to force it" \
  wait_log "example.test.: the primary 127.0.0.1:$primary_port has serial 4294967000, older than ours \(1\); not transferred.*wiresign zone retransfer"
check "the last good version stays in service" still_good

echo "good 6" > "$TMP/mode"
check "a good new version is followed again (serial 7)" wait_serial 7
check "and validates" axfr_validates "$signer_port" example.test

finish
