#!/usr/bin/env bash
# wiresignd following a real Knot DNS primary on loopback high ports:
#  - the zone transferred from knotd is signed, served, and validates
#  - a change loaded by knotd (SIGHUP) reaches wiresignd by Knot's NOTIFY
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
command -v knotd > /dev/null || { echo "FAIL: knotd is not installed (tools/install-deps.sh)" >&2; exit 1; }
primary_port=$(random_port)
signer_port=$(random_port)
mkdir -p "$TMP/knot"
cp "$SRC/examples/example.test.zone" "$TMP/knot/example.test.zone"

cat > "$TMP/knot/knot.conf" <<KNOT
server:
  listen: 127.0.0.1@$primary_port
  rundir: "$TMP/knot"
database:
  storage: "$TMP/knot"
log:
  - target: stderr
    any: info
remote:
  - id: signer
    address: 127.0.0.1@$signer_port
acl:
  - id: to_signer
    address: 127.0.0.1
    action: transfer
template:
  - id: default
    storage: "$TMP/knot"
    zonefile-sync: -1
zone:
  - domain: example.test
    file: example.test.zone
    notify: signer
    acl: to_signer
KNOT
cat > "$TMP/wiresign.yaml" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: default
    keystore: local
    algorithm: ed25519
    denial: {type: nsec}
    serial: increment
zones:
  - name: example.test
    policy: default
    primaries: ["127.0.0.1:$primary_port"]
    allow-transfer: ["127.0.0.1"]
YAML

knotd -c "$TMP/knot/knot.conf" > "$TMP/knot/knotd.log" 2>&1 &
knot_pid=$!
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
stop_all() {
  kill "$daemon" "$knot_pid" 2>/dev/null || true
  wait "$daemon" "$knot_pid" 2>/dev/null || true
}
trap 'stop_all; _cleanup' EXIT

check "the zone from knotd is signed and served with serial+1" wait_serial 2026112302
check "its AXFR validates with dnssec-verify (Ed25519, NSEC)" axfr_validates "$signer_port" example.test

sed -i 's/2026112301 ; serial/2026112330 ; serial/; s/192.0.2.80/192.0.2.81/' "$TMP/knot/example.test.zone"
kill -HUP "$knot_pid"
check "a change at knotd arrives by its NOTIFY: serial 2026112331" wait_serial 2026112331
check "with the new data" \
  test "$(bounded dig -p "$signer_port" +time=1 +tries=1 +short @127.0.0.1 www.example.test A)" = 192.0.2.81
check "and validates" axfr_validates "$signer_port" example.test
check "Knot's NOTIFY is logged" grep -q "example.test.: NOTIFY from 127.0.0.1; checking the primary" "$TMP/daemon.log"

if [[ -n ${VERBOSE:-} ]]; then cat "$TMP/daemon.log" "$TMP/knot/knotd.log"; fi
finish
