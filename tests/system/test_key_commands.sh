#!/usr/bin/env bash
# Key rollovers carried out by a running wiresignd, driven by the operator's
# commands, with compressed timings (seconds) and the zone checked on the wire:
#  - the first KSK's DS is asked for (the ds-hook runs with "submit" and the
#    DS in its environment, the metric counts the wait); `key ds-seen`
#    records it, and again is refused
#  - `key rollover --zsk`: the new ZSK is published before it signs, then
#    signs everything, then the old one is withdrawn; the AXFR validates
#    (dnssec-verify) at the end
#  - `key rollover --ksk`, then kill -9 and a restart mid-roll: the roll goes
#    on with the same keys; the hook submits the new DS, `key ds-seen` lets
#    the old KSK retire, the hook withdraws the old DS, `key ds-gone` lets
#    its DNSKEY go; CDS/CDNSKEY follow the KSK (cds: true); every step's
#    AXFR validates with dnssec-verify and ldns-verify-zone
#  - the policy's algorithm changed by reload: the zone is signed with the new
#    algorithm before its DNSKEYs appear (RFC 6781 §4.1.4), every version on
#    the way validates, and the end has only the new algorithm's keys
#  - `key generate --zsk` publishes a standby ZSK that signs nothing until
#    `key rollover --zsk` hands over to it
#  - wrong requests (unknown key tag) fail with the reason
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
for tool in dig dnssec-verify ldns-verify-zone curl; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed" >&2; exit 77; }
done
signer_port=$(random_port)
parent_port=$(random_port)  # nothing listens there: the parent check fails, the operator confirms
zone=example.test.
cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
  control: $TMP/control.sock
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: fast
    keystore: local
    # A new ZSK takes over as signatures come due: validity - refresh (10 s) counts in a ZSK roll.
    signatures: {validity: 40s, refresh: 30s, jitter: 2s, inception-offset: 5s}
    dnskey-ttl: 3s
    zone-max-ttl: 3s
    propagation-delay: 1s
    publish-safety: 1s
    retire-safety: 1s
    parent-ds-ttl: 3s
    parent-propagation-delay: 1s
    ds-check-interval: 1s
    cds: true
    ds-hook: 'echo "\$WIRESIGN_ACTION \$WIRESIGN_KEY_TAG \$WIRESIGN_DS" >> $TMP/hook.log'
zones:
  - name: $zone
    policy: fast
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
    parent-servers: ["127.0.0.1:$parent_port"]
EOF
trap 'stop_daemon; _cleanup' EXIT
ws() { wiresign "$@" --socket "$TMP/control.sock"; }

# The served zone (AXFR) in $TMP/axfr.zone, and what it says.
served() { bounded dig -p "$signer_port" +time=2 +tries=1 @127.0.0.1 "$zone" AXFR | grep -v '^;' | sed '/^$/d' | sed '$d' > "$TMP/axfr.zone"; }
tags_with_flags() { served && dnskey_tags "$TMP/axfr.zone" "$1" | tr '\n' ' ' | sed 's/ $//'; }
signers_of() { served && rrsig_tags "$TMP/axfr.zone" "$1" | tr '\n' ' ' | sed 's/ $//'; }
cds_tags() { served && awk '$4 == "CDS" {print $5}' "$TMP/axfr.zone" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
validates() {
  served && bounded dnssec-verify -q -o "$zone" "$TMP/axfr.zone" && bounded ldns-verify-zone "$TMP/axfr.zone" > /dev/null
}
# From `key list --json`: the state of RECORD of key TAG; the keys awaiting seen|gone.
key_state() {
  ws key list "$zone" --json | python3 -c "
import json, sys
for key in json.load(sys.stdin)['states']['keys']:
    if key['key_tag'] == int(sys.argv[1]) and sys.argv[2] in key:
        print(key[sys.argv[2]]['state'])" "$1" "$2"
}
awaiting() {
  ws key list "$zone" --json | python3 -c "
import json, sys
print(' '.join(str(k['key_tag']) for k in json.load(sys.stdin)['states']['keys'] if k['awaiting_ds'] == sys.argv[1]))" "$1"
}
# is VALUE COMMAND...: COMMAND prints exactly VALUE; has TEXT COMMAND...: its output contains TEXT.
is() { local want=$1; shift; [[ "$("$@")" == "$want" ]]; }
has() { local want=$1; shift; [[ "$("$@" 2>&1)" == *"$want"* ]]; }
lacks() { local unwanted=$1; shift; [[ "$("$@" 2>&1)" != *"$unwanted"* ]]; }
# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    "$@" > /dev/null 2>&1 && { pass "$what"; return 0; }
    sleep 0.2
  done
  fail "$what"
}
refused() {  # refused TEXT COMMAND...: COMMAND fails and says TEXT
  local want=$1 out rc; shift
  out=$("$@" 2>&1) && rc=0 || rc=$?
  [[ $rc -ne 0 && $out == *"$want"* ]] || { echo "exit $rc: $out" >&2; return 1; }
}

start_daemon
check "the zone is signed" wait_log "signed serial" "$TMP/daemon.log" 30
ksk=$(tags_with_flags 257)
zsk=$(tags_with_flags 256)
check "one KSK ($ksk) and one ZSK ($zsk)" test -n "$ksk" -a -n "$zsk" -a "${ksk// /}" = "$ksk" -a "${zsk// /}" = "$zsk"

# --- the first KSK's DS -------------------------------------------------------------
wait_for "the first KSK's DS is asked for" 30 is "$ksk" awaiting seen
check "status says the zone waits for it" has "ok; key $ksk waits for its DS to be published since" ws status
check "the ds-hook ran with submit and the DS" \
  wait_log "^submit $ksk $zone[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]+$ksk 13 2 " "$TMP/hook.log" 10
check "the parent's servers were asked (and did not answer)" \
  wait_log "waiting for the DS to appear at the parent: .*did not answer" "$TMP/daemon.log" 10
bounded curl -s --unix-socket "$TMP/control.sock" http://wiresignd/metrics > "$TMP/metrics.txt"
check "the DS wait is a metric" \
  grep -qE "^wiresign_key_ds_wait_seconds\{zone=\"$zone\",key_tag=\"$ksk\",awaiting=\"seen\"\} [0-9.]+" "$TMP/metrics.txt"
check "CDS for the KSK is published (cds: true)" is "$ksk" cds_tags
check "ds-seen is recorded" has "is at the parent" ws key ds-seen "$zone" "$ksk"
wait_for "the DS turns omnipresent after the DS TTL" 20 is omnipresent key_state "$ksk" ds
check "ds-seen for a key not waiting is refused" refused "is not waiting" ws key ds-seen "$zone" "$ksk"
check "rollover of an unknown key tag is refused with the reason" \
  refused "no key in service matches key tag 1" ws key rollover "$zone" --key 1

# --- ZSK rollover ----------------------------------------------------------------------
check "rollover --zsk starts" has "rollover of ZSK $zsk" ws key rollover "$zone" --zsk
# Published first: two ZSK DNSKEYs while the old one still signs.
prepublished=""
for _ in $(seq 1 100); do
  zsks=$(tags_with_flags 256)
  if [[ $zsks == *" "* ]]; then
    [[ $(signers_of SOA) == "$zsk" ]] && prepublished=$zsks
    break
  fi
  sleep 0.2
done
check "the new ZSK is published while the old one still signs ($prepublished)" test -n "$prepublished"
new_zsk=$(echo "$prepublished" | tr ' ' '\n' | grep -vx "$zsk" | head -n1)
wait_for "then the new ZSK $new_zsk alone signs the zone" 30 is "$new_zsk" signers_of A
wait_for "then the old ZSK's DNSKEY goes" 30 is "$new_zsk" tags_with_flags 256
check "the zone validates after the ZSK roll (dnssec-verify, ldns-verify-zone)" validates

# --- KSK rollover, with a crash in the middle --------------------------------------------
check "rollover --ksk starts" has "rollover of KSK $ksk" ws key rollover "$zone" --ksk
wait_for "the new KSK is published next to the old one" 30 has " " tags_with_flags 257
ksks_before=$(tags_with_flags 257)
check "timeline plans from the daemon's key states" has "key states from $TMP/state/keys/example.test.json" \
  wiresign timeline "$zone" --config "$TMP/wiresign.yaml"
new_ksk=$(echo "$ksks_before" | tr ' ' '\n' | grep -vx "$ksk" | head -n1)
stop_daemon -KILL
start_daemon
check "after kill -9 the restarted daemon serves the saved version" wait_log "serving saved signed serial" "$TMP/daemon.log" 30
check "  with the same KSKs ($ksks_before)" is "$ksks_before" tags_with_flags 257
check "the hook submits the new KSK's DS" wait_log "^submit $new_ksk " "$TMP/hook.log" 30
check "while its DS is awaited, the old KSK still signs the DNSKEY RRset" has "$ksk" signers_of DNSKEY
check "ds-seen for the new KSK" has "is at the parent" ws key ds-seen "$zone" "$new_ksk"
check "the hook withdraws the old KSK's DS" wait_log "^withdraw $ksk " "$TMP/hook.log" 30
check "CDS now names the new KSK only ($(cds_tags))" is "$new_ksk" cds_tags
check "the zone validates mid-roll" validates
wait_for "the old DS is awaited gone" 20 is "$ksk" awaiting gone
check "ds-gone for the old KSK" has "is gone from the parent" ws key ds-gone "$zone" "$ksk"
wait_for "then the old KSK's DNSKEY goes" 30 is "$new_ksk" tags_with_flags 257
check "the zone validates after the KSK roll (dnssec-verify, ldns-verify-zone)" validates
check "the retirement is logged" wait_log "KSK $ksk .* is retired" "$TMP/daemon.log" 20

# --- algorithm rollover: the policy changes to ECDSA P-384 by reload -----------------------
# RFC 6781 §4.1.4: signatures of the new algorithm everywhere before its
# DNSKEYs; the zone validates at every version served on the way.
sed -i 's/^    keystore: local$/    keystore: local\n    algorithm: ecdsap384sha384/' "$TMP/wiresign.yaml"
check "the config now asks for ecdsap384sha384" grep -q "algorithm: ecdsap384sha384" "$TMP/wiresign.yaml"
check "reload" has "" ws reload
algorithm_roll_done() {  # every DNSKEY and RRSIG is of algorithm 14, and the zone validates
  validates || { echo "does not validate" >&2; return 1; }
  local new_ds old_ds
  new_ds=$(awaiting seen)
  old_ds=$(awaiting gone)
  [[ -z $new_ds ]] || ws key ds-seen "$zone" "$new_ds" > /dev/null || true
  [[ -z $old_ds ]] || ws key ds-gone "$zone" "$old_ds" > /dev/null || true
  [[ -z $(awk '($4 == "DNSKEY" && $7 != 14) || ($4 == "RRSIG" && $6 != 14)' "$TMP/axfr.zone") &&
     -n $(awk '$4 == "DNSKEY" && $7 == 14' "$TMP/axfr.zone") ]]
}
invalid_seen=0
for _ in $(seq 1 150); do
  if algorithm_roll_done; then break; fi
  validates || invalid_seen=$((invalid_seen + 1))
  sleep 0.2
done
check "the algorithm roll ends with only ecdsap384sha384 DNSKEYs and RRSIGs" algorithm_roll_done
check "every version served on the way validated ($invalid_seen did not)" test "$invalid_seen" -eq 0
signatures_first() {
  local zrrsig dnskey
  zrrsig=$(grep -n "ZSK [0-9]* (ecdsap384sha384): ZRRSIG hidden -> rumoured" "$TMP/daemon.log" | head -n1 | cut -d: -f1)
  dnskey=$(grep -n "ZSK [0-9]* (ecdsap384sha384): DNSKEY hidden -> rumoured" "$TMP/daemon.log" | head -n1 | cut -d: -f1)
  [[ -n $zrrsig && -n $dnskey && $zrrsig -lt $dnskey ]]
}
check "the new algorithm's ZSK signed the zone before its DNSKEY was published" signatures_first

# --- a standby ZSK, then a roll that hands over to it ------------------------------------
check "key generate --csk is refused under a KSK+ZSK policy" refused "not a csk" ws key generate "$zone" --csk
zsk=$(tags_with_flags 256)
check "key generate --zsk makes a standby key" has "as a standby key" ws key generate "$zone" --zsk
wait_for "the standby ZSK is published" 30 has " " tags_with_flags 256
standby=$(tags_with_flags 256 | tr ' ' '\n' | grep -vx "$zsk" | head -n1)
check "but does not sign ($zsk still does; signers: $(signers_of A))" is "$zsk" signers_of A
generated=$(grep -c "generated zsk" "$TMP/daemon.log")
check "rollover --zsk hands over to it" has "rollover of ZSK $zsk" ws key rollover "$zone" --zsk
wait_for "the standby ZSK $standby now signs the zone" 30 is "$standby" signers_of A
check "and no further ZSK was made for the roll" test "$(grep -c "generated zsk" "$TMP/daemon.log")" -eq "$generated"
check "the zone validates" validates
[[ -z ${VERBOSE:-} ]] || cat "$TMP/daemon.log"
(( FAILED == 0 )) || tail -n 40 "$TMP/daemon.log" >&2
finish
