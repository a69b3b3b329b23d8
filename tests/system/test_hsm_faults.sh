#!/usr/bin/env bash
# wiresignd with its keys in SoftHSM, through the token faults an HSM has in
# service; the daemon keeps serving, says what is wrong in its log, status and
# metrics, and recovers by itself without a restart:
#  - the token missing at start: the saved version is served, signing is
#    retried, and the input is signed once the token is back
#  - the token's files moved away mid-run (sessions and handles go stale):
#    re-signing fails, keystore_up reads 0, the served version stays; after
#    the files return, a re-sign works again with the same keys
#  - the token re-initialised empty (keys gone): no new keys are made (they
#    would match no DS at the parent); the old token back, signing resumes
# After each recovery the DNSKEY set is the one from the start and an AXFR
# validates with dnssec-verify.
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
port=$(random_port)
socket=$TMP/control.sock

softhsm_token "$TMP/hsm"
cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
  control: $socket
keystores:
  - {name: hsm, backend: pkcs11, module: /usr/lib/softhsm/libsofthsm2.so, token-label: wiresign, pin-file: $TMP/hsm/hsm.pin}
policies:
  - name: default
    keystore: hsm
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
  - name: example.test
    policy: default
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
EOF

daemon=""
start_daemon() {
  "$WIRESIGND" -c "$TMP/wiresign.yaml" >> "$TMP/daemon.log" 2>&1 &
  daemon=$!
}
stop_daemon() {
  [[ -n $daemon ]] || return 0
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  daemon=""
}
trap 'stop_daemon; _cleanup' EXIT
control() { wiresign "$@" --socket "$socket"; }
serial_now() { bounded dig -p "$port" +time=1 +tries=1 +short @127.0.0.1 example.test SOA | awk '{print $3}'; }
dnskeys() { bounded dig -p "$port" +time=2 +tries=1 +short @127.0.0.1 example.test DNSKEY | sort; }
# bump_input SERIAL: a new serial at the source (the first SOA line holds it)
bump_input() { sed -i "0,/2026112[0-9]*/s//$1/" "$TMP/example.test.zone"; }
# count_log PATTERN: how many log lines match so far
count_log() { grep -c -E "$1" "$TMP/daemon.log" || true; }
# status_says TEXT: `wiresign status` prints a line containing TEXT
status_says() { control status | grep -qF "$1"; }
# resign_until SERIAL: ask for re-signs (about one a second, bounded) until SERIAL is served
resign_until() {
  for _ in $(seq 1 50); do
    control zone resign example.test > /dev/null 2>&1 || true
    [[ $(serial_now) == "$1" ]] && return 0
    sleep 1
  done
  echo "serial $1 never served" >&2
  return 1
}
# wait_new_log PATTERN COUNT: a line matching PATTERN beyond the COUNT seen before
wait_new_log() {
  for _ in $(seq 1 300); do
    [[ $(count_log "$1") -gt $2 ]] && return 0
    sleep 0.1
  done
  echo "no new log line matching: $1" >&2
  return 1
}

# A first run makes the keys in the token and saves serial 2026112302.
start_daemon
check "the first run signs with keys made in the token" wait_serial 2026112302 "$port"
dnskeys > "$TMP/dnskeys.start"
check "the zone has a KSK and a ZSK" test "$(wc -l < "$TMP/dnskeys.start")" = 2
stop_daemon

# 1. The token is missing when the daemon starts.
mv "$TMP/hsm/tokens" "$TMP/hsm/tokens.away"
mkdir "$TMP/hsm/tokens"
bump_input 2026112310
start_daemon
check "token missing at start: the saved serial is served" wait_serial 2026112302 "$port"
check "the log says why the input is not signed, and when it is tried again" \
  wait_log "example.test.: not published: .*keystore.*input tried again in [0-9]+ s"
check "status shows the keystore failing" status_says "keystore hsm: FAILING"
rmdir "$TMP/hsm/tokens"
mv "$TMP/hsm/tokens.away" "$TMP/hsm/tokens"
check "the token back: the input is signed by the retry, without a restart" wait_serial 2026112311 "$port"
check "the same DNSKEY set as before" diff <(dnskeys) "$TMP/dnskeys.start"
check "AXFR validates with dnssec-verify" axfr_validates "$port" example.test
check "status shows the keystore up again" status_says "keystore hsm: up"

# 2. The token's files go away while the daemon runs.
mv "$TMP/hsm/tokens" "$TMP/hsm/tokens.away"
mkdir "$TMP/hsm/tokens"
failures=$(count_log "example.test.: not published")
check "re-sign asked while the token is gone" control zone resign example.test
check "the re-sign fails and says so" wait_new_log "example.test.: not published" "$failures"
check "the served serial stays" test "$(serial_now)" = 2026112311
rmdir "$TMP/hsm/tokens"
mv "$TMP/hsm/tokens.away" "$TMP/hsm/tokens"
check "the token back: a re-sign publishes the next serial" resign_until 2026112312
check "the same DNSKEY set as before" diff <(dnskeys) "$TMP/dnskeys.start"
check "AXFR validates with dnssec-verify" axfr_validates "$port" example.test

# 3. The token is re-initialised empty under the same label.
mv "$TMP/hsm/tokens" "$TMP/hsm/tokens.away"
mkdir "$TMP/hsm/tokens"
bounded softhsm2-util --init-token --free --label wiresign --pin 1234 --so-pin 5678 > /dev/null
refused=$(count_log "holds none of the KSKs")
control zone resign example.test > /dev/null || true
check "an empty token: no new keys are made, the log names the missing KSK" \
  wait_new_log "example.test.: not published: .*holds none of the KSKs the version in service publishes \(key tag [0-9]+\)" "$refused"
check "no key was created in the empty token" bash -c "! grep -q 'created ksk' <(tail -n 20 '$TMP/daemon.log')"
check "the served serial stays" test "$(serial_now)" = 2026112312
rm -rf "$TMP/hsm/tokens"
mv "$TMP/hsm/tokens.away" "$TMP/hsm/tokens"
check "the old token back: a re-sign publishes the next serial" resign_until 2026112313
check "the same DNSKEY set as before" diff <(dnskeys) "$TMP/dnskeys.start"
check "AXFR validates with dnssec-verify" axfr_validates "$port" example.test
check "the daemon ran throughout" kill -0 "$daemon"
finish
