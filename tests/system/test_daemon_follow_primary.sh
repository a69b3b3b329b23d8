#!/usr/bin/env bash
# wiresignd following a real hidden primary (NSD) on loopback high ports:
#  - the zone is transferred from NSD, signed (serial bumped) and served;
#    its AXFR from wiresignd validates with dnssec-verify
#  - a change at NSD reaches wiresignd by NOTIFY alone (the SOA refresh is an
#    hour), with a new serial and the new data; a change NSD does not
#    announce (short.test) arrives by SOA refresh
#  - a second NSD, secondary of wiresignd, gets each new signed serial by
#    wiresignd's NOTIFY and its copy validates
#  - Unbound, validating with wiresign's KSK as trust anchor, resolves the
#    zone through the secondary NSD with the AD bit, before and after the change
#  - with NSD stopped, a refresh check fails, is logged with the zone and the
#    reason, and the last good signed version is still served
#  - restarted with NSD still gone, wiresignd serves the version saved in its
#    state dir
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
command -v nsd > /dev/null || { echo "FAIL: nsd is not installed (tools/install-deps.sh)" >&2; exit 1; }
primary_port=$(random_port)
signer_port=$(random_port)
secondary_port=$(random_port)
resolver_port=$(random_port)
mkdir -p "$TMP/secondary"


cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
# A zone with short SOA timers (refresh 2 s, retry 1 s, expire 5 s), to go
# well past its expire time while the primary is down.
sed 's/example\.test\./short.test./; s/3600       ; refresh/2 ; refresh/; s/900        ; retry/1 ; retry/; s/1209600    ; expire/5 ; expire/' \
  "$SRC/examples/example.test.zone" > "$TMP/short.test.zone"
{ nsd_server_conf "$TMP" "$primary_port"; cat <<NSD
zone:
  name: example.test
  zonefile: example.test.zone
  notify: 127.0.0.1@$signer_port NOKEY
  provide-xfr: 127.0.0.1 NOKEY
zone:
  name: short.test
  zonefile: short.test.zone
  provide-xfr: 127.0.0.1 NOKEY
NSD
} > "$TMP/nsd.conf"
{ nsd_server_conf "$TMP/secondary" "$secondary_port"; cat <<NSD
zone:
  name: example.test
  zonefile: example.test.signed
  request-xfr: AXFR 127.0.0.1@$signer_port NOKEY
  allow-notify: 127.0.0.1 NOKEY
  provide-xfr: 127.0.0.1 NOKEY
NSD
} > "$TMP/secondary/nsd.conf"
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
    notify: ["127.0.0.1:$secondary_port"]
  - name: short.test
    policy: default
    primaries: ["127.0.0.1:$primary_port"]
    allow-transfer: ["127.0.0.1"]
YAML

nsd -d -c "$TMP/nsd.conf" > "$TMP/nsd.out" 2>&1 &
nsd_pid=$!
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
nsd -d -c "$TMP/secondary/nsd.conf" > "$TMP/secondary/nsd.out" 2>&1 &
secondary_pid=$!
resolver_pid=""
stop_all() {
  kill "$daemon" "$nsd_pid" "$secondary_pid" $resolver_pid 2>/dev/null || true
  wait "$daemon" "$nsd_pid" "$secondary_pid" $resolver_pid 2>/dev/null || true
}
trap 'stop_all; _cleanup' EXIT

dig_() { bounded dig -p "$signer_port" +time=2 +tries=1 "$@"; }

check "the zone from NSD is signed and served with serial+1" wait_serial 2026112302
check "the secondary NSD has it" wait_serial 2026112302 "$secondary_port"

# Unbound validates through the secondary with wiresign's KSK as its trust anchor.
mkdir -p "$TMP/unbound"
ds=$(bounded "$WIRESIGN" keys ds --origin example.test --keys "$TMP/keys" --format no-ttl 2>/dev/null | grep ' DS ')
{ unbound_conf "$TMP/unbound" "$resolver_port" "$ds"; cat <<UNBOUND; } > "$TMP/unbound/unbound.conf"
stub-zone:
  name: "example.test"
  stub-addr: 127.0.0.1@$secondary_port
UNBOUND
unbound -d -c "$TMP/unbound/unbound.conf" > "$TMP/unbound/unbound.out" 2>&1 &
resolver_pid=$!
# ad_answer NAME TYPE VALUE: Unbound answers VALUE with the AD bit set (bounded wait).
ad_answer() {
  local out
  for _ in $(seq 1 50); do
    out=$(bounded dig -p "$resolver_port" +time=2 +tries=1 +dnssec @127.0.0.1 "$1" "$2" 2>/dev/null || true)
    if grep -q "flags:.* ad[ ;]" <<< "$out" && grep -q "$3" <<< "$out"; then return 0; fi
    sleep 0.2
  done
  echo "$out" | head -20 >&2
  return 1
}
check "Unbound validates www.example.test through the secondary (AD)" ad_answer www.example.test A 192.0.2.80
check "its AXFR validates with dnssec-verify" axfr_validates "$signer_port" example.test

sed -i 's/2026112301 ; serial/2026112310 ; serial/; s/192.0.2.80/192.0.2.81/' "$TMP/example.test.zone"
echo "www2 IN A 192.0.2.82" >> "$TMP/example.test.zone"
# short.test is not announced by NSD (no notify): its change must come by refresh.
sed -i 's/2026112301 ; serial/2026112305 ; serial/; s/192.0.2.80/192.0.2.85/' "$TMP/short.test.zone"
kill -HUP "$nsd_pid"
check "a change at NSD arrives by NOTIFY: serial 2026112311" wait_serial 2026112311
check "with the new data" test "$(dig_ +short @127.0.0.1 www.example.test A)" = 192.0.2.81
check "the NOTIFY is logged" grep -q "example.test.: NOTIFY from 127.0.0.1" "$TMP/daemon.log"
check "the secondary NSD got serial 2026112311 by wiresignd's NOTIFY" wait_serial 2026112311 "$secondary_port"
check "wiresignd logs the acknowledged NOTIFY" \
  grep -q "example.test.: NOTIFY for serial 2026112311 to 127.0.0.1:$secondary_port acknowledged" "$TMP/daemon.log"
check "Unbound gets the changed record, validated (AD)" ad_answer www2.example.test A 192.0.2.82
check "the secondary's copy validates with dnssec-verify" axfr_validates "$secondary_port" example.test
short_serial=""
for _ in $(seq 1 100); do
  short_serial=$(dig_ +short @127.0.0.1 short.test SOA | awk '{print $3}')
  [[ $short_serial == 2026112306 ]] && break
  sleep 0.1
done
check "a change without NOTIFY arrives by SOA refresh (2 s): short.test serial 2026112306" test "$short_serial" = 2026112306
check "with the new data" test "$(dig_ +short @127.0.0.1 www.short.test A)" = 192.0.2.85
check "and no NOTIFY came for it" bash -c "! grep -q 'short.test.: NOTIFY from' '$TMP/daemon.log'"

kill "$nsd_pid"; wait "$nsd_pid" 2>/dev/null || true
kill -HUP "$daemon"
# (A refresh may also have failed at start, before NSD was up: wait for this one.)
for _ in $(seq 1 150); do
  grep -q "example.test.: refresh failed (1 in a row.*serving the last good version" "$TMP/daemon.log" && break
  sleep 0.1
done
check "with the primary gone a failed refresh is logged with the reason" \
  grep -q "example.test.: refresh failed (1 in a row.*serving the last good version" "$TMP/daemon.log"
check "and the last good version is still served" wait_serial 2026112311
check "still validating" axfr_validates "$signer_port" example.test

# Promise 1: past three times the SOA expire time with the primary gone, the
# zone is still served and validates, and the log says how far past it is.
for _ in $(seq 1 400); do
  grep -q "short.test.: refresh failed.*silent for \(1[5-9]\|[2-9][0-9]\) s.*PAST SOA EXPIRE" "$TMP/daemon.log" && break
  sleep 0.1
done
check "3x past SOA expire (15 s and more of silence) is logged as such" \
  grep -q "short.test.: refresh failed.*silent for \(1[5-9]\|[2-9][0-9]\) s.*PAST SOA EXPIRE (5 s) by" "$TMP/daemon.log"
check "with the serial served and until when its signatures are valid" \
  grep -q "PAST SOA EXPIRE .*still serving the last good version, serial 2026112306, signatures valid until 20" "$TMP/daemon.log"
check "and short.test is still served" \
  bash -c "dig -p $signer_port +time=2 +tries=1 +short @127.0.0.1 short.test SOA | grep -q 2026112306"
check "with valid signatures" axfr_validates "$signer_port" short.test

check "Unbound still validates with the primary gone past 3x expire (AD)" ad_answer mail.example.test A 192.0.2.25

# A restart with the primary still gone serves the saved version at once.
kill "$daemon"; wait "$daemon" 2>/dev/null || true
check "the state dir is private (0700)" test "$(stat -c %a "$TMP/state")" = 700
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon2.log" 2>&1 &
daemon=$!
check "after a restart without the primary the zone is served again" wait_serial 2026112311
# The follower says so when the scheduler starts the zone, which may come
# after the restored signed version is already answering.
check "from the saved unsigned version" \
  wait_log "serving the saved version \(unsigned serial 2026112310\)" "$TMP/daemon2.log"
check "and it validates" axfr_validates "$signer_port" example.test

if [[ -n ${VERBOSE:-} ]]; then cat "$TMP/daemon.log" "$TMP/secondary/nsd.log"; fi
finish
