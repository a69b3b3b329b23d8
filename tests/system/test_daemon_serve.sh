#!/usr/bin/env bash
# wiresignd serving `file:` zones on loopback high ports, judged from the wire
# with BIND's dig and dnssec-verify:
#  - `--check` accepts a good config and refuses a bad one with file:line
#  - SOA over UDP and TCP; queries for zones not served get REFUSED
#  - AXFR to an allow-transfer source validates with dnssec-verify; other
#    sources are refused
#  - a zone with transfer-tsig: the right key transfers (dig checks our TSIG),
#    no key or a wrong key is refused
#  - after the zone file changes, SIGHUP publishes a new, higher serial (an
#    unchanged zone keeps its serial); a change without SIGHUP is picked up
#    by itself within seconds
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
port=$(random_port)
secret=c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5

cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
sed 's/example\.test\./tsig.test./' "$SRC/examples/example.test.zone" > "$TMP/tsig.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port", "[::1]:$port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
tsig-keys:
  - {name: xfr, algorithm: hmac-sha256, secret: "$secret"}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
  - name: example.test
    policy: default
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
  - name: tsig.test
    policy: default
    file: $TMP/tsig.test.zone
    allow-transfer: ["127.0.0.1", "::1"]
    transfer-tsig: xfr
EOF

check "--check accepts the config" bounded "$WIRESIGND" -c "$TMP/wiresign.yaml" --check
sed 's/policy: default$/policy: missing/' "$TMP/wiresign.yaml" > "$TMP/bad.yaml"
if bounded "$WIRESIGND" -c "$TMP/bad.yaml" --check > /dev/null 2> "$TMP/bad.err"; then
  fail "--check accepted a zone with an undefined policy"
else
  check "--check names file:line and the policy" grep -q "bad.yaml:[0-9]*: .*\"missing\"" "$TMP/bad.err"
fi

"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
stop_daemon() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
trap 'stop_daemon; _cleanup' EXIT

# Wait (bounded) until both zones are served.
for _ in $(seq 1 100); do
  [[ $(grep -c "serving it" "$TMP/daemon.log" || true) -ge 2 ]] && break
  sleep 0.1
done
dig_() { bounded dig -p "$port" +time=2 +tries=1 "$@"; }

serial=$(dig_ +short @127.0.0.1 example.test SOA | awk '{print $3}')
check "SOA over UDP carries serial+1 (policy increment)" test "$serial" = 2026112302
check "SOA over TCP" test "$(dig_ +tcp +short @::1 example.test SOA | awk '{print $3}')" = 2026112302
check "a zone not served is REFUSED" bash -c "dig -p $port +time=2 +tries=1 @127.0.0.1 example.org SOA | grep -q 'status: REFUSED'"
check "DNSKEY with DO comes with its RRSIG" \
  bash -c "dig -p $port +time=2 +tries=1 +dnssec @127.0.0.1 example.test DNSKEY | grep -q 'RRSIG.*DNSKEY'"

check "AXFR to an allowed source validates with dnssec-verify" axfr_validates "$port" example.test
check "AXFR from a source not in allow-transfer is refused" \
  bash -c "dig -p $port +time=2 +tries=1 @::1 example.test AXFR | grep -q 'Transfer failed'"

check "TSIG: the right key transfers, and dig accepts our signed answer" \
  bash -c "dig -p $port +time=2 +tries=1 -y hmac-sha256:xfr:$secret @::1 tsig.test AXFR 2>&1 | grep -q 'XFR size: [0-9]* records'"
check "TSIG: no key is refused" \
  bash -c "dig -p $port +time=2 +tries=1 @::1 tsig.test AXFR | grep -q 'Transfer failed'"
check "TSIG: a wrong key is refused" \
  bash -c "dig -p $port +time=2 +tries=1 -y hmac-sha256:xfr:d3Jvbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5 @::1 tsig.test AXFR 2>&1 | grep -q -E 'Transfer failed|tsig verify failure|BADSIG'"
check "the refusals are logged with zone and reason" grep -q "tsig.test.: AXFR from ::1 refused: not signed" "$TMP/daemon.log"

# A change at the source, then SIGHUP: a new serial is served.
sed -i 's/2026112301 ; serial/2026112305 ; serial/; s/192.0.2.80/192.0.2.81/' "$TMP/example.test.zone"
kill -HUP "$daemon"
new_serial=""
for _ in $(seq 1 50); do
  new_serial=$(dig_ +short @127.0.0.1 example.test SOA | awk '{print $3}')
  [[ $new_serial == 2026112306 ]] && break
  sleep 0.1
done
check "SIGHUP re-signs the changed file and serves serial 2026112306" test "$new_serial" = 2026112306
check "the changed record is served" test "$(dig_ +short @127.0.0.1 www.example.test A)" = 192.0.2.81
check "an unchanged zone is not re-published on SIGHUP (same serial, nothing to send)" \
  test "$(dig_ +short @127.0.0.1 tsig.test SOA | awk '{print $3}')" = 2026112302
check "the log says the unchanged input was left alone" grep -q "tsig.test.: input from .* is unchanged; still serving serial 2026112302" "$TMP/daemon.log"

# A change to the file alone (no signal) is picked up within a few seconds.
sed -i 's/2026112305 ; serial/2026112307 ; serial/; s/192.0.2.81/192.0.2.82/' "$TMP/example.test.zone"
for _ in $(seq 1 100); do
  [[ $(dig_ +short @127.0.0.1 www.example.test A) == 192.0.2.82 ]] && break
  sleep 0.1
done
check "a changed file is re-signed without SIGHUP" test "$(dig_ +short @127.0.0.1 www.example.test A)" = 192.0.2.82
check "with serial 2026112308" test "$(dig_ +short @127.0.0.1 example.test SOA | awk '{print $3}')" = 2026112308

stop_daemon
check "the daemon stops on SIGTERM and says so" grep -q "stopping on" "$TMP/daemon.log"
if [[ -n ${VERBOSE:-} ]]; then cat "$TMP/daemon.log"; fi
finish
