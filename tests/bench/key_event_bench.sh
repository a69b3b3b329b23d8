#!/usr/bin/env bash
# Key events in wiresignd on a zone of N names (default 100,000): the zone
# is signed once, then a ZSK roll runs on compressed key timings (lifetime
# LIFETIME s, default 40; DNSKEY TTL, zone max TTL and margins of a few
# seconds; signatures valid 14 days, so none comes due meanwhile): the new
# ZSK's DNSKEY is published, then it starts signing (the switch). Prints the
# daemon's own timing of every publication (first signing, each key event,
# the operator's whole-zone `zone resign` to compare), with the RRSIGs made
# and kept, and any "signing the whole zone" line. Software keys (files);
# runs in a temporary directory.
# DENIAL=nsec3 (default) or nsec; KEEP=1 keeps the directory (log, state).
# usage: [DENIAL=nsec] tests/bench/key_event_bench.sh [NAMES]   (needs a built build/, or BUILD=dir)
set -euo pipefail
names=${1:-100000}
lifetime=${LIFETIME:-40}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$root/build}
wiresignd=$build/src/wiresignd
wiresign=$build/src/wiresign
[[ -x $wiresignd ]] || { echo "build first: $wiresignd not found" >&2; exit 1; }
dir=$(mktemp -d /tmp/wiresign-bench.XXXXXX)
daemon=""
trap 'kill $daemon 2>/dev/null || true; wait 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 20000))

python3 "$root/tools/gen_zone.py" bench.test. "$names" > "$dir/zone"
cat > "$dir/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $dir/state
keystores:
  - {name: local, backend: files, directory: $dir/keys}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    denial: $([[ ${DENIAL:-nsec3} == nsec ]] && echo "{type: nsec}" || echo "{type: nsec3, iterations: 0, salt-length: 0, opt-out: false}")
    serial: increment
    zsk-lifetime: ${lifetime}s
    dnskey-ttl: 2s
    zone-max-ttl: 2s
    propagation-delay: 1s
    publish-safety: 1s
    retire-safety: 1s
zones:
  - name: bench.test
    policy: default
    file: $dir/zone
EOF

"$wiresignd" -c "$dir/wiresign.yaml" >> "$dir/log" 2>&1 &
daemon=$!
# wait_for PATTERN [COUNT]: bounded wait (1 h) until COUNT (1) log lines match.
wait_for() {
  for _ in $(seq 1 36000); do
    (( $(grep -c -E "$1" "$dir/log" || true) >= ${2:-1} )) && return 0
    kill -0 "$daemon" 2>/dev/null || { echo "wiresignd died:" >&2; tail "$dir/log" >&2; exit 1; }
    sleep 0.1
  done
  echo "timed out waiting for: $1" >&2
  exit 1
}
wait_for "bench.test.: signed serial"
# The KSK's DS "seen at the parent" (as the operator says it), so that the
# zone is secure and the ZSK roll is a real pre-publication roll.
for _ in $(seq 1 100); do
  ksk=$("$wiresign" key list bench.test --json --config "$dir/wiresign.yaml" | python3 -c "
import json, sys
print(' '.join(str(k['key_tag']) for k in json.load(sys.stdin)['states']['keys'] if k['awaiting_ds'] == 'seen'))")
  [[ -n $ksk ]] && break
  sleep 0.2
done
[[ -n $ksk ]] || { echo "no KSK awaits its DS" >&2; exit 1; }
"$wiresign" key ds-seen bench.test "$ksk" --config "$dir/wiresign.yaml" > /dev/null
# The successor's DNSKEY, then the switch: ZRRSIG of the new ZSK rumoured.
# (The first ZSK's lines are the first of each.) Then the old ZSK's
# signatures are renewed only as they come due: days from now.
wait_for "ZSK [0-9]+ .*: DNSKEY hidden -> rumoured" 2
wait_for "ZSK [0-9]+ .*: ZRRSIG hidden -> rumoured" 2
sleep 2
before=$(grep -c "bench.test.: signed serial" "$dir/log")
"$wiresign" zone resign bench.test --config "$dir/wiresign.yaml" > /dev/null
for _ in $(seq 1 3000); do
  (( $(grep -c "bench.test.: signed serial" "$dir/log") > before )) && break
  sleep 0.1
done

echo "names: $names, denial: ${DENIAL:-nsec3}, ZSK lifetime ${lifetime}s"
n=0
while read -r line; do
  n=$((n + 1))
  what="key event"
  ((n == 1)) && what="first signing"
  ((n > before)) && what="zone resign (whole)"
  printf '%-20s %s\n' "$what:" "${line#*serial }"
done < <(grep "bench.test.: signed serial" "$dir/log" | cut -c1-400)
grep -E "ZSK .*(DNSKEY hidden -> rumoured|ZRRSIG hidden -> rumoured)" "$dir/log" | sed 's/^/event: /'
grep "signing the whole zone" "$dir/log" || echo "no key event signed the whole zone"
