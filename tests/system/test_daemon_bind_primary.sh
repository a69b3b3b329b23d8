#!/usr/bin/env bash
# wiresignd following a real BIND 9 primary with TSIG on loopback high ports:
#  - the transfer from BIND is TSIG-signed (BIND allows it only with the key)
#    and the signed zone served by wiresignd validates with dnssec-verify
#  - BIND's NOTIFY, signed with the key, brings a change; an unsigned NOTIFY
#    is refused because the zone has a primary-tsig
#  - BIND (ixfr-from-differences) sends the change by IXFR, applied as a diff
#  - a second BIND, secondary of wiresignd, follows each new serial by
#    wiresignd's NOTIFY, the change by IXFR from wiresignd's journal
#  - with the wrong key configured, the transfer is refused by BIND and
#    wiresignd logs why, serving nothing it has not validated
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
command -v named > /dev/null || { echo "FAIL: named is not installed (tools/install-deps.sh)" >&2; exit 1; }
primary_port=$(random_port)
signer_port=$(random_port)
secondary_port=$(random_port)
secret=c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5
mkdir -p "$TMP/bind" "$TMP/secondary"
cp "$SRC/examples/example.test.zone" "$TMP/bind/example.test.zone"

cat > "$TMP/bind/named.conf" <<NAMED
key "xfr" { algorithm hmac-sha256; secret "$secret"; };
options {
  directory "$TMP/bind";
  pid-file "$TMP/bind/named.pid";
  listen-on port $primary_port { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify explicit;
  also-notify { 127.0.0.1 port $signer_port key "xfr"; };
  allow-transfer { key "xfr"; };
  ixfr-from-differences yes;
  dnssec-validation no;
};
controls { };
zone "example.test" { type primary; file "example.test.zone"; };
NAMED

cat > "$TMP/secondary/named.conf" <<NAMED
options {
  directory "$TMP/secondary";
  pid-file "$TMP/secondary/named.pid";
  listen-on port $secondary_port { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
  allow-transfer { 127.0.0.1; };
};
controls { };
zone "example.test" { type secondary; primaries { 127.0.0.1 port $signer_port; }; file "example.test.db"; };
NAMED

# write_config FILE SECRET: a wiresignd config following BIND with that TSIG secret.
write_config() {
  cat > "$1" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
tsig-keys:
  - {name: xfr, algorithm: hmac-sha256, secret: "$2"}
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
    primary-tsig: xfr
    allow-transfer: ["127.0.0.1"]
    notify: ["127.0.0.1:$secondary_port"]
YAML
}

named -g -c "$TMP/bind/named.conf" > "$TMP/bind/named.log" 2>&1 &
named_pid=$!
daemon=""
secondary_pid=""
stop_all() {
  kill $daemon "$named_pid" $secondary_pid 2>/dev/null || true
  wait $daemon "$named_pid" $secondary_pid 2>/dev/null || true
}
trap 'stop_all; _cleanup' EXIT
for _ in $(seq 1 100); do grep -q "running" "$TMP/bind/named.log" && break; sleep 0.1; done

# First the wrong key: BIND refuses the transfer, and wiresignd says so.
write_config "$TMP/wrong.yaml" d3Jvbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5
"$WIRESIGND" -c "$TMP/wrong.yaml" > "$TMP/wrong.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do grep -q "refresh failed" "$TMP/wrong.log" && break; sleep 0.1; done
check "with a wrong key the refresh fails and the log says the key was rejected" \
  grep -q "example.test.: refresh failed.*NOTAUTH (it rejected our TSIG key xfr.).*nothing to serve yet" "$TMP/wrong.log"
check "and nothing is served" \
  bash -c "dig -p $signer_port +time=2 +tries=1 @127.0.0.1 example.test SOA | grep -q 'status: REFUSED'"
kill "$daemon"; wait "$daemon" 2>/dev/null || true

write_config "$TMP/wiresign.yaml" "$secret"
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
check "the zone transferred from BIND with TSIG is signed and served" wait_serial 2026112302
check "its AXFR validates with dnssec-verify" axfr_validates "$signer_port" example.test
named -g -c "$TMP/secondary/named.conf" > "$TMP/secondary/named.log" 2>&1 &
secondary_pid=$!
check "a BIND secondary of wiresignd loads serial 2026112302" wait_serial 2026112302 "$secondary_port"

check "an unsigned NOTIFY is refused (the zone has a primary-tsig)" \
  bash -c "python3 - $signer_port <<'PY'
import socket, struct, sys
q = struct.pack('>HHHHHH', 4242, 4 << 11, 1, 0, 0, 0) + b'\x07example\x04test\x00' + struct.pack('>HH', 6, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(q, ('127.0.0.1', int(sys.argv[1])))
answer = s.recv(512)
sys.exit(0 if answer[3] & 0x0f == 9 else 1)  # NOTAUTH
PY"
check "and logged" grep -q "example.test.: NOTIFY from 127.0.0.1 refused: not signed" "$TMP/daemon.log"

sed -i 's/2026112301 ; serial/2026112320 ; serial/; s/192.0.2.80/192.0.2.81/' "$TMP/bind/example.test.zone"
kill -HUP "$named_pid"
check "BIND's TSIG-signed NOTIFY brings the change: serial 2026112321" wait_serial 2026112321
check "the NOTIFY was accepted" grep -q "example.test.: NOTIFY from 127.0.0.1; checking the primary" "$TMP/daemon.log"
check "the new version validates" axfr_validates "$signer_port" example.test
check "the BIND secondary follows by wiresignd's NOTIFY: serial 2026112321" wait_serial 2026112321 "$secondary_port"
check "and its copy validates" axfr_validates "$secondary_port" example.test
check "the change came from BIND by IXFR (ixfr-from-differences), one diff applied" \
  grep -q "example.test.: IXFR from 127.0.0.1:$primary_port (1 diffs, 1 records removed, 1 added)" "$TMP/daemon.log"
signed_line=$(grep "example.test.: signed serial 2026112321 " "$TMP/daemon.log" || true)
check "the IXFR's change was signed alone, against the version in service (${signed_line##*RRSIGs})" \
  grep -q "change (" <<< "$signed_line"
check "and nothing fell back to whole-zone signing" test -z "$(grep "signing the whole zone" "$TMP/daemon.log")"
check "no unsigned copy is rewritten after the change: the version in service stands for it" \
  bash -c "! grep -q 'unsigned copy brought to serial' '$TMP/daemon.log' && ! test -e '$TMP/state/unsigned/example.test.zone'"
check "wiresignd sent the BIND secondary an incremental transfer from its journal" \
  grep -q "example.test.: IXFR to 127.0.0.1: serial 2026112321, incremental from serial 2026112302" "$TMP/daemon.log"
ixfr_in=$(grep -E "Transfer completed: .* \(serial 2026112321\)" "$TMP/secondary/named.log" | sed -E 's/.* ([0-9]+) records.*/\1/' | head -n1)
check "BIND's log shows the small incremental transfer (${ixfr_in:-no} records, the full zone has 58)" \
  test "${ixfr_in:-999}" -lt 20
check "and BIND kept it in its journal" test -s "$TMP/secondary/example.test.db.jnl"

# kill -9 and a restart: the saved signed version stands for the primary's
# unsigned one (its serial and timers), so the next change comes by IXFR again.
stop_daemon -KILL
start_daemon
check "after kill -9 the restart serves the saved version with the primary's serial" \
  wait_log "example.test.: serving the saved version \(unsigned serial 2026112320\) until the primary answers"
sed -i 's/2026112320 ; serial/2026112330 ; serial/; s/192.0.2.81/192.0.2.82/' "$TMP/bind/example.test.zone"
kill -HUP "$named_pid"
check "the next change is served: serial 2026112331" wait_serial 2026112331
check "and came by IXFR from the restored serial, signed alone" \
  grep -q "example.test.: IXFR from 127.0.0.1:$primary_port (1 diffs, 1 records removed, 1 added)" <(sed -n '/serving the saved version/,$p' "$TMP/daemon.log")
check "the restarted version validates" axfr_validates "$signer_port" example.test

if [[ -n ${VERBOSE:-} ]]; then cat "$TMP/daemon.log"; fi
finish
