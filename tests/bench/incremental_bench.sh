#!/usr/bin/env bash
# Incremental signing in wiresignd: a zone of N names (default 1,000,000) is
# signed once, then changed five times (a record added, a name added below
# a new empty non-terminal, a delegation with glue added, the first record
# removed, the second name's address changed), and each new version signed
# again; prints the daemon's own timing of every signing (from having
# the unsigned input, or the IXFR's changes, to publishing it and queuing its
# NOTIFY, per phase), the RRSIGs made and kept, and the time a restart after
# kill -9 takes to serve the zone again. Software keys (files); runs in a
# temporary directory.
# SOURCE=file (default): the zone is wiresignd's `file:`, edited in place.
# SOURCE=ixfr: BIND (named, ixfr-from-differences) is the primary; each change
#   is made in its zone file, which named reloads (SIGHUP), and reaches wiresignd by
#   NOTIFY and IXFR, so the signing starts from the transfer's changes.
# SOURCE=axfr: the same BIND without ixfr-from-differences, so that every
#   change reaches wiresignd as a whole zone (an AXFR-only primary).
# DENIAL=nsec3 (default) or nsec: the policy's denial of existence.
# usage: [SOURCE=ixfr] [DENIAL=nsec] tests/bench/incremental_bench.sh [NAMES]   (needs a built build/, or BUILD=dir)
set -euo pipefail
names=${1:-1000000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$root/build}
wiresignd=$build/src/wiresignd
[[ -x $wiresignd ]] || { echo "build first: $wiresignd not found" >&2; exit 1; }
dir=$(mktemp -d /tmp/wiresign-bench.XXXXXX)
source_kind=${SOURCE:-file}
named_pid=""
trap 'kill $daemon $named_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 20000))
primary_port=$((port + 2))

python3 "$root/tools/gen_zone.py" bench.test. "$names" > "$dir/zone"
if [[ $source_kind == ixfr || $source_kind == axfr ]]; then
  command -v named > /dev/null || { echo "SOURCE=$source_kind needs BIND (named)" >&2; exit 1; }
  cat > "$dir/named.conf" <<NAMED
options {
  directory "$dir";
  pid-file "$dir/named.pid";
  listen-on port $primary_port { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify explicit;
  notify-delay 0;  # BIND's default holds a NOTIFY up to 5 s after the last one
  also-notify { 127.0.0.1 port $port; };
  allow-transfer { 127.0.0.1; };
  ixfr-from-differences $([[ $source_kind == ixfr ]] && echo yes || echo no);
  dnssec-validation no;
};
controls { };
zone "bench.test" { type primary; file "zone"; };
NAMED
  named -g -c "$dir/named.conf" > "$dir/named.log" 2>&1 &
  named_pid=$!
  source_line="primaries: [\"127.0.0.1:$primary_port\"]"
else
  source_line="file: $dir/zone"
fi
# change N: the Nth change (2 to 6), serial N, made known to the source.
change() {
  case $1 in
    2) echo "added-by-bench IN A 192.0.2.2" >> "$dir/zone" ;;
    3) echo "leaf.new-empty-non-terminal IN A 192.0.2.3" >> "$dir/zone" ;;
    4) printf 'new-delegation IN NS ns.new-delegation\nns.new-delegation IN A 192.0.2.4\n' >> "$dir/zone" ;;
    5) sed -i '/^added-by-bench /d' "$dir/zone" ;;
    6) sed -i 's/^leaf.new-empty-non-terminal IN A .*/leaf.new-empty-non-terminal IN A 192.0.2.6/' "$dir/zone" ;;
  esac
  sed -i -E "s/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 $1 /" "$dir/zone"
  [[ $source_kind == file ]] || kill -HUP "$named_pid"  # named reloads the file (and with ixfr, keeps the difference)
}
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
zones:
  - name: bench.test
    policy: default
    $source_line
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
# serial_of PORT: the SOA serial served there, or nothing.
serial_of() { dig -p "$1" +time=1 +tries=1 +short @127.0.0.1 bench.test SOA 2>/dev/null | awk 'NF == 7 && $3 ~ /^[0-9]+$/ {print $3}'; }
# seconds_until PORT SERIAL: bounded (5 min) poll every 5 ms; prints the time it was served.
seconds_until() {
  for _ in $(seq 1 60000); do
    [[ $(serial_of "$1") == "$2" ]] && { date +%s.%N; return 0; }
    sleep 0.005
  done
  echo "timed out waiting for serial $2 at port $1" >&2
  exit 1
}
latency=()
for n in 2 3 4 5 6; do
  change "$n"
  t_in=$(date +%s.%N)
  # From the primary serving the change (it sends NOTIFY then), or the file's edit.
  [[ $source_kind == file ]] || t_in=$(seconds_until "$primary_port" "$n")
  wait_lines "bench.test.: signed serial" "$n"
  t_out=$(seconds_until "$port" "$((n + 1))")
  latency+=("$(echo "$t_out - $t_in" | bc)")
done
changes=$(grep "bench.test.: signed serial" "$dir/log" | tail -n5)
incremental=$(tail -n1 <<< "$changes")
serial=$(sed -E 's/.*signed serial ([0-9]+) .*/\1/' <<< "$incremental")

kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
t0=$(date +%s.%N)
start
for _ in $(seq 1 6000); do
  got=$(serial_of "$port" || true)
  [[ $got == "$serial" ]] && break
  sleep 0.05
done
t1=$(date +%s.%N)
[[ $got == "$serial" ]] || { echo "restart did not serve serial $serial" >&2; exit 1; }
resigned=$(grep -c "bench.test.: signed serial" "$dir/log" || true)

echo "names: $names, source: $source_kind, denial: ${DENIAL:-nsec3}"
echo "full signing:        ${full#*serial }"
kinds=("add a record" "add below a new ENT" "add a delegation+glue" "remove a record" "modify a record")
k=0
while read -r line; do
  printf '%-22s served %.3f s after the %s; %s\n' "${kinds[k]}:" "${latency[k]}" \
    "$([[ $source_kind == file ]] && echo "file's edit" || echo "primary served it")" "${line#*serial }"
  k=$((k + 1))
done <<< "$changes"
grep "signing the whole zone" "$dir/log" || true
grep -E "bench.test.: (AXFR|IXFR) from .*: serial [0-9]+.* in [0-9.]+ s" "$dir/log" | tail -n5 | sed 's/^[^ ]* /transfer in: /' || true
printf 'restart after kill -9 until serial %s is served: %.2f s (signings after restart: %d)\n' \
  "$serial" "$(echo "$t1 - $t0" | bc)" "$((resigned - 6))"
