#!/usr/bin/env bash
# kill -9 at random moments: wiresignd follows an NSD primary whose zone
# (20,000 names) changes every round; each round the daemon is killed at a
# random point of the NOTIFY / transfer / signing / saving that follows, then
# restarted. After every restart:
#  - the DNSKEY set is the one of the first run (keys survive)
#  - the served serial never goes backwards
#  - an AXFR of the served zone passes BIND's dnssec-verify
# and at the end the last change at the primary is served.
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR,
# VERBOSE, KEEP_TMP, CRASH_ROUNDS (default 20), CRASH_NAMES (zone size, default 20000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
command -v nsd > /dev/null || { echo "FAIL: nsd is not installed (tools/install-deps.sh)" >&2; exit 1; }
rounds=${CRASH_ROUNDS:-20}
names=${CRASH_NAMES:-20000}
primary_port=$(random_port)
signer_port=$(random_port)

python3 "$SRC/tools/gen_zone.py" example.test. "$names" > "$TMP/example.test.zone"
echo "crash-test IN TXT \"round 0\"" >> "$TMP/example.test.zone"
{ nsd_server_conf "$TMP" "$primary_port"; cat <<NSD
zone:
  name: example.test
  zonefile: example.test.zone
  notify: 127.0.0.1@$signer_port NOKEY
  provide-xfr: 127.0.0.1 NOKEY
NSD
} > "$TMP/nsd.conf"
cat > "$TMP/wiresign.yaml" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
  - name: example.test
    policy: default
    primaries: ["127.0.0.1:$primary_port"]
    allow-transfer: ["127.0.0.1"]
YAML

nsd -d -c "$TMP/nsd.conf" > "$TMP/nsd.out" 2>&1 &
nsd_pid=$!
start_daemon() {
  "$WIRESIGND" -c "$TMP/wiresign.yaml" >> "$TMP/daemon.log" 2>&1 &
  daemon=$!
}
stop_all() {
  kill "$daemon" "$nsd_pid" 2>/dev/null || true
  wait "$daemon" "$nsd_pid" 2>/dev/null || true
}
daemon=""
trap 'stop_all; _cleanup' EXIT
dig_() { bounded dig -p "$signer_port" +time=1 +tries=1 "$@"; }
# served_serial: the SOA serial served, or nothing (dig +short prints its errors too).
served_serial() { dig_ +short @127.0.0.1 example.test SOA 2>/dev/null | awk 'NF == 7 && $3 ~ /^[0-9]+$/ {print $3}'; }
# wait_served: bounded wait (about 60 s) until the zone is served at all.
wait_served() {
  for _ in $(seq 1 600); do
    [[ -n $(served_serial) ]] && return 0
    sleep 0.1
  done
  return 1
}

start_daemon
check "the first version is served" wait_served
check "the first version is signed from NSD's zone" wait_serial 2
dig_ +short @127.0.0.1 example.test DNSKEY | sort > "$TMP/dnskey.first"
highest=$(served_serial)

backwards=0 bad_keys=0 invalid=0 dark=0
for round in $(seq 1 "$rounds"); do
  # A change at the primary, announced by its NOTIFY, then a kill at a random moment.
  sed -i -E "s/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 $((round + 1)) /; s/\"round [0-9]+\"/\"round $round\"/" \
    "$TMP/example.test.zone"
  kill -HUP "$nsd_pid"
  delay=$((RANDOM % 1500))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  before=$(served_serial)
  kill -9 "$daemon"
  wait "$daemon" 2>/dev/null || true
  [[ -n ${VERBOSE:-} ]] && echo "round $round: killed after ${delay} ms, serving ${before:-nothing}"
  start_daemon
  if ! wait_served; then
    dark=$((dark + 1))
    fail "round $round: nothing served after the restart"
    continue
  fi
  now=$(served_serial)
  for s in $before $highest; do
    if [[ -n $s && -n $now ]] && (( now < s )); then
      backwards=$((backwards + 1))
      fail "round $round: serial went back from $s to $now after the restart"
    fi
  done
  if (( now > highest )); then highest=$now; fi
  dig_ +short @127.0.0.1 example.test DNSKEY | sort > "$TMP/dnskey.now"
  if ! cmp -s "$TMP/dnskey.first" "$TMP/dnskey.now"; then
    bad_keys=$((bad_keys + 1))
    fail "round $round: the DNSKEY set changed after the restart"
  fi
  if ! axfr_validates "$signer_port" example.test; then
    invalid=$((invalid + 1))
    fail "round $round: the served zone (serial $now) does not validate"
  fi
done
check "after $rounds kills the zone was served after every restart" test "$dark" = 0
check "the serial never went backwards" test "$backwards" = 0
check "the DNSKEY set never changed" test "$bad_keys" = 0
check "every served version validated" test "$invalid" = 0

# In the end the last change at the primary is signed and served.
last=""
for _ in $(seq 1 300); do
  last=$(dig_ +short @127.0.0.1 crash-test.example.test TXT 2>/dev/null || true)
  [[ $last == "\"round $rounds\"" ]] && break
  sleep 0.1
done
check "the last change at the primary is served ($last)" test "$last" = "\"round $rounds\""
check "the final version validates" axfr_validates "$signer_port" example.test

finish
