#!/usr/bin/env bash
# RRSIG timing comes from the policy (RFC 4034 §3.1.5), with the clock fixed by --now:
#  - every inception is now - inception-offset
#  - every expiration lies in [now + validity - jitter, now + validity], and
#    the jitter really spreads them (many distinct expirations)
#  - the same values come from a --config policy's "signatures:" settings
#  - dnssec-verify accepts the zone at that time (-t is not needed: the
#    window includes the real now)
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bounded python3 "$SRC/tools/gen_zone.py" example.test 500 > "$TMP/zone"
now=$(date +%s)

# check_window FILE VALIDITY_S JITTER_S OFFSET_S: all RRSIGs inside the policy's window.
check_window() {
  bounded python3 - "$@" "$now" <<'PY'
import calendar, sys, time
path, validity, jitter, offset, now = sys.argv[1], *map(int, sys.argv[2:])
def epoch(stamp):
    return calendar.timegm(time.strptime(stamp, "%Y%m%d%H%M%S"))
incepts, expires = set(), set()
for line in open(path):
    f = line.split()
    if len(f) > 4 and f[3] == "RRSIG":
        expires.add(epoch(f[8])); incepts.add(epoch(f[9]))
problems = []
if incepts != {now - offset}:
    problems.append(f"inceptions {sorted(incepts)[:3]} != now-offset {now - offset}")
low, high = now + validity - jitter, now + validity
bad = [e for e in expires if not low <= e <= high]
if bad:
    problems.append(f"{len(bad)} expirations outside [{low}, {high}], e.g. {bad[0]}")
if jitter >= 3600 and len(expires) < 50:
    problems.append(f"only {len(expires)} distinct expirations: jitter does not spread them")
if not expires:
    problems.append("no RRSIGs")
print("; ".join(problems))
sys.exit(1 if problems else 0)
PY
}

if wiresign sign --quiet --origin example.test --input "$TMP/zone" --output "$TMP/cli.signed" --keys "$TMP/keys" \
    --nsec3 --now "$now" --validity 10d --jitter 1d --inception-offset 2h 2> "$TMP/err"; then
  check "command-line window: inception now-2h, expiration in [now+9d, now+10d], spread" \
    check_window "$TMP/cli.signed" $((10 * 86400)) 86400 7200
  check "dnssec-verify accepts the command-line-timed zone" \
    bounded dnssec-verify -q -o example.test "$TMP/cli.signed"
else
  fail "sign with --validity/--jitter/--inception-offset: $(head -c 300 "$TMP/err")"
fi

cat > "$TMP/wiresign.yaml" <<EOF
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - name: short
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 3d, refresh: 1d, jitter: 6h, inception-offset: 30m}
    denial: {type: nsec}
    serial: increment
EOF
if wiresign sign --quiet --origin example.test --input "$TMP/zone" --output "$TMP/conf.signed" \
    --config "$TMP/wiresign.yaml" --policy short --now "$now" 2> "$TMP/err"; then
  check "policy window: inception now-30m, expiration in [now+3d-6h, now+3d], spread" \
    check_window "$TMP/conf.signed" $((3 * 86400)) $((6 * 3600)) 1800
  check "policy denial nsec: NSEC records and no NSEC3PARAM" \
    bash -c "grep -qP '\tNSEC\t' '$TMP/conf.signed' && ! grep -q NSEC3PARAM '$TMP/conf.signed'"
else
  fail "sign with --config policy: $(head -c 300 "$TMP/err")"
fi

# A jitter as long as the validity would let signatures expire at once: refused.
if wiresign sign --quiet --origin example.test --input "$TMP/zone" --output "$TMP/bad.signed" --keys "$TMP/keys" \
    --validity 1d --jitter 2d 2> "$TMP/err"; then
  fail "a jitter longer than the validity was accepted"
else
  check "jitter >= validity is refused with a message" grep -q "jitter" "$TMP/err"
fi
finish
