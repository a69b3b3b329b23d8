#!/usr/bin/env bash
# Automatic key rollovers judged from the wire, with timings compressed to
# seconds (RFC 7583 pre-publication ZSK roll, double-KSK roll with the DS
# exchange through the ds-hook):
#  - parent.test., signed by BIND's dnssec-signzone and served by NSD,
#    delegates child.parent.test. to a second NSD, secondary of wiresignd
#    (wiresignd answers only names that exist: it is a hidden signer); the
#    child's first DS is computed from the DNSKEY RRset on the wire
#  - the ds-hook (this test's "registrar") adds or removes the child's DS in
#    the parent, re-signs it and reloads NSD; wiresignd sees the DS change by
#    asking the parent server (parent-servers, every ds-check-interval)
#  - Unbound, with the parent's KSK as its only trust anchor, answers
#    www.child.parent.test. A (and a name that does not exist) every second,
#    from before the first roll until after the last: never SERVFAIL, always AD
#  - from the child's DNSKEY RRset and the parent's DS RRset, second by
#    second: a new ZSK is published, signs no sooner than the DNSKEY TTL
#    later, and the old ZSK goes no sooner than the TTL after that; a new KSK
#    is published, its DS reaches the parent by the hook, the old KSK goes no
#    sooner than the DS TTL after that and the hook withdraws its DS; at every
#    second some DS at the parent is for a KSK that signs the DNSKEY RRset
#  - AXFRs of the child from wiresignd and from the secondary at the end
#    validate with dnssec-verify
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR,
# ROLL_LIMIT (seconds the rolls may take, 300), KEEP_GOING (do not stop at
# the first failed answer), VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Two minutes of real rollovers with 5 s TTLs, judged by second-exact gaps:
# run on the normal build; under the sanitizers the same daemon code (key
# states, parent checks, hook) runs in test_key_commands.
if [[ -n ${WIRESIGN_INSTRUMENTED:-} ]]; then
  echo "test_rollover: skipped (timing test; WIRESIGN_INSTRUMENTED is set)"
  exit 77
fi

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
for tool in nsd unbound dig dnssec-keygen dnssec-signzone dnssec-dsfromkey dnssec-verify flock; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed (tools/install-deps.sh)"; exit 77; }
done

parent=parent.test.
child=child.parent.test.
ports=()
while ((${#ports[@]} < 4)); do
  port=$(random_port)
  [[ " ${ports[*]} " == *" $port "* ]] || ports+=("$port")
done
parent_port=${ports[0]} signer_port=${ports[1]} secondary_port=${ports[2]} resolver_port=${ports[3]}

# The compressed policy, in seconds; signatures are valid 40 s and renewed
# 30 s before they expire, in slices. A ZSK roll takes publish (dnskey-ttl 5
# + propagation 2 + publish safety 2 = 9) + signatures (validity - refresh
# 10, as the new ZSK takes over RRset by RRset as signatures come due, +
# zone-max-ttl 5 + propagation 2 + retire safety 2 = 19) + removal (9) =
# 37 s; a KSK roll 9 + the hook and the parent check (~2) + DS TTL 5 +
# parent propagation 1 + retire safety 2 + removal 9, about 28 s. A
# successor comes its publish time (9 s) before the lifetime ends: the ZSK
# roll runs from about 66 s to 103 s, the KSK roll from about 91 s to 120 s;
# the second ZSK roll (from about 141 s) comes after the end.
zsk_lifetime=75
ksk_lifetime=100
ttl=5
roll_limit=${ROLL_LIMIT:-300}

# --- the parent: keys, zone, the registrar hook, NSD ------------------------------
mkdir -p "$TMP/parent/keys"
bounded dnssec-keygen -q -K "$TMP/parent/keys" -a ECDSAP256SHA256 -L $ttl -f KSK $parent > /dev/null
bounded dnssec-keygen -q -K "$TMP/parent/keys" -a ECDSAP256SHA256 -L $ttl $parent > /dev/null
cat > "$TMP/parent/base.zone" <<ZONE
\$ORIGIN $parent
\$TTL $ttl
@      IN SOA ns hostmaster ( SERIAL 3600 600 86400 $ttl )
       IN NS  ns
ns     IN A   127.0.0.1
child  IN NS  ns.child
ns.child IN A 127.0.0.1
ZONE
: > "$TMP/parent/ds.zone"   # the child's DS records, as the registrar holds them
echo 1 > "$TMP/parent/serial"

# The registrar: wiresignd's ds-hook, also run by hand below for the first DS.
hook=(bash "$SRC/tests/system/rollover/ds-hook.sh" "$TMP/parent" "$parent_port" "$parent" "$ttl")

sed "s/SERIAL/1/" "$TMP/parent/base.zone" > "$TMP/parent/parent.zone"
bounded dnssec-signzone -q -S -K "$TMP/parent/keys" -d "$TMP/parent" -o $parent -f "$TMP/parent/parent.signed" \
  "$TMP/parent/parent.zone" > /dev/null
{ nsd_server_conf "$TMP/parent" "$parent_port"; cat <<NSD
zone:
  name: $parent
  zonefile: parent.signed
NSD
} > "$TMP/parent/nsd.conf"

# --- the child: wiresignd with the compressed policy ---------------------------------
cat > "$TMP/child.parent.test.zone" <<ZONE
\$ORIGIN $child
\$TTL $ttl
@     IN SOA ns hostmaster ( 2026112301 3600 600 86400 $ttl )
      IN NS  ns
ns    IN A   127.0.0.1
www   IN A   192.0.2.80
      IN AAAA 2001:db8::80
mail  IN A   192.0.2.25
ZONE
cat > "$TMP/wiresign.yaml" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
  control: $TMP/control.sock
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: fast-roll
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 40s, refresh: 30s, jitter: 2s, inception-offset: 5s}
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
    dnskey-ttl: ${ttl}s
    zsk-lifetime: ${zsk_lifetime}s
    ksk-lifetime: ${ksk_lifetime}s
    zone-max-ttl: ${ttl}s
    propagation-delay: 2s
    parent-ds-ttl: ${ttl}s
    parent-propagation-delay: 1s
    parent-registration-delay: 5s
    publish-safety: 2s
    retire-safety: 2s
    ds-hook: "${hook[*]}"
    ds-check-interval: 2s
zones:
  - name: $child
    policy: fast-roll
    file: $TMP/child.parent.test.zone
    allow-transfer: ["127.0.0.1"]
    notify: ["127.0.0.1:$secondary_port"]
    parent-servers: ["127.0.0.1:$parent_port"]
YAML

mkdir -p "$TMP/secondary"
{ nsd_server_conf "$TMP/secondary" "$secondary_port"; cat <<NSD
zone:
  name: $child
  zonefile: child.parent.test.signed
  request-xfr: AXFR 127.0.0.1@$signer_port NOKEY
  allow-notify: 127.0.0.1 NOKEY
  provide-xfr: 127.0.0.1 NOKEY
NSD
} > "$TMP/secondary/nsd.conf"

nsd_pid="" secondary_pid="" daemon="" resolver_pid=""
stop_all() {
  kill $daemon $nsd_pid $secondary_pid $resolver_pid 2>/dev/null || true
  wait $daemon $nsd_pid $secondary_pid $resolver_pid 2>/dev/null || true
}
trap 'stop_all; _cleanup' EXIT
trap 'exit 143' TERM INT   # through the EXIT trap: no server outlives the test
# show_logs: the tails a failure needs, once.
logs_shown=""
show_logs() {
  [[ -z $logs_shown ]] || return 0
  logs_shown=1
  echo "--- wiresignd log (last 60 lines) ---" >&2; tail -n 60 "$TMP/daemon.log" >&2 || true
  echo "--- Unbound log (validation failures, then the last 30 lines) ---" >&2
  grep "validation failure" "$TMP/unbound/unbound.log" 2>/dev/null | head -n 10 >&2 || true
  tail -n 30 "$TMP/unbound/unbound.log" >&2 2>/dev/null || true
  echo "--- secondary NSD log (last 10 lines) ---" >&2; tail -n 10 "$TMP/secondary/nsd.log" >&2 2>/dev/null || true
  echo "--- ds-hook log ---" >&2; cat "$TMP/parent/hook.log" >&2 2>/dev/null || true
  echo "--- wire observations (last 40 seconds) ---" >&2; tail -n 40 "$TMP/observations.log" >&2 2>/dev/null || true
}

check "wiresignd --check accepts the rollover policy" bounded "$WIRESIGND" -c "$TMP/wiresign.yaml" --check
if bounded "$WIRESIGN" policy check "$TMP/wiresign.yaml" > "$TMP/policy-check.out" 2>&1; then
  pass "the policy lint accepts it (parent-registration-delay: the hook registers a DS within seconds)"
else
  fail "the policy lint refuses the rollover policy: $(cat "$TMP/policy-check.out")"
fi

nsd -d -c "$TMP/parent/nsd.conf" > "$TMP/parent/nsd.out" 2>&1 &
nsd_pid=$!
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
nsd -d -c "$TMP/secondary/nsd.conf" > "$TMP/secondary/nsd.out" 2>&1 &
secondary_pid=$!
started=$(date +%s)

# wait_serial_of SERIAL ZONE PORT: the server on 127.0.0.1:PORT serves ZONE
# with SERIAL (bounded: 10 s).
wait_serial_of() {
  local got=""
  for _ in $(seq 1 100); do
    got=$(bounded dig -p "$3" +time=1 +tries=1 +short @127.0.0.1 "$2" SOA 2>/dev/null | awk '{print $3}') || true
    [[ $got == "$1" ]] && return 0
    sleep 0.1
  done
  echo "127.0.0.1:$3 serves $2 with serial '$got', wanted $1" >&2
  return 1
}
sdig() { bounded dig -p "$signer_port" +time=2 +tries=1 @127.0.0.1 "$@"; }
xdig() { bounded dig -p "$secondary_port" +time=2 +tries=1 @127.0.0.1 "$@"; }
pdig() { bounded dig -p "$parent_port" +time=2 +tries=1 @127.0.0.1 "$@"; }
rdig() { bounded dig -p "$resolver_port" +time=3 +tries=1 @127.0.0.1 "$@"; }

served=""
for _ in $(seq 1 100); do
  served=$(sdig +short $child SOA 2>/dev/null | awk '{print $3}') || true
  [[ -n $served ]] && break
  sleep 0.1
done
if [[ -z $served ]]; then
  fail "wiresignd serves $child within 10 s"
  show_logs
  finish
fi
pass "wiresignd serves $child (serial $served)"
check "the secondary NSD has serial $served" wait_serial_of "$served" $child "$secondary_port"
wiresign timeline $child --config "$TMP/wiresign.yaml" --months 1 > "$TMP/timeline.txt" 2>&1 || true
[[ -z ${VERBOSE:-} ]] || cat "$TMP/timeline.txt"

# The first DS, from the DNSKEY RRset on the wire, registered by hand through the hook.
check "NSD serves $parent" bash -c "dig -p $parent_port +time=2 +tries=1 +short @127.0.0.1 $parent SOA | grep -q ."
xdig +noall +answer $child DNSKEY > "$TMP/child.dnskey"
first_ds=$(bounded dnssec-dsfromkey -2 -f "$TMP/child.dnskey" $child)
check "the child's first KSK gives one DS ($first_ds)" test "$(grep -c ' DS ' <<< "$first_ds")" -eq 1
first_ksk=$(awk '{ for (i = 1; i < NF; i++) if ($i == "DS") print $(i+1) }' <<< "$first_ds")
if WIRESIGN_ZONE=$child WIRESIGN_ACTION=submit WIRESIGN_KEY_TAG=$first_ksk WIRESIGN_ALGORITHM=13 \
     WIRESIGN_DS="$first_ds" WIRESIGN_DNSKEY="" bounded "${hook[@]}" 2> "$TMP/hook-by-hand.err"; then
  pass "the hook, run by hand, registers the first DS"
else
  fail "the hook, run by hand: $(cat "$TMP/hook-by-hand.err")"
fi
check "NSD serves the child's DS $first_ksk" \
  bash -c "dig -p $parent_port +time=2 +tries=1 +short @127.0.0.1 $child DS | grep -q '^$first_ksk '"

# --- Unbound, trusting only the parent's KSK ---------------------------------------
mkdir -p "$TMP/unbound"
parent_ksk=$(grep -l 'DNSKEY 257' "$TMP/parent/keys"/K${parent}*.key | head -n1)
anchor=$(bounded dnssec-dsfromkey -2 "$parent_ksk")
{ unbound_conf "$TMP/unbound" "$resolver_port" "$anchor" "  log-time-ascii: yes
  verbosity: 1
  trust-anchor-signaling: no"; cat <<UNBOUND; } > "$TMP/unbound/unbound.conf"
stub-zone:
  name: "$parent"
  stub-addr: 127.0.0.1@$parent_port
stub-zone:
  name: "$child"
  stub-addr: 127.0.0.1@$secondary_port
UNBOUND
unbound -d -c "$TMP/unbound/unbound.conf" > "$TMP/unbound/unbound.out" 2>&1 &
resolver_pid=$!

# answer NAME TYPE: "RCODE ad|noad" from Unbound ("TIMEOUT noad" without an answer).
answer() {
  local out
  out=$(rdig +dnssec "$1" "$2" 2>/dev/null) || { echo "TIMEOUT noad"; return; }
  local rcode ad=noad
  rcode=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<< "$out" | head -n1)
  grep -q "flags:.* ad[ ;]" <<< "$out" && ad=ad
  echo "${rcode:-NONE} $ad"
}
validated=""
for _ in $(seq 1 50); do
  validated=$(answer www.$child A)
  [[ $validated == "NOERROR ad" ]] && break
  sleep 0.2
done
if [[ $validated != "NOERROR ad" ]]; then
  fail "Unbound validates www.$child before any roll (got: $validated)"
  show_logs
  finish
fi
pass "Unbound validates www.$child with the first keys (AD)"

# --- every second, until the rolls are done --------------------------------------------
# dnskey_tags: "KSKs ZSKs DNSKEY-signers", each a comma-separated list of key
# tags ("-" for none), from the output of dig +multi +dnssec DNSKEY on stdin.
dnskey_tags() {
  awk '
    / DNSKEY 25[67] / { flags = $5 }
    /key id = / { id = $NF; if (flags == 257) ksk = ksk (ksk ? "," : "") id; else zsk = zsk (zsk ? "," : "") id }
    / RRSIG DNSKEY / { want = 1; next }
    want { sig = sig (sig ? "," : "") $3; want = 0 }
    END { print (ksk ? ksk : "-"), (zsk ? zsk : "-"), (sig ? sig : "-") }'
}
# sleep_until SECOND: sleep until that Unix second begins (at once if it has).
sleep_until() { sleep "$(awk -v t="$(date +%s.%N)" -v n="$1" 'BEGIN { d = n - t; print (d > 0 ? d : 0) }')"; }
# in_list TAG LIST: TAG is one of the comma-separated LIST.
in_list() { [[ ,$2, == *,$1,* ]]; }
# others LIST EXCLUDED: the tags of LIST that are not EXCLUDED, comma-separated.
others() { tr ',' '\n' <<< "$1" | { grep -v -x -e "$2" -e - || true; } | paste -sd, -; }

: > "$TMP/observations.log"
first_zsk="" new_zsk="" new_ksk="" done_at=""
declare -A seen_at=()   # milestone -> seconds since wiresignd started
milestone() { [[ -n ${seen_at[$1]:-} ]] || { seen_at[$1]=$2; [[ -z ${VERBOSE:-} ]] || echo "t=$2 s: $1"; }; }
bad_answers=0
deadline=$((started + roll_limit))
while :; do
  tick=$(date +%s)
  t=$((tick - started))
  www=$(answer www.$child A)
  nx=$(answer "nx-$t.$child" A)
  read -r ksks zsks dnskey_signers < <(xdig +multi +dnssec $child DNSKEY 2>/dev/null | dnskey_tags)
  # The keys whose signatures the zone carries, over all but the DNSKEY RRset.
  zone_signers=$(xdig +nomulti +noall +answer $child AXFR 2>/dev/null |
    awk '$4 == "RRSIG" && $5 != "DNSKEY" { print $11 }' | sort -u | paste -sd, -) || true
  ds=$(pdig +short $child DS 2>/dev/null | awk '{print $1}' | sort -u | paste -sd, -) || true
  echo "t=$t www=${www// //} nx=${nx// //} ksk=$ksks zsk=$zsks dnskey-rrsig=$dnskey_signers zone-rrsig=${zone_signers:--} parent-ds=${ds:--}" \
    >> "$TMP/observations.log"

  if [[ $www != "NOERROR ad" || $nx != "NXDOMAIN ad" ]]; then
    bad_answers=$((bad_answers + 1))
    fail "t=$t s: Unbound answered www.$child A with '$www' and nx-$t.$child A with '$nx' (want NOERROR/NXDOMAIN with AD)"
    show_logs
    [[ -n ${KEEP_GOING:-} ]] || break
  fi

  # A query that failed this second (no KSK, no DS: this zone always has
  # both) says nothing about what went.
  if [[ $ksks == - || -z $ds ]]; then
    echo "t=$t: no DNSKEY or DS answer this second" >> "$TMP/observations.log"
  else
    [[ -n $first_zsk ]] || first_zsk=$zsks
    if [[ -z $new_zsk ]]; then
      new_zsk=$(others "$zsks" "$first_zsk" | cut -d, -f1)
      [[ -z $new_zsk ]] || milestone "new ZSK $new_zsk published" $t
    fi
    if [[ -n $new_zsk ]]; then
      in_list "$new_zsk" "$zone_signers" && milestone "new ZSK $new_zsk signs the zone" $t
      [[ -n $zone_signers ]] && ! in_list "$first_zsk" "$zone_signers" && milestone "old ZSK $first_zsk signs nothing" $t
      in_list "$first_zsk" "$zsks" || milestone "old ZSK $first_zsk gone" $t
    fi
    if [[ -z $new_ksk ]]; then
      new_ksk=$(others "$ksks" "$first_ksk" | cut -d, -f1)
      [[ -z $new_ksk ]] || milestone "new KSK $new_ksk published" $t
    fi
    if [[ -n $new_ksk ]]; then
      in_list "$new_ksk" "$dnskey_signers" && milestone "new KSK $new_ksk signs the DNSKEY RRset" $t
      in_list "$new_ksk" "$ds" && milestone "new DS $new_ksk at the parent" $t
      in_list "$first_ksk" "$ds" || milestone "old DS $first_ksk gone from the parent" $t
      in_list "$first_ksk" "$ksks" || milestone "old KSK $first_ksk gone" $t
    fi
    # The chain of trust, as served: a DS at the parent for a KSK that the
    # child publishes and that signs its DNSKEY RRset.
    chained=""
    for tag in ${ds//,/ }; do
      if in_list "$tag" "$ksks" && in_list "$tag" "$dnskey_signers"; then chained=$tag; fi
    done
    [[ -n $chained ]] || milestone "broken chain: no DS at the parent for a KSK signing the DNSKEY RRset" $t
  fi

  # Done once both rolls are over and Unbound has answered for two TTLs more,
  # long enough for every cached record of the old keys to expire.
  if [[ -z ${done_at:-} && -n ${seen_at["old ZSK $first_zsk gone"]:-} && -n ${seen_at["old KSK $first_ksk gone"]:-} &&
        -n ${seen_at["old DS $first_ksk gone from the parent"]:-} ]]; then
    done_at=$t
  fi
  [[ -n ${done_at:-} ]] && ((t >= done_at + 2 * ttl + 1)) && break
  # Without a ZSK roll well after the ZSK lifetime, nothing else will come either.
  if [[ -z $new_zsk && $t -gt $((zsk_lifetime + 30)) ]]; then
    fail "no ZSK rollover: no second ZSK in $child's DNSKEY RRset ${t} s after start (zsk-lifetime ${zsk_lifetime} s)"
    grep -i -E "roll|successor|retir|DS " "$TMP/daemon.log" | head -n 20 >&2 ||
      echo "(the daemon's log has no line about a rollover)" >&2
    echo "--- what wiresign timeline planned at the start ---" >&2
    head -n 15 "$TMP/timeline.txt" >&2
    show_logs
    break
  fi
  if ((tick >= deadline)); then
    fail "the rolls did not finish within $roll_limit s"
    show_logs
    break
  fi
  sleep_until $((tick + 1))
done
echo "observed $(wc -l < "$TMP/observations.log") seconds, $bad_answers failed answers, $(($(date +%s) - started)) s after start"

# --- what the wire showed -----------------------------------------------------------------
at() { echo "${seen_at[$1]:-}"; }
expect() {  # expect MILESTONE: it was seen
  if [[ -n $(at "$1") ]]; then pass "$1 (t=$(at "$1") s)"; else fail "never seen: $1"; show_logs; fi
}
# before A B: both seen, A no later than B
before() {
  local a b
  a=$(at "$1") b=$(at "$2")
  if [[ -n $a && -n $b ]] && ((a <= b)); then pass "$1 (t=$a) before $2 (t=$b)"; else fail "$1 (t=${a:-never}) not before $2 (t=${b:-never})"; fi
}
# apart A B WHAT: B came at least the TTL ($ttl s, WHAT) after A.
apart() {
  local a b
  a=$(at "$1") b=$(at "$2")
  [[ -n $a && -n $b ]] || return 0   # a milestone never seen fails on its own
  check "$2 $((b - a)) s after $1: no sooner than $3 ($ttl s)" test $((b - a)) -ge $ttl
}
check "no failed answer from Unbound ($bad_answers)" test "$bad_answers" -eq 0
check "no validation failure in Unbound's log" bash -c "! grep -q 'validation failure' '$TMP/unbound/unbound.log'"
if [[ -n $new_zsk ]]; then
  expect "new ZSK $new_zsk signs the zone"
  expect "old ZSK $first_zsk signs nothing"
  expect "old ZSK $first_zsk gone"
  before "new ZSK $new_zsk published" "new ZSK $new_zsk signs the zone"
  before "old ZSK $first_zsk signs nothing" "old ZSK $first_zsk gone"
  # RFC 7583 §3.3.1: a ZSK signs only once its DNSKEY is in every cache, and
  # its predecessor's DNSKEY stays until no cache holds a signature by it.
  apart "new ZSK $new_zsk published" "new ZSK $new_zsk signs the zone" "the DNSKEY TTL"
  apart "old ZSK $first_zsk signs nothing" "old ZSK $first_zsk gone" "the zone's TTL"
fi
if [[ -n $new_ksk ]]; then
  expect "new DS $new_ksk at the parent"
  expect "old DS $first_ksk gone from the parent"
  expect "old KSK $first_ksk gone"
  before "new KSK $new_ksk published" "new DS $new_ksk at the parent"
  before "new DS $new_ksk at the parent" "old DS $first_ksk gone from the parent"
  # RFC 7583 §3.3.2: the old KSK stays until the new DS is in every cache
  # (its own DS may go with it or later: a DS for no key is ignored).
  apart "new DS $new_ksk at the parent" "old KSK $first_ksk gone" "the DS TTL"
  check "the hook submitted the new KSK $new_ksk's DS" grep -q "submit .*tag=$new_ksk" "$TMP/parent/hook.log"
  check "the hook withdrew the old KSK $first_ksk's DS" grep -q "withdraw .*tag=$first_ksk" "$TMP/parent/hook.log"
  check "no hook call failed" bash -c "! grep -q FAILED '$TMP/parent/hook.log'"
elif [[ -n $new_zsk ]]; then
  fail "no KSK rollover: no second KSK in $child's DNSKEY RRset $(($(date +%s) - started)) s after start (ksk-lifetime ${ksk_lifetime} s)"
  show_logs
fi
for milestone_name in "${!seen_at[@]}"; do
  [[ $milestone_name != broken* ]] || fail "$milestone_name (first at t=${seen_at[$milestone_name]} s)"
done
check "the child's AXFR from wiresignd validates with dnssec-verify" axfr_validates "$signer_port" "$child"
check "the secondary's copy validates with dnssec-verify" axfr_validates "$secondary_port" "$child"

# --- going insecure (RFC 8078 §4; RFC 6781 §4.3 in reverse) ------------------------------
# insecure: true on the zone and a reload: the CDS/CDNSKEY delete form is
# published and the hook withdraws the DS; wiresignd waits until the parent
# no longer serves it, then the DS TTL, and only then publishes the zone
# without DNSKEY, RRSIG and NSEC3. Unbound answers every second throughout:
# never SERVFAIL; with AD while the DS is at the parent.
last_ksk=${new_ksk:-$first_ksk}
sed -i "s|^    parent-servers: .*|&\n    insecure: true|" "$TMP/wiresign.yaml"
check "wiresignd --check accepts insecure: true" bounded "$WIRESIGND" -c "$TMP/wiresign.yaml" --check
kill -HUP "$daemon"
insecure_started=$(date +%s)
insecure_deadline=$((insecure_started + 90))
declare -A insecure_at=()
insecure_milestone() { [[ -n ${insecure_at[$1]:-} ]] || insecure_at[$1]=$2; }
insecure_bad=0
while :; do
  tick=$(date +%s)
  t=$((tick - insecure_started))
  www=$(answer www.$child A)
  nx=$(answer "nx-insecure-$t.$child" A)
  cds=$(sdig +short $child CDS 2>/dev/null | paste -sd, -) || true
  ds=$(pdig +short $child DS 2>/dev/null | awk '{print $1}' | sort -u | paste -sd, -) || true
  # "DNSSEC-RECORDS SERIAL" of the secondary's copy ("- -" when the AXFR failed).
  read -r dnssec_records soa < <(xdig +nomulti +noall +answer $child AXFR 2>/dev/null |
    awk '$4 ~ /^(RRSIG|DNSKEY|NSEC3|NSEC3PARAM|CDS|CDNSKEY)$/ { n++ } $4 == "SOA" { serial = $7 }
         END { print (serial ? n + 0 : "-"), (serial ? serial : "-") }')
  echo "insecure t=$t www=${www// //} nx=${nx// //} cds=${cds:--} parent-ds=${ds:--} secondary-dnssec-records=$dnssec_records serial=$soa" \
    >> "$TMP/observations.log"
  if [[ ${www% *} != NOERROR || ${nx% *} != NXDOMAIN ]]; then
    insecure_bad=$((insecure_bad + 1))
    fail "going insecure, t=$t s: Unbound answered www with '$www' and nx with '$nx' (want NOERROR and NXDOMAIN)"
    show_logs
    [[ -n ${KEEP_GOING:-} ]] || break
  fi
  [[ $cds == "0 0 0 00" ]] && insecure_milestone "CDS delete form published" $t
  if [[ -z $ds ]]; then
    insecure_milestone "DS gone from the parent" $t
  elif [[ $www != "NOERROR ad" ]]; then
    # A DS at the parent is a promise that the child validates.
    fail "going insecure, t=$t s: the parent still has DS $ds, yet Unbound answered www without AD ('$www')"
    insecure_bad=$((insecure_bad + 1))
  fi
  if [[ $dnssec_records == 0 ]]; then
    insecure_milestone "the secondary serves the child unsigned" $t
    [[ -n ${insecure_at["DS gone from the parent"]:-} ]] ||
      insecure_milestone "broken: unsigned while the parent still has a DS" $t
    [[ $www == "NOERROR noad" ]] && insecure_milestone "Unbound answers insecure (no AD)" $t
  fi
  [[ -n ${insecure_at["Unbound answers insecure (no AD)"]:-} ]] && break
  if ((tick >= insecure_deadline)); then
    fail "going insecure did not finish within 90 s"
    show_logs
    break
  fi
  sleep_until $((tick + 1))
done
for name in "CDS delete form published" "DS gone from the parent" "the secondary serves the child unsigned" \
            "Unbound answers insecure (no AD)"; do
  if [[ -n ${insecure_at[$name]:-} ]]; then pass "going insecure: $name (t=${insecure_at[$name]} s)"
  else fail "going insecure: never seen: $name"; show_logs; fi
done
check "going insecure: no failed answer from Unbound ($insecure_bad)" test "$insecure_bad" -eq 0
[[ -z ${insecure_at["broken: unsigned while the parent still has a DS"]:-} ]] ||
  fail "going insecure: the child was served unsigned while the parent still had a DS"
if [[ -n ${insecure_at["DS gone from the parent"]:-} && -n ${insecure_at["the secondary serves the child unsigned"]:-} ]]; then
  gap=$((insecure_at["the secondary serves the child unsigned"] - insecure_at["DS gone from the parent"]))
  check "going insecure: the keys went ${gap} s after the DS: no sooner than the DS TTL ($ttl s)" test $gap -ge $ttl
fi
check "going insecure: the hook withdrew the DS of KSK $last_ksk" \
  bash -c "grep 'withdraw zone=' '$TMP/parent/hook.log' | tail -n 1 | grep -q 'tag=$last_ksk'"
check "going insecure: the daemon logged the unsigned publication" grep -q "unsigned (insecure: true)" "$TMP/daemon.log"
wiresign zone show $child --socket "$TMP/control.sock" > "$TMP/zone-show-insecure.txt" 2>&1 || true
check "going insecure: wiresign zone show says unsigned" grep -q "^dnssec: *unsigned" "$TMP/zone-show-insecure.txt"
wiresign_axfr=$(sdig +nomulti +noall +answer $child AXFR 2>/dev/null | awk '{print $4}' | sort | uniq -c | paste -sd' ' -) || true
check "going insecure: wiresignd's AXFR holds no DNSSEC record ($wiresign_axfr)" \
  bash -c "! grep -q -E 'RRSIG|DNSKEY|NSEC|CDS|CDNSKEY' <<< '$wiresign_axfr'"

stop_all
if [[ -n ${VERBOSE:-} ]]; then
  cat "$TMP/observations.log" "$TMP/parent/hook.log"
  grep -v "^$" "$TMP/daemon.log" | tail -n 80
fi
finish
