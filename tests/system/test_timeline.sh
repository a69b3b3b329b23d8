#!/usr/bin/env bash
# `wiresign policy check` runs the policy lint, and `wiresign timeline ZONE`
# plans the key lifecycle offline:
#  - policy check: a policy whose ZSK lifetime is shorter than a rollover and
#    whose refresh lets cached signatures expire is refused (exit 1) with
#    file:line, the setting and the reason; a warning (NSEC3 iterations
#    against RFC 9276) is printed and the check still passes
#  - timeline: keys made by BIND's dnssec-keygen and imported are named by
#    their key tags; with zsk-lifetime 90d the ZSK's successor comes before
#    the 90 days are up (dates checked with python), is in service before the
#    old ZSK goes, and the KSK (365d) has no event in 6 months but a
#    successor within 13; --json carries the same events; --no-ds plans the
#    DS request for the KSK; an unknown zone is a usage error
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

now=1790000000   # 2026-09-21T14:13:20Z: fixed, so the dates below are exact
cat > "$TMP/wiresign.yaml" <<EOF
keystores:
  - {name: files, backend: files, directory: $TMP/keys}
policies:
  - name: roll
    keystore: files
    algorithm: ecdsap256sha256
    zsk-lifetime: 90d
    ksk-lifetime: 365d
  - name: slow-nsec3
    keystore: files
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 10, salt-length: 0, opt-out: false}
zones:
  - {name: example.test, policy: roll, file: $TMP/example.test.zone}
EOF
cat > "$TMP/bad.yaml" <<EOF
keystores:
  - {name: files, backend: files, directory: $TMP/keys}
policies:
  - name: bad
    keystore: files
    algorithm: ecdsap256sha256
    zsk-lifetime: 1d
    signatures: {validity: 2d, refresh: 1d, jitter: 12h, inception-offset: 1h}
EOF

# --- policy check ----------------------------------------------------------------
wiresign policy check "$TMP/bad.yaml" > "$TMP/bad.out" 2>&1 && rc=0 || rc=$?
check "policy check: lint errors give exit 1 (got $rc)" test "$rc" -eq 1
check "policy check: names file:line, policy and setting of the short ZSK lifetime" \
  grep -q "bad.yaml:4: policy \"bad\": error: zsk-lifetime: .*shorter than a rollover" "$TMP/bad.out"
check "policy check: names the refresh that lets cached signatures expire" \
  grep -q "error: signatures.refresh: .*RFC 6781" "$TMP/bad.out"
check "policy check: no OK for a bad policy" bash -c "! grep -q OK '$TMP/bad.out'"
wiresign policy check "$TMP/wiresign.yaml" > "$TMP/good.out" 2>&1 && rc=0 || rc=$?
check "policy check: warnings only: exit 0 (got $rc: $(head -c 300 "$TMP/good.out"))" test "$rc" -eq 0
check "policy check: the NSEC3 iterations warning is printed" \
  grep -q "policy \"slow-nsec3\": warning: denial.iterations: .*9276" "$TMP/good.out"
check "policy check: OK with the warning count" grep -q "OK (1 zones, 2 policies, 1 keystores, 1 warnings)" "$TMP/good.out"

# --- timeline from keys BIND made ----------------------------------------------------
mkdir -p "$TMP/bind"
ksk=$(bounded dnssec-keygen -q -K "$TMP/bind" -a ECDSAP256SHA256 -f KSK example.test)
zsk=$(bounded dnssec-keygen -q -K "$TMP/bind" -a ECDSAP256SHA256 example.test)
ksk_tag=$((10#${ksk##*+}))
zsk_tag=$((10#${zsk##*+}))
wiresign key import --zone example.test --config "$TMP/wiresign.yaml" --policy roll "$TMP/bind"/K*.private \
  > /dev/null 2> "$TMP/import.err" || fail "key import: $(head -c 300 "$TMP/import.err")"

# at TEXT LABEL WHAT: the time (unix) of the first line with LABEL and WHAT, or nothing.
at() {
  python3 - "$1" "$2" "$3" <<'EOF'
import calendar, sys, time
text, label, what = sys.argv[1:]
for line in open(text):
    if line.startswith(";"):
        continue
    when, rest = line.split("  ", 1)
    if label in rest and what in rest:
        print(calendar.timegm(time.strptime(when, "%Y-%m-%dT%H:%M:%SZ")))
        break
EOF
}
if wiresign timeline example.test --config "$TMP/wiresign.yaml" --months 6 --now $now > "$TMP/six.txt" 2> "$TMP/six.err"; then
  pass "timeline --months 6"
  retire=$(at "$TMP/six.txt" "ZSK $zsk_tag " "retiring: lifetime ends")
  check "the BIND ZSK $zsk_tag retires after 80 and by 90 days (at $retire)" \
    test -n "$retire" -a "${retire:-0}" -gt $((now + 80 * 86400)) -a "${retire:-0}" -le $((now + 90 * 86400))
  in_service=$(at "$TMP/six.txt" "ZSK (planned #1" "in service")
  removed=$(at "$TMP/six.txt" "ZSK $zsk_tag " "removed")
  check "its successor is in service ($in_service) before it is removed ($removed)" \
    test -n "$in_service" -a -n "$removed" -a "${in_service:-1}" -lt "${removed:-0}"
  check "no event for the KSK $ksk_tag within 6 months" bash -c "! grep -q 'KSK $ksk_tag ' '$TMP/six.txt'"
  check "the header names the zone, policy and the keys found" \
    grep -q "^; example.test. under policy \"roll\", 2 keys in files:" "$TMP/six.txt"
  check "and the signatures' cycle (validity 14d - refresh 5d: every 9d)" \
    grep -q "^; signatures: each renewed 5d before it expires (validity 14d, so about every 9d)" "$TMP/six.txt"
else
  fail "timeline: $(head -c 300 "$TMP/six.err")"
fi
wiresign timeline example.test --config "$TMP/wiresign.yaml" --months 13 --now $now > "$TMP/year.txt" 2> /dev/null &&
  check "the KSK $ksk_tag gets a successor within 13 months" grep -q "KSK (planned .*successor of" "$TMP/year.txt"
if wiresign timeline example.test --config "$TMP/wiresign.yaml" --months 6 --now $now --json > "$TMP/six.json" 2> /dev/null; then
  check "--json has the same events as the text" python3 -c "
import json, sys
events = json.load(open('$TMP/six.json'))['events']
lines = [l for l in open('$TMP/six.txt') if not l.startswith(';')]
sys.exit(0 if len(events) == len(lines) > 0 and all(e['what'] in l for e, l in zip(events, lines)) else 1)"
else
  fail "timeline --json"
fi
wiresign timeline example.test --config "$TMP/wiresign.yaml" --months 1 --now $now --no-ds > "$TMP/nods.txt" 2> /dev/null &&
  check "--no-ds: the KSK's DS is asked for at once" grep -q "^$(date -u -d @$now +%Y-%m-%dT%H:%M:%SZ)  KSK $ksk_tag .*DS hidden -> rumoured" "$TMP/nods.txt"
wiresign timeline other.test --config "$TMP/wiresign.yaml" > /dev/null 2> "$TMP/other.err" && rc=0 || rc=$?
check "an unknown zone: usage error (exit $rc) naming it" bash -c "[[ $rc -eq 2 ]] && grep -q 'no zone other.test.' '$TMP/other.err'"

finish
