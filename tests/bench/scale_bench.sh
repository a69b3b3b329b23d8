#!/usr/bin/env bash
# Scale of one wiresignd (issue 9), on loopback high ports, in a temporary
# directory; prints every figure at the end.
#  1. Many zones: ZONES small zones (default 10,000; 20 names each) followed
#     from NSD: start-up time until every zone answers SOA, memory per zone,
#     threads; AXFRs of 100 random zones checked with ldns-verify-zone; a
#     burst of ZONES NOTIFYs after every zone changed at NSD: time until all
#     are signed at the new serial, each zone's delay (p50/p99/max: none
#     starved), the daemon's threads, RSS and transfers in flight (sampled);
#     one zone added, then removed, by SIGHUP while SOA and AXFR of another
#     zone are timed, and no other zone re-signed by it.
#  2. One big zone: BIG_NAMES names (default 1,000,000) as a zone file beside
#     a small one: its full signing, then a one-record change, each while
#     SOA and AXFR of the small zone are timed (p50/p99/max); the daemon's
#     peak and steady RSS, against knotd (Debian's) serving the same signed
#     zone as a plain zone file (no signing in Knot).
# Software keys (files). Needs nsd, knotd, dig, ldns-verify-zone.
# usage: tests/bench/scale_bench.sh [ZONES] [BIG_NAMES]   (BUILD=build dir, default build/;
#        ZONES=0 or BIG_NAMES=0 skips that part)
set -euo pipefail
zones=${1:-10000}
big_names=${2:-1000000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$root/build}
wiresignd=$build/src/wiresignd
probe=$root/tests/bench/scale_probe.py
[[ -x $wiresignd ]] || { echo "build first: $wiresignd not found" >&2; exit 1; }
dir=$(mktemp -d /tmp/wiresign-scale.XXXXXX)
daemon="" nsd_pid="" knot_pid=""
cleanup() {
  for pid in $daemon $nsd_pid $knot_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n ${KEEP_TMP:-} ]] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT
base=$((40000 + RANDOM % 15000))
primary_port=$base signer_port=$((base + 1)) big_port=$((base + 2)) knot_port=$((base + 3))
results=()
say() { echo "$*"; results+=("$*"); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# wait_for SECONDS COMMAND...: poll COMMAND every 0.5 s, bounded.
wait_for() {
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  until "$@"; do
    (( $(date +%s) < end )) || return 1
    kill -0 "$daemon" 2>/dev/null || { echo "wiresignd died" >&2; tail "$dir/daemon.log" >&2; exit 1; }
    sleep 0.5
  done
}
log_count() { grep -c -E "$1" "$dir/${2:-daemon.log}" || true; }

many_zones() {
  local n=$1 i
  mkdir -p "$dir/nsd" "$dir/state"
  python3 "$root/tools/gen_zone.py" z.test. 20 > "$dir/template"
  python3 - "$dir" "$n" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
template = open(f"{d}/template").read().split("\n", 1)[1]
with open(f"{d}/zones.list", "w") as names:
    for i in range(n + 1):  # z0 is kept back for the reload test
        with open(f"{d}/nsd/z{i}.zone", "w") as f:
            f.write(f"$ORIGIN z{i}.test.\n" + template)
        if i:
            names.write(f"z{i}.test\n")
PY
  {
    sed -n '/^nsd_server_conf()/,/^}/p' "$root/tests/system/lib.sh" > "$dir/nsd_conf.sh"
    source "$dir/nsd_conf.sh"
    nsd_server_conf "$dir/nsd" "$primary_port"
    for i in $(seq 0 "$n"); do
      printf 'zone:\n  name: z%s.test\n  zonefile: z%s.zone\n  provide-xfr: 127.0.0.1 NOKEY\n' "$i" "$i"
    done
  } > "$dir/nsd/nsd.conf"
  nsd -d -c "$dir/nsd/nsd.conf" > "$dir/nsd/stdout" 2>&1 &
  nsd_pid=$!
  echo z0.test > "$dir/z0.list"
  wait_for 120 bash -c "python3 '$probe' soa $primary_port '$dir/z0.list' | grep -q 'answered 1 of 1'" ||
    { echo "NSD did not start" >&2; cat "$dir/nsd/nsd.log" >&2; exit 1; }

  write_config() {  # write_config FIRST: zones zFIRST..zN
    {
      cat <<EOF
server:
  listen: ["127.0.0.1:$signer_port"]
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
EOF
      for i in $(seq "$1" "$n"); do
        echo "  - {name: z$i.test, policy: default, primaries: [\"127.0.0.1:$primary_port\"], allow-notify: [\"127.0.0.1\"], allow-transfer: [\"127.0.0.1\"]}"
      done
    } > "$dir/wiresign.yaml"
  }
  write_config 1
  local t0 threads_max=0 t
  t0=$(now)
  "$wiresignd" -c "$dir/wiresign.yaml" > "$dir/daemon.log" 2>&1 &
  daemon=$!
  # Every zone answers SOA: polled every few seconds (one pass can take a
  # minute or more while zones are missing; the last zone's signing time
  # from the log is printed too). Threads are sampled beside it.
  ( while kill -0 "$daemon" 2>/dev/null; do status_kb "$daemon" Threads; sleep 1; done ) > "$dir/threads.start" 2>/dev/null &
  local sampler=$!
  until python3 "$probe" soa "$signer_port" "$dir/zones.list" | grep -q "answered $n of $n"; do
    (( $(date +%s) - ${t0%.*} < 3600 )) || { echo "not all zones served after 1 h" >&2; exit 1; }
    sleep 2
  done
  local served_s last_signed_s
  served_s=$(since "$t0")
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  threads_max=$(sort -n "$dir/threads.start" | tail -n1)
  last_signed_s=$(python3 - "$dir/daemon.log" "${t0%.*}" <<'PY'
import calendar, re, sys, time
last = None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\S+) \S+: signed serial ", line)
    if m:
        last = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
print(last - int(sys.argv[2]) if last else "?")
PY
)
  say "many zones: $n zones followed from NSD, all answering SOA after $served_s s (signed: $(log_count ': signed serial'); the last signed $last_signed_s s after start, by the log)"
  sleep 5
  local rss hwm
  rss=$(status_kb "$daemon" VmRSS) hwm=$(status_kb "$daemon" VmHWM)
  say "many zones: RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB), $((rss / n)) KiB per zone; threads $(status_kb "$daemon" Threads) (at most ${threads_max:-?} seen while starting, sampled each second)"

  local bad=0 checked=0 zone
  for zone in $(shuf -n 100 "$dir/zones.list"); do
    timeout 20 dig -p "$signer_port" +time=5 +tries=1 @127.0.0.1 "$zone" AXFR > "$dir/axfr" 2>&1 || true
    if ! timeout 60 ldns-verify-zone "$dir/axfr" > /dev/null 2>&1; then bad=$((bad + 1)); echo "does not validate: $zone" >&2; fi
    checked=$((checked + 1))
  done
  say "many zones: $checked random zones' AXFRs checked with ldns-verify-zone: $((checked - bad)) valid"

  # Every zone changes at NSD, then a NOTIFY for each arrives at once.
  sed -i -E 's/^(@ IN SOA ns1 hostmaster) 1 /\1 2 /' "$dir"/nsd/z*.zone
  kill -HUP "$nsd_pid"
  wait_for 300 bash -c "dig -p $primary_port +short @127.0.0.1 z$n.test SOA | grep -q ' 2 3600 '"
  local before burst_t0 transfers
  before=$(log_count "from (IXFR|AXFR) from .* serial 2")
  burst_t0=$(now)
  say "NOTIFY burst: $(python3 "$probe" notify "$signer_port" "$dir/zones.list") in $(since "$burst_t0") s"
  threads_max=$(status_kb "$daemon" Threads)
  local xfr_max=0 x rss_max r
  rss_max=$(status_kb "$daemon" VmRSS)
  until (( $(log_count "from (IXFR|AXFR) from .* serial 2") - before >= n )); do
    t=$(status_kb "$daemon" Threads); (( t > threads_max )) && threads_max=$t
    r=$(status_kb "$daemon" VmRSS); (( r > rss_max )) && rss_max=$r
    # Transfers in flight: the daemon's TCP connections to NSD (sampled).
    x=$(ss -Htn state established "( dport = :$primary_port )" | wc -l); (( x > xfr_max )) && xfr_max=$x
    (( $(date +%s) - ${burst_t0%.*} < 3600 )) || { echo "burst not done after 1 h" >&2; break; }
    sleep 1
  done
  transfers=$(( $(log_count "from (IXFR|AXFR) from .* serial 2") - before ))
  say "NOTIFY burst: $transfers of $n zones transferred and signed at the new serial after $(since "$burst_t0") s; daemon threads at most $threads_max, transfers from NSD in flight at most $xfr_max (sampled each second), RSS at most $((rss_max / 1024)) MiB"
  # No zone starved: each zone's delay from the burst to its new serial (log times, 1 s resolution).
  say "NOTIFY burst: per-zone delay $(python3 - "$dir/daemon.log" "${burst_t0%.*}" <<'PY'
import calendar, re, sys, time
start = int(sys.argv[2])
done = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\S+) (\S+): signed serial \d+ from (IXFR|AXFR) from .* serial 2\b", line)
    if m:
        t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
        done.setdefault(m.group(2), t - start)
d = sorted(done.values())
pick = lambda q: d[min(len(d) - 1, int(q * len(d)))]
print(f"p50 {pick(0.5)} s, p99 {pick(0.99)} s, max {d[-1]} s over {len(d)} zones" if d else "no zone done")
PY
)"

  # One zone added by SIGHUP, then removed, while another zone is timed.
  local others_before
  others_before=$(grep ': signed serial' "$dir/daemon.log" | grep -vc '^[^ ]* z0\.test\.:' || true)
  python3 "$probe" latency "$signer_port" z5.test 20 > "$dir/latency.reload" &
  local latency_pid=$!
  sleep 2
  write_config 0
  t0=$(now)
  kill -HUP "$daemon"
  wait_for 600 grep -q "z0.test.: signed serial" "$dir/daemon.log"
  say "reload adding z0.test: signed and served after $(since "$t0") s"
  write_config 1
  t0=$(now)
  kill -HUP "$daemon"
  wait_for 600 grep -q "z0.test.: removed from the configuration" "$dir/daemon.log"
  say "reload removing z0.test: done after $(since "$t0") s; it now answers $(dig -p "$signer_port" +time=2 +tries=1 @127.0.0.1 z0.test SOA | grep -o 'status: [A-Z]*')"
  wait "$latency_pid" || true
  say "during both reloads, z5.test: $(cat "$dir/latency.reload")"
  say "during both reloads, other zones re-signed: $(( $(grep ': signed serial' "$dir/daemon.log" | grep -vc '^[^ ]* z0\.test\.:' || true) - others_before ))"
  kill "$daemon" "$nsd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  daemon="" nsd_pid=""
}

big_zone() {
  local names=$1 t0 peak
  mkdir -p "$dir/big" "$dir/knot"
  python3 "$root/tools/gen_zone.py" big.test. "$names" > "$dir/big/big.zone"
  python3 "$root/tools/gen_zone.py" probe.test. 50 > "$dir/big/probe.zone"
  cat > "$dir/big/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$big_port"]
  state-dir: $dir/big/state
keystores:
  - {name: local, backend: files, directory: $dir/big/keys}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
  - {name: probe.test, policy: default, file: $dir/big/probe.zone, allow-transfer: ["127.0.0.1"]}
  - {name: big.test, policy: default, file: $dir/big/big.zone, allow-transfer: ["127.0.0.1"]}
EOF
  t0=$(now)
  "$wiresignd" -c "$dir/big/wiresign.yaml" > "$dir/big.log" 2>&1 &
  daemon=$!
  wait_for 120 grep -q "probe.test.: signed serial" "$dir/big.log"
  # The small zone is timed for as long as the big one's first (full) signing takes.
  python3 "$probe" latency "$big_port" probe.test 3600 "$dir/big.log" "big.test.: signed serial" > "$dir/latency.full" &
  local watch=$!
  wait_for 3600 grep -q "big.test.: signed serial" "$dir/big.log"
  wait "$watch" || true
  say "big zone: $names names, full signing: $(grep 'big.test.: signed serial' "$dir/big.log" | head -n1 | sed 's/.*signed serial/serial/')"
  say "big zone: during the full signing, probe.test: $(cat "$dir/latency.full")"
  sleep 10
  peak=$(status_kb "$daemon" VmHWM)
  say "big zone: wiresignd RSS steady $(( $(status_kb "$daemon" VmRSS) / 1024 )) MiB, peak $((peak / 1024)) MiB"

  echo "added-by-bench IN A 192.0.2.1" >> "$dir/big/big.zone"
  sed -i -E 's/^(@ IN SOA ns1 hostmaster) [0-9]+ /\1 2 /' "$dir/big/big.zone"
  python3 "$probe" latency "$big_port" probe.test 30 > "$dir/latency.incremental" &
  watch=$!
  wait_for 1800 bash -c "(( \$(grep -c 'big.test.: signed serial' '$dir/big.log') >= 2 ))"
  wait "$watch" || true
  say "big zone: one-record change: $(grep 'big.test.: signed serial' "$dir/big.log" | sed -n 2p | sed 's/.*signed serial/serial/')"
  say "big zone: during the change (30 s window), probe.test: $(cat "$dir/latency.incremental")"
  say "big zone: wiresignd RSS after the change $(( $(status_kb "$daemon" VmRSS) / 1024 )) MiB, peak $(( $(status_kb "$daemon" VmHWM) / 1024 )) MiB"

  # Knot DNS holding the same signed zone (from wiresignd's AXFR), no signing.
  dig -p "$big_port" +time=30 +tries=1 +nocmd +nostats +onesoa @127.0.0.1 big.test AXFR | grep -v '^;' > "$dir/knot/big.test.zone"
  kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=""
  cat > "$dir/knot/knot.conf" <<EOF
server:
  listen: 127.0.0.1@$knot_port
  rundir: $dir/knot
log:
  - target: $dir/knot/knot.log
    any: info
database:
  storage: $dir/knot
template:
  - id: default
    storage: $dir/knot
    semantic-checks: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: big.test
EOF
  t0=$(now)
  knotd -c "$dir/knot/knot.conf" > /dev/null 2>&1 &
  knot_pid=$!
  for _ in $(seq 1 1200); do
    dig -p "$knot_port" +time=1 +tries=1 +short @127.0.0.1 big.test SOA 2>/dev/null | grep -q hostmaster && break
    sleep 0.5
  done
  sleep 10
  say "knotd: big.test loaded in $(since "$t0") s; RSS steady $(( $(status_kb "$knot_pid" VmRSS) / 1024 )) MiB, peak $(( $(status_kb "$knot_pid" VmHWM) / 1024 )) MiB"
  kill "$knot_pid"; wait "$knot_pid" 2>/dev/null || true; knot_pid=""
}

(( zones > 0 )) && many_zones "$zones"
(( big_names > 0 )) && big_zone "$big_names"
echo
echo "== scale_bench.sh $zones $big_names ($(nproc) cores, $(date -u +%F)) =="
printf '%s\n' "${results[@]}"
