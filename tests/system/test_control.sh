#!/usr/bin/env bash
# The control API and metrics of a running wiresignd (a file zone, and a
# zone followed from a real NSD primary), driven by the `wiresign` command:
#  - status / zone list / zone show report the real state (serials equal what
#    dig gets from the daemon); errors name the zone and exit non-zero
#  - zone resign publishes a new serial; zone retransfer makes a full
#    transfer; zone notify sends NOTIFY again; a held input is shown with its
#    reason and zone release publishes it; zone hold holds new inputs while
#    re-signing goes on; reload re-reads file zones
#  - /metrics over HTTP: the earliest RRSIG expiration equals the minimum
#    over the RRSIGs of an AXFR, the serial gauge equals the served serial
#  - the control socket is owner-only; the TCP control port needs the token
#  - reload adds and removes zones live while another zone answers every
#    query; a bad config is refused with file:line and changes nothing
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
command -v nsd > /dev/null || { echo "FAIL: nsd is not installed (tools/install-deps.sh)" >&2; exit 1; }
signer_port=$(random_port)
primary_port=$(random_port)
metrics_port=$(random_port)
control_port=$(random_port)
notify_port=$((signer_port + 1))

python3 "$SRC/tools/gen_zone.py" example.test. 300 > "$TMP/example.test.zone"
sed 's/example\.test\./follow.test./' "$SRC/examples/example.test.zone" > "$TMP/follow.test.zone"
(umask 077 && echo "s3cret-token-for-tests" > "$TMP/token")
{ nsd_server_conf "$TMP" "$primary_port"; cat <<NSD
zone:
  name: follow.test
  zonefile: follow.test.zone
  provide-xfr: 127.0.0.1 NOKEY
NSD
} > "$TMP/nsd.conf"
cat > "$TMP/wiresign.yaml" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
  control-tcp: "127.0.0.1:$control_port"
  control-token-file: $TMP/token
  metrics: "127.0.0.1:$metrics_port"
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
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
    notify: ["127.0.0.1:$notify_port"]
  - name: follow.test
    policy: default
    primaries: ["127.0.0.1:$primary_port"]
    allow-transfer: ["127.0.0.1"]
YAML

nsd -d -c "$TMP/nsd.conf" > "$TMP/nsd.out" 2>&1 &
nsd_pid=$!
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
stop_all() {
  kill "$daemon" "$nsd_pid" 2>/dev/null || true
  wait "$daemon" "$nsd_pid" 2>/dev/null || true
}
trap 'stop_all; _cleanup' EXIT
ws() { bounded "$WIRESIGN" "$@" --config "$TMP/wiresign.yaml"; }
dig_() { bounded dig -p "$signer_port" +time=2 +tries=1 "$@"; }
serial_of() { dig_ +short @127.0.0.1 "$1" SOA | awk '{print $3}'; }

check "both zones are served" wait_log "follow.test.: signed serial"
wait_log "example.test.: signed serial" || true
check "the control socket is owner-only (0600)" test "$(stat -c %a "$TMP/state/control.sock")" = 600

ws status > "$TMP/status.txt"
[[ -n ${VERBOSE:-} ]] && cat "$TMP/status.txt"
check "status lists both zones as ok" \
  bash -c "grep -q '^example.test\..* ok$' '$TMP/status.txt' && grep -q '^follow.test\..* ok$' '$TMP/status.txt'"
ws zone list --json > "$TMP/zones.json"
s1=$(serial_of example.test)
check "zone list --json has the serials the daemon serves" python3 - "$TMP/zones.json" "$s1" "$(serial_of follow.test)" <<'PY'
import json, sys
zones = {z["zone"]: z for z in json.load(open(sys.argv[1]))}
assert zones["example.test."]["signed_serial"] == int(sys.argv[2]), zones["example.test."]
assert zones["follow.test."]["signed_serial"] == int(sys.argv[3]), zones["follow.test."]
assert zones["follow.test."]["primary"]["unsigned_serial"] == 2026112301
assert zones["follow.test."]["primary"]["reachable"] is True
PY
ws zone show example.test > "$TMP/show.txt"
check "zone show says until when signatures are valid and the next re-sign" \
  bash -c "grep -q '^signatures valid until: *20' '$TMP/show.txt' && grep -q '^next re-sign: *20' '$TMP/show.txt'"
if ws zone show nosuch.test > /dev/null 2> "$TMP/err.txt"; then
  fail "zone show of an unknown zone succeeded"
else
  check "an unknown zone is named in the error" grep -q "zone nosuch.test is not configured here" "$TMP/err.txt"
fi

# Keys as published, and DS for the registrar, checked with BIND's dnssec-dsfromkey.
ws key list example.test > "$TMP/keys.txt"
check "key list shows the KSK and the ZSK" \
  bash -c "grep -q '^[0-9]* *KSK (SEP) *ecdsap256sha256' '$TMP/keys.txt' && grep -q '^[0-9]* *ZSK *ecdsap256sha256' '$TMP/keys.txt'"
ws key ds example.test > "$TMP/ds.txt"
grep ' DNSKEY ' "$TMP/ds.txt" > "$TMP/ksk.dnskey"
bounded dnssec-dsfromkey -2 -f "$TMP/ksk.dnskey" example.test > "$TMP/ds.bind" 2>&1 || true
check "key ds gives the DS BIND computes from the published KSK" \
  bash -c "grep -q \"\$(awk '{print \$4, \$5, \$6, \$7}' '$TMP/ds.bind' | head -n1)\" '$TMP/ds.txt'"

# Actions.
ws zone resign example.test > "$TMP/resign.txt"
check "zone resign answers" grep -q "example.test.: re-sign started" "$TMP/resign.txt"
check "zone resign publishes a new serial" wait_serial $((s1 + 1))
notifies=$(grep -c "example.test.: NOTIFY for serial $((s1 + 1))" "$TMP/daemon.log" || true)
ws zone notify example.test > /dev/null
check "zone notify sends NOTIFY again" \
  bash -c "for i in \$(seq 1 50); do [[ \$(grep -c 'example.test.: NOTIFY for serial $((s1 + 1))' '$TMP/daemon.log') -gt $notifies ]] && exit 0; sleep 0.1; done; exit 1"
ws zone retransfer follow.test > /dev/null
check "zone retransfer makes a full transfer from the primary" wait_log "follow.test.: AXFR from 127.0.0.1:$primary_port \(retransfer asked\)"
if ws zone release example.test > /dev/null 2> "$TMP/err.txt"; then
  fail "release without a held input succeeded"
else
  check "release without a held input says so" grep -q "nothing is held" "$TMP/err.txt"
fi

# A held input is shown with its reason and released by command.
python3 "$SRC/tools/gen_zone.py" example.test. 20 > "$TMP/example.test.zone"
sed -i -E 's/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 5 /' "$TMP/example.test.zone"
check "the shrunken input is held" wait_log "example.test.: HELD"
ws zone show example.test > "$TMP/show-held.txt"
check "zone show says it is held and why" grep -q "^held: *YES: removes [0-9]*% of the names" "$TMP/show-held.txt"
check "status shows HELD" bash -c "'$WIRESIGN' status --config '$TMP/wiresign.yaml' | grep -q '^example.test\..*HELD'"
ws zone release example.test > /dev/null
check "zone release publishes it (input serial 5, policy increment: 6)" wait_serial 6

# Metrics over HTTP agree with what the daemon serves.
dig_ @127.0.0.1 example.test AXFR > "$TMP/axfr.txt"
bounded curl -s "http://127.0.0.1:$metrics_port/metrics" > "$TMP/metrics.txt"
check "metrics: signed serial and earliest RRSIG expiration match the AXFR" \
  python3 - "$TMP/metrics.txt" "$TMP/axfr.txt" 6 <<'PY'
import calendar, sys, time
metrics = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    metrics[name] = float(value)
zone = '{zone="example.test."}'
assert metrics["wiresign_zone_signed_serial" + zone] == int(sys.argv[3]), metrics
expirations = []
for line in open(sys.argv[2]):
    fields = line.split()
    if len(fields) > 8 and not line.startswith(";") and fields[3] == "RRSIG":
        expirations.append(calendar.timegm(time.strptime(fields[8], "%Y%m%d%H%M%S")))
assert expirations, "no RRSIGs in the AXFR"
got = metrics["wiresign_zone_rrsig_earliest_expiration_timestamp_seconds" + zone]
assert got == min(expirations), (got, min(expirations))
assert metrics["wiresign_zone_held" + zone] == 0
assert metrics['wiresign_zone_past_soa_expire_seconds{zone="follow.test."}'] == 0
assert metrics['wiresign_zone_transfers_total{zone="example.test.",direction="out",type="AXFR",outcome="full"}'] >= 1
assert metrics['wiresign_zone_transfers_total{zone="follow.test.",direction="in",type="AXFR",outcome="full"}'] >= 1
assert "wiresign_zone_notify_pending" + zone in metrics
# Every RRSIG made went through the keystore, timed: the counts agree.
made = sum(v for k, v in metrics.items() if k.startswith("wiresign_zone_rrsigs_made_total"))
assert metrics['wiresign_keystore_sign_seconds_count{keystore="local"}'] == made, (made, metrics)
assert metrics['wiresign_keystore_sign_seconds_bucket{keystore="local",le="+Inf"}'] == made
assert metrics['wiresign_keystore_errors_total{keystore="local"}'] == 0
# The worker pool: bounded (default 4 workers), and it has run the zones' jobs.
assert 0 <= metrics["wiresign_scheduler_running"] <= 4, metrics["wiresign_scheduler_running"]
assert metrics['wiresign_scheduler_queued{kind="refresh"}'] <= 2  # one entry per zone at most
assert metrics["wiresign_scheduler_jobs_total"] >= 2
# Key states: the KSK and ZSK of example.test. each have their DNSKEY published.
states = [k for k in metrics if k.startswith('wiresign_key_record_state{zone="example.test.",') and 'record="dnskey"' in k]
assert len(states) == 2 and all('state="rumoured"' in k or 'state="omnipresent"' in k for k in states), states
PY
check "every metric the shipped alert rules use is exported" python3 - "$TMP/metrics.txt" "$SRC/packaging/prometheus/wiresign-alerts.yml" <<'PY'
import re, sys
exported = {line.split("{")[0].split(" ")[0] for line in open(sys.argv[1]) if not line.startswith("#")}
used = set(re.findall(r"wiresign_[a-z_]+", open(sys.argv[2]).read())) - {"wiresign_alerts"}
missing = used - exported
assert not missing, missing
PY
check "the TCP control port refuses a request without the token" \
  test "$(bounded curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$control_port/status")" = 401
check "and answers with it" \
  test "$(bounded curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-token-for-tests' "http://127.0.0.1:$control_port/status")" = 200
check "the metrics port serves only /metrics" \
  test "$(bounded curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/status")" = 404

echo "ctl-reload IN A 192.0.2.99" >> "$TMP/example.test.zone"
sed -i -E 's/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 6 /' "$TMP/example.test.zone"
ws reload > /dev/null
check "reload re-reads the file zone" wait_serial 7
check "the reload is logged" grep -q "reload asked over the control API" "$TMP/daemon.log"

# Live reconfiguration: a zone added, then one removed, while the other keeps
# answering every query (a query every 50 ms throughout).
check "policy check accepts the config" bounded "$WIRESIGN" policy check "$TMP/wiresign.yaml"
sed 's/example\.test\./added.test./' "$SRC/examples/example.test.zone" > "$TMP/added.test.zone"
cp "$TMP/wiresign.yaml" "$TMP/wiresign.yaml.orig"
cat >> "$TMP/wiresign.yaml" <<YAML
  - name: added.test
    policy: default
    file: $TMP/added.test.zone
    allow-transfer: ["127.0.0.1"]
YAML
( misses=0
  for _ in $(seq 1 100); do
    [[ $(dig -p "$signer_port" +time=1 +tries=1 +short @127.0.0.1 example.test SOA 2>/dev/null | awk '{print $3}') == 7 ]] ||
      misses=$((misses + 1))
    sleep 0.05
  done
  echo "$misses" > "$TMP/misses" ) &
prober=$!
ws reload > "$TMP/reload.txt"
check "reload reports the added zone" grep -q "zones added: added.test." "$TMP/reload.txt"
check "the added zone is served" \
  bash -c "dig -p $signer_port +time=2 +tries=1 +short @127.0.0.1 added.test SOA | grep -q 2026112302"
python3 - "$TMP/wiresign.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
start = text.index("  - name: follow.test")
end = text.index("  - name: added.test")
open(sys.argv[1], "w").write(text[:start] + text[end:])
PY
ws reload > "$TMP/reload2.txt"
check "reload reports the removed zone" grep -q "removed: follow.test." "$TMP/reload2.txt"
check "the removed zone is no longer served (REFUSED)" \
  bash -c "dig -p $signer_port +time=2 +tries=1 @127.0.0.1 follow.test SOA | grep -q 'status: REFUSED'"
wait "$prober"
check "example.test answered every query during both reloads ($(cat "$TMP/misses") misses)" test "$(cat "$TMP/misses")" = 0
check "and kept its serial" test "$(serial_of example.test)" = 7
echo "  - {name: broken.test, policy: nope, file: x}" >> "$TMP/wiresign.yaml"
if ws reload > /dev/null 2> "$TMP/err.txt"; then
  fail "a reload with a bad config succeeded"
else
  check "a bad config is refused with file:line, nothing changed" grep -q "wiresign.yaml:[0-9]*: .*\"nope\"" "$TMP/err.txt"
fi
check "policy check names the same problem" bash -c "! '$WIRESIGN' policy check '$TMP/wiresign.yaml' 2>&1 | grep -q OK"
check "added.test is still served after the refused reload" \
  bash -c "dig -p $signer_port +time=2 +tries=1 +short @127.0.0.1 added.test SOA | grep -q 2026112302"
cp "$TMP/wiresign.yaml.orig" "$TMP/wiresign.yaml"

# An operator hold: new inputs wait, re-signing goes on, release publishes.
ws zone hold example.test > /dev/null
echo "held-host IN A 192.0.2.77" >> "$TMP/example.test.zone"
sed -i -E 's/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 8 /' "$TMP/example.test.zone"
check "a new input during an operator hold is held" wait_log "example.test.: HELD, not published: .*while the operator holds"
check "status shows it" bash -c "'$WIRESIGN' status --config '$TMP/wiresign.yaml' | grep -q '^example.test\..*HELD'"
check "the version in service stays (serial 7)" test "$(serial_of example.test)" = 7
ws zone resign example.test > /dev/null
check "re-signing goes on during the hold (serial 8, without the held change)" wait_serial 8
check "the held change is not served" test -z "$(dig_ +short @127.0.0.1 held-host.example.test A)"
ws zone release example.test > /dev/null
check "release publishes the held input (serial 9)" wait_serial 9
check "with the held change" test "$(dig_ +short @127.0.0.1 held-host.example.test A)" = 192.0.2.77

finish
