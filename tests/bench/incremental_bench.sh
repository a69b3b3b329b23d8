#!/usr/bin/env bash
# Incremental signing in wiresignd: a zone of N names (default 1,000,000) is
# signed once, then one record is added and the new version signed again;
# prints the daemon's own timing of both signings (from having the unsigned
# version to publishing it and queuing its NOTIFY, per phase), the RRSIGs
# made and kept, and the time a restart after kill -9 takes to serve the
# zone again. Software keys (files); runs in a temporary directory.
# usage: tests/bench/incremental_bench.sh [NAMES]   (needs a built build/)
set -euo pipefail
names=${1:-1000000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$root/build}
wiresignd=$build/src/wiresignd
[[ -x $wiresignd ]] || { echo "build first: $wiresignd not found" >&2; exit 1; }
dir=$(mktemp -d /tmp/wiresign-bench.XXXXXX)
trap 'kill $daemon 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
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
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
  - name: bench.test
    policy: default
    file: $dir/zone
    allow-transfer: ["127.0.0.1"]
    notify: ["127.0.0.1:$((port + 1))"]
EOF

daemon=""
start() {
  "$wiresignd" -c "$dir/wiresign.yaml" >> "$dir/log" 2>&1 &
  daemon=$!
}
# wait_lines PATTERN COUNT: bounded wait (1 h) until COUNT log lines match.
wait_lines() {
  for _ in $(seq 1 36000); do
    (( $(grep -c -E "$1" "$dir/log" || true) >= $2 )) && return 0
    kill -0 "$daemon" 2>/dev/null || { echo "wiresignd died:" >&2; tail "$dir/log" >&2; exit 1; }
    sleep 0.1
  done
  echo "timed out waiting for: $1" >&2
  exit 1
}

start
wait_lines "bench.test.: signed serial" 1
full=$(grep "bench.test.: signed serial" "$dir/log" | tail -n1)
echo "added-by-bench IN A 192.0.2.1" >> "$dir/zone"
sed -i -E 's/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 2 /' "$dir/zone"
wait_lines "bench.test.: signed serial" 2
incremental=$(grep "bench.test.: signed serial" "$dir/log" | tail -n1)
serial=$(sed -E 's/.*signed serial ([0-9]+) .*/\1/' <<< "$incremental")

kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
t0=$(date +%s.%N)
start
for _ in $(seq 1 6000); do
  got=$(dig -p "$port" +time=1 +tries=1 +short @127.0.0.1 bench.test SOA 2>/dev/null | awk 'NF == 7 && $3 ~ /^[0-9]+$/ {print $3}' || true)
  [[ $got == "$serial" ]] && break
  sleep 0.05
done
t1=$(date +%s.%N)
[[ $got == "$serial" ]] || { echo "restart did not serve serial $serial" >&2; exit 1; }
resigned=$(grep -c "bench.test.: signed serial" "$dir/log" || true)

echo "names: $names"
echo "full signing:        ${full#*serial }"
echo "one-record change:   ${incremental#*serial }"
printf 'restart after kill -9 until serial %s is served: %.2f s (signings after restart: %d)\n' \
  "$serial" "$(echo "$t1 - $t0" | bc)" "$((resigned - 2))"
