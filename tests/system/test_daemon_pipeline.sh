#!/usr/bin/env bash
# wiresignd's zone pipeline, judged from the wire and the log:
#  - a one-record change is signed incrementally (few RRSIGs made, the rest
#    kept) and served by IXFR from the journal (dig IXFR=old serial gets
#    only the change); an IXFR from a serial the journal does not reach gets
#    the full zone; every version's AXFR passes BIND's dnssec-verify
#  - an input that removes most names is held, the old version stays in
#    service, and the operator's release file publishes it
#  - signatures about to expire are re-signed by themselves (new serial), as
#    changes: only the owners with signatures due, in slices of slice-share
#  - after kill -9 the restart serves the same serial and DNSKEYs without
#    re-signing, and IXFR still works from the saved journal
#  - a version signed with the wrong private key fails the independent check
#    and is not published
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
port=$(random_port)
signer_port=$port

python3 "$SRC/tools/gen_zone.py" example.test. 400 > "$TMP/example.test.zone"
sed 's/example\.test\./fast.test./' "$SRC/examples/example.test.zone" > "$TMP/fast.test.zone"
python3 "$SRC/tools/gen_zone.py" slices.test. 500 > "$TMP/slices.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 0, salt-length: 8, opt-out: false}
    serial: increment
  - name: fast
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 40s, refresh: 25s, jitter: 4s, inception-offset: 5s}
    denial: {type: nsec}
    serial: increment
  - name: sliced
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 120s, refresh: 60s, jitter: 50s, inception-offset: 5s, slice-share: 30%}
    denial: {type: nsec}
    serial: increment
zones:
  - name: example.test
    policy: default
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
    max-removed-share: 50%
    journal-max-entries: 5
  - name: fast.test
    policy: fast
    file: $TMP/fast.test.zone
    allow-transfer: ["127.0.0.1"]
  - name: slices.test
    policy: sliced
    file: $TMP/slices.test.zone
    allow-transfer: ["127.0.0.1"]
EOF

start_daemon() {
  "$WIRESIGND" -c "$TMP/wiresign.yaml" >> "$TMP/daemon.log" 2>&1 &
  daemon=$!
}
stop_daemon() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
trap 'stop_daemon; _cleanup' EXIT
dig_() { bounded dig -p "$port" +time=2 +tries=1 "$@"; }
serial_of() { dig_ +short @127.0.0.1 "$1" SOA | awk '{print $3}'; }
bump_serial() { sed -i -E "s/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 $1 /" "$TMP/example.test.zone"; }

start_daemon
check "both zones are signed and served" wait_log "fast.test.: signed serial"
wait_log "example.test.: signed serial" || true
s1=$(serial_of example.test)
check "example.test is served" test -n "$s1"
check "the first version's AXFR validates" axfr_validates "$port" example.test

# One record added: signed incrementally, sent by IXFR.
echo "added-host IN A 192.0.2.200" >> "$TMP/example.test.zone"
bump_serial 2
s2=$((s1 + 1))
check "the change is published as serial $s2" wait_serial "$s2"
line=$(grep "example.test.: signed serial $s2 " "$TMP/daemon.log" || true)
made=$(sed -E 's/.* ([0-9]+) RRSIGs made.*/\1/' <<< "$line")
kept=$(sed -E 's/.* ([0-9]+) kept.*/\1/' <<< "$line")
[[ -n ${VERBOSE:-} ]] && echo "incremental signing: $line"
check "only the change, its NSEC3 neighbours and the SOA got new RRSIGs ($made made)" test "${made:-999}" -le 6
check "every other RRSIG was kept ($kept kept)" test "${kept:-0}" -gt 500
check "the new version's AXFR validates" axfr_validates "$port" example.test
dig_ @127.0.0.1 example.test IXFR="$s1" > "$TMP/ixfr.txt"
ixfr_records=$(grep -v '^;' "$TMP/ixfr.txt" | sed '/^$/d' | wc -l)
check "IXFR=$s1 carries only the difference ($ixfr_records records)" test "$ixfr_records" -lt 40
check "IXFR=$s1 carries the added record" grep -q "added-host.example.test..*192.0.2.200" "$TMP/ixfr.txt"
check "the log says the IXFR was incremental" grep -q "example.test.: IXFR to 127.0.0.1.*incremental from serial $s1" "$TMP/daemon.log"
dig_ @127.0.0.1 example.test IXFR=4000000000 > "$TMP/ixfr-old.txt"
full_records=$(grep -v '^;' "$TMP/ixfr-old.txt" | sed '/^$/d' | wc -l)
check "IXFR from a serial the journal does not reach gets the full zone ($full_records records)" test "$full_records" -gt 1000

# An input that removes most names is held; the release file publishes it.
python3 "$SRC/tools/gen_zone.py" example.test. 60 > "$TMP/small.zone"
cp "$TMP/small.zone" "$TMP/example.test.zone"
bump_serial 3
check "the shrunken input is held" wait_log "example.test.: HELD, not published: .*removes [0-9]+% of the names"
check "the old version stays in service" test "$(serial_of example.test)" = "$s2"
check "the held input is kept in the state dir" test -s "$TMP/state/held/example.test.zone"
touch "$TMP/state/held/example.test.zone.release"
s3=$((s2 + 1))
check "the released input is published as serial $s3" wait_serial "$s3"
check "the release is logged" grep -q "example.test.: the operator released the held input" "$TMP/daemon.log"
check "the released version's AXFR validates" axfr_validates "$port" example.test
check "the release file is consumed" test ! -e "$TMP/state/held/example.test.zone.release"

# Signatures near expiry are renewed by themselves (validity 40 s, refresh 25 s).
f1=$(grep -o "fast.test.: signed serial [0-9]*" "$TMP/daemon.log" | head -n1 | awk '{print $4}')
check "fast.test is re-signed before its signatures expire" wait_log "fast.test.: signed serial [0-9]+ from re-sign of serial $f1"
check "the re-signed fast.test has a newer serial" test "$(serial_of fast.test)" -gt "$f1"
check "the re-signed fast.test validates" axfr_validates "$port" fast.test
check "fast.test's re-sign is a change: only the owners with signatures due" \
  grep -Eq "fast.test.: signed serial [0-9]+ from re-sign of serial $f1 .*re-signed [0-9]+ of [0-9]+ owners with signatures due" "$TMP/daemon.log"
# gen_zone's 500 entries (573 names, about 1,100 owners) whose signatures
# expire over 50 s: about a quarter come due at the first re-sign (9 s after
# signing), renewed in slices of at most 172 owners (the policy's
# slice-share, 30% of the names; the default 2% would give the minimum of
# 100), each its own serial; slices of 172 every 3 s keep up with 20 owners
# coming due a second, so none has to be taken early for being late.
check "slices.test is re-signed in slices of 172 owners (slice-share 30%)" \
  wait_log "slices.test.: signed serial [0-9]+ from re-sign of serial [0-9]+ .*re-signed 172 of [0-9]{3} owners"
check "the re-signed slices.test validates" axfr_validates "$port" slices.test
check "no re-sign of fast.test or slices.test was a whole-zone pass" \
  bash -c "! grep -E '(fast|slices).test.: signing the whole zone' '$TMP/daemon.log'"

# kill -9, restart: the same version is served without re-signing.
dig_ +short @127.0.0.1 example.test DNSKEY | sort > "$TMP/dnskey.before"
served=$(serial_of example.test)
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
mark=$(wc -l < "$TMP/daemon.log")
start_daemon
check "the restart serves the saved signed version" wait_log "example.test.: serving saved signed serial $served"
check "the restart serves serial $served" wait_serial "$served"
tail -n +"$mark" "$TMP/daemon.log" > "$TMP/restart.log"
check "the restart did not re-sign example.test" bash -c "! grep -q 'example.test.: signed serial' '$TMP/restart.log'"
dig_ +short @127.0.0.1 example.test DNSKEY | sort > "$TMP/dnskey.after"
check "the same DNSKEYs after the restart" cmp -s "$TMP/dnskey.before" "$TMP/dnskey.after"
dig_ @127.0.0.1 example.test IXFR="$s2" > "$TMP/ixfr-restart.txt"
check "IXFR from the saved journal after the restart" \
  grep -q "example.test.: IXFR to 127.0.0.1.*incremental from serial $s2" "$TMP/daemon.log"
check "the served version still validates" axfr_validates "$port" example.test

# A ZSK whose private half is not the one its DNSKEY publishes (the KSK's
# is put in its place): every new signature is bogus. The independent check
# catches it and nothing is published; the version in service stays.
stop_daemon
zsk=$(grep -l "IN DNSKEY 256 " "$TMP"/keys/Kexample.test.+013+*.key)
ksk=$(grep -l "IN DNSKEY 257 " "$TMP"/keys/Kexample.test.+013+*.key)
cp "${zsk%.key}.private" "$TMP/zsk.private.good"
cp "${ksk%.key}.private" "${zsk%.key}.private"
mark=$(wc -l < "$TMP/daemon.log")
start_daemon
wait_serial "$served" || true
echo "bogus-host IN A 192.0.2.66" >> "$TMP/example.test.zone"
bump_serial 4
check "a version signed with the wrong private key fails the check before publishing" \
  wait_log "example.test.: not published: the signed version failed its check before publishing .*does not verify"
check "and is not served: the serial stays $served" test "$(serial_of example.test)" = "$served"
check "the served version still validates" axfr_validates "$port" example.test
cp "$TMP/zsk.private.good" "${zsk%.key}.private"

finish
