#!/usr/bin/env bash
# Every example in the README, the operator guide (docs/*.md) and the man
# pages (docs/man/*.md) is run, so the docs cannot drift from the code. Each fenced
# block must be preceded by a marker saying how it is tested:
#   <!-- test: wiresign-config [start] -->  loaded by `wiresign policy check` and
#                                          `wiresignd --check`; "start": the daemon
#                                          runs with it for the shell examples
#   <!-- test: named-conf -->               named-checkconf
#   <!-- test: nsd-conf [primary|secondary] -->  nsd-checkconf; primary/secondary:
#                                          NSD runs with it beside the daemon
#   <!-- test: knot-conf -->                knotc conf-check
#   <!-- test: shell -->                    run with bash -e against the daemon
#   <!-- test: skip: REASON -->             not run (the reason is printed)
# A block without a marker fails the test.
# The examples use documentation addresses and system paths; they are moved
# to loopback ports and a temporary directory before running: the hidden
# primary 192.0.2.1 is a real NSD, the signer 192.0.2.53 the wiresignd under
# test, the secondary 198.51.100.1 another NSD. In shell examples `wiresign`
# uses the test's config as its default, `systemctl reload wiresignd` runs the
# unit's ExecReload= line, and `journalctl -u wiresignd` prints the daemon's log.
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
for tool in nsd nsd-checkconf named-checkconf knotc dnssec-keygen dnssec-dsfromkey softhsm2-util curl; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool is not installed (tools/install-deps.sh)" >&2; exit 1; }
done
signer_port=$(random_port)
primary_port=$(random_port)
secondary_port=$(random_port)
metrics_port=$(random_port)
secondary2_port=$((signer_port + 1))   # a second secondary that never answers

docs=("$SRC/README.md" "$SRC"/docs/*.md "$SRC"/docs/man/*.md)
mkdir -p "$TMP/blocks" "$TMP/work" "$TMP/etc/wiresign" "$TMP/etc/nsd" "$TMP/var/lib" \
  "$TMP/var/cache/bind" "$TMP/usr/share/wiresign" "$TMP/primary" "$TMP/secondary"

# Extract the blocks: $TMP/blocks/NNN.raw (as written), NNN.txt (moved to the
# test's addresses and paths), and index lines "NNN<TAB>file:line<TAB>marker".
if bounded python3 - "$TMP" "$signer_port" "$primary_port" "$secondary_port" "$secondary2_port" "$metrics_port" \
  "${docs[@]}" > "$TMP/blocks/index" <<'PY'
import os, re, sys
tmp, signer, primary, secondary, secondary2, metrics = sys.argv[1:7]
files = sys.argv[7:]
ip = lambda a: re.escape(a) + r"(?![0-9])"
rewrites = [
    (r"(?<![\w-])notify: 192\.0\.2\.53 ", f"notify: 127.0.0.1@{signer} "),  # NSD primary's NOTIFY
    (r"request-xfr: 192\.0\.2\.53 ", f"request-xfr: 127.0.0.1@{signer} "),  # NSD secondary
    (ip("192.0.2.53") + ":53", f"127.0.0.1:{signer}"),
    (ip("192.0.2.53") + "@53", f"127.0.0.1@{signer}"),
    ("@" + ip("192.0.2.53"), f"-p {signer} @127.0.0.1"),
    ("@" + ip("198.51.100.1"), f"-p {secondary} @127.0.0.1"),
    (ip("192.0.2.1") + ":53", f"127.0.0.1:{primary}"),
    (ip("198.51.100.1") + ":53", f"127.0.0.1:{secondary}"),
    (ip("203.0.113.1") + ":53", f"127.0.0.1:{secondary2}"),
    (r"127\.0\.0\.1:9153", f"127.0.0.1:{metrics}"),
    (r"127\.0\.0\.1:5300", f"127.0.0.1:{signer}"),
    (r"-p 5300\b", f"-p {signer}"),
    (ip("192.0.2.53") + "|" + ip("192.0.2.1") + "|" + ip("198.51.100.1") + "|" + ip("203.0.113.1"), "127.0.0.1"),
    (r"(?<![\w/])/(etc/wiresign|var/lib/wiresign|usr/share/wiresign|var/cache/bind|etc/nsd|etc/bind|var/lib/knot)",
     tmp + r"/\1"),
]
n, problems = 0, []
for path in files:
    lines = open(path, encoding="utf-8").read().split("\n")
    marker, i = None, 0
    while i < len(lines):
        m = re.match(r"^\s*<!-- test: (.*?) -->\s*$", lines[i])
        if m:
            marker = m.group(1)
        elif re.match(r"^<!-- (run|test) command -->$", lines[i]):
            marker = "skip: the README's own command, run by .ci/run (test) or by hand (run)"
        elif lines[i].lstrip().startswith("```"):
            indent = len(lines[i]) - len(lines[i].lstrip())
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            if marker is None:
                problems.append(f"{path}:{start}: example without a <!-- test: ... --> marker")
            else:
                n += 1
                raw = "\n".join(body) + "\n"
                text = raw
                for pattern, replacement in rewrites:
                    text = re.sub(pattern, replacement, text)
                open(f"{tmp}/blocks/{n:03d}.raw", "w").write(raw)
                open(f"{tmp}/blocks/{n:03d}.txt", "w").write(text)
                print(f"{n:03d}\t{os.path.basename(path)}:{start}\t{marker}")
            marker = None
        elif lines[i].strip():
            marker = None if not lines[i].lstrip().startswith("<!--") else marker
        i += 1
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
then
  pass "every example in the docs has a test marker ($(wc -l < "$TMP/blocks/index") examples)"
else
  fail "examples without a test marker (above)"
fi

# The man pages the build made from docs/man/*.md: man renders them, groff
# finds nothing to warn about.
man_dir=$(dirname "$(dirname "$WIRESIGN")")/docs/man
for source in "$SRC"/docs/man/*.md; do
  page=$man_dir/$(basename "$source" .md)
  if [[ ! -f $page ]]; then
    fail "$page was not built (cmake --build builds the man pages)"
    continue
  fi
  check "$(basename "$page") renders with man -l" bash -c "MANWIDTH=80 man -l '$page' 2>/dev/null | grep -q '^NAME'"
  check "$(basename "$page") has no groff warnings" bash -c "test -z \"\$(groff -man -Tutf8 -ww -z '$page' 2>&1)\""
  [[ $page -nt $source ]] || fail "$page is older than $source (rebuild)"
done

# What the examples expect to find: the SoftHSM token and PIN the package
# makes, the example zone as example.com at the primary, BIND's key files.
softhsm_token "$TMP/etc/wiresign"
sed 's/example\.test\./example.com./g' "$SRC/examples/example.test.zone" > "$TMP/etc/nsd/example.com.zone"
cp "$SRC/examples/example.test.zone" "$TMP/usr/share/wiresign/example.test.zone"
cp "$SRC/examples/example.test.zone" "$TMP/work/example.test.zone"
bounded dnssec-keygen -q -K "$TMP/var/cache/bind" -a ECDSAP256SHA256 -f KSK example.com > "$TMP/bind-ksk.name"

# quiet COMMAND...: COMMAND's output only when it fails.
quiet() { "$@" > "$TMP/quiet.out" 2>&1 || { local rc=$?; cat "$TMP/quiet.out" >&2; return $rc; }; }

# Phase 1: configurations.
start_config="" primary_conf="" secondary_conf=""
shell_blocks=()
from_bind_config=""
while IFS=$'\t' read -r n where marker; do
  raw=$TMP/blocks/$n.raw
  text=$TMP/blocks/$n.txt
  case $marker in
    wiresign-config*)
      cp "$text" "$TMP/blocks/$n.yaml"
      check "$where: wiresign policy check accepts it" quiet bounded "$WIRESIGN" policy check "$TMP/blocks/$n.yaml"
      check "$where: wiresignd --check accepts it" quiet bounded "$WIRESIGND" -c "$TMP/blocks/$n.yaml" --check
      [[ $marker == *start* ]] && start_config=$TMP/blocks/$n.yaml
      grep -q 'from-bind' "$text" && from_bind_config=$TMP/blocks/$n.yaml
      ;;
    named-conf)
      cp "$raw" "$TMP/blocks/$n.conf"
      check "$where: named-checkconf accepts it" quiet bounded named-checkconf "$TMP/blocks/$n.conf"
      ;;
    nsd-conf*)
      cp "$raw" "$TMP/blocks/$n.conf"
      check "$where: nsd-checkconf accepts it" quiet bounded nsd-checkconf "$TMP/blocks/$n.conf"
      [[ $marker == *primary* ]] && primary_conf=$text
      [[ $marker == *secondary* ]] && secondary_conf=$text
      ;;
    knot-conf)
      cp "$raw" "$TMP/blocks/$n.conf"
      check "$where: knotc conf-check accepts it" quiet bounded knotc -c "$TMP/blocks/$n.conf" conf-check
      ;;
    shell) shell_blocks+=("$n $where") ;;
    skip:*) echo "skipped $where: ${marker#skip: }" ;;
    *) fail "$where: unknown test marker '$marker'" ;;
  esac
done < "$TMP/blocks/index"
[[ -n $start_config && -n $primary_conf && -n $secondary_conf ]] ||
  { fail "the guide needs one 'wiresign-config start' and NSD 'primary' and 'secondary' examples"; finish; }

# Phase 2: the primary, the signer and a secondary, from the examples.
{ nsd_server_conf "$TMP/primary" "$primary_port"; cat "$primary_conf"; } > "$TMP/primary/nsd.conf"
{ nsd_server_conf "$TMP/secondary" "$secondary_port"; cat "$secondary_conf"; } > "$TMP/secondary/nsd.conf"
mkdir -p "$TMP/etc/wiresign"
cp "$start_config" "$TMP/etc/wiresign/wiresign.yaml"
nsd -d -c "$TMP/primary/nsd.conf" > "$TMP/primary/nsd.out" 2>&1 &
primary_pid=$!
"$WIRESIGND" -c "$TMP/etc/wiresign/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
nsd -d -c "$TMP/secondary/nsd.conf" > "$TMP/secondary/nsd.out" 2>&1 &
secondary_pid=$!
stop_all() {
  kill "$daemon" "$primary_pid" "$secondary_pid" 2>/dev/null || true
  wait "$daemon" "$primary_pid" "$secondary_pid" 2>/dev/null || true
}
trap 'stop_all; _cleanup' EXIT
check "the signer signs example.com from the primary" wait_log "example.com.: signed serial"
signed=$(bounded dig -p "$signer_port" +time=2 +tries=1 +short @127.0.0.1 example.com SOA | awk '{print $3}' || true)
secondary_has_it() {
  for _ in $(seq 1 300); do
    [[ $(dig -p "$secondary_port" +time=1 +tries=1 +short @127.0.0.1 example.com SOA 2>/dev/null | awk '{print $3}') == "$signed" ]] &&
      return 0
    sleep 0.1
  done
  echo "the NSD secondary on port $secondary_port does not serve serial $signed; its log:" >&2
  tail -n 20 "$TMP/secondary/nsd.out" >&2
  return 1
}
check "the secondary transfers the signed zone (serial $signed) from the signer" secondary_has_it

# Phase 3: the shell examples, in order, in one working directory.
reload_line=$(sed -n 's/^ExecReload=//p' "$SRC/packaging/systemd/wiresignd.service" |
  sed "s#/usr/bin/wiresign #$WIRESIGN #; s#/etc/wiresign#$TMP/etc/wiresign#g")
cat > "$TMP/preamble.sh" <<EOF
set -euo pipefail
export SOFTHSM2_CONF=$SOFTHSM2_CONF
cd "$TMP/work"
# The control commands' default config is the test's /etc/wiresign/wiresign.yaml.
wiresign() {
  case "\$1" in
    status|reload|zone|key)
      if [[ " \$* " == *" --config "* || " \$* " == *" --socket "* ]]; then
        timeout 60 "$WIRESIGN" "\$@"
      else
        timeout 60 "$WIRESIGN" "\$@" --config "$TMP/etc/wiresign/wiresign.yaml"
      fi ;;
    *) timeout 60 "$WIRESIGN" "\$@" ;;
  esac
}
wiresignd() { timeout 60 "$WIRESIGND" "\$@"; }
systemctl() {
  [[ "\$*" == "reload wiresignd" ]] || { echo "test_docs: only 'systemctl reload wiresignd' is emulated" >&2; return 1; }
  $reload_line
}
journalctl() { cat "$TMP/daemon.log"; }
dig() { timeout 30 "\$(type -P dig)" +time=2 +tries=2 "\$@"; }
curl() { timeout 30 "\$(type -P curl)" --max-time 10 "\$@"; }
# chown needs root and the package's user; elsewhere the modes still apply.
chown() {
  if [[ \$(id -u) -eq 0 ]] && getent passwd wiresign > /dev/null; then command chown "\$@"; fi
}
EOF
for entry in "${shell_blocks[@]}"; do
  n=${entry%% *}
  where=${entry#* }
  cat "$TMP/preamble.sh" "$TMP/blocks/$n.txt" > "$TMP/blocks/$n.sh"
  if bounded bash "$TMP/blocks/$n.sh" > "$TMP/blocks/$n.out" 2>&1; then
    pass "$where: runs"
    [[ -z ${VERBOSE:-} ]] || { echo "--- $where"; cat "$TMP/blocks/$n.txt"; cat "$TMP/blocks/$n.out"; }
  else
    fail "$where: exit $?"
    echo "--- $where" >&2; cat "$TMP/blocks/$n.txt" >&2; echo "--- output" >&2; tail -n 30 "$TMP/blocks/$n.out" >&2
  fi
done

# The migration from BIND: the documented keystore and policy use BIND's key
# as it is: the DS wiresign prints is the one BIND computes from the key.
if [[ -n $from_bind_config ]]; then
  check "the migrated BIND key gives the DS BIND computes" bash -c "
    '$WIRESIGN' keys ds --origin example.com --config '$from_bind_config' --policy from-bind --digest sha256 --format no-ttl |
      awk '\$3 == \"DS\" {print \$4, \$5, \$6, \$7}' > '$TMP/ds.wiresign'
    dnssec-dsfromkey -2 '$TMP/var/cache/bind/'\$(cat '$TMP/bind-ksk.name').key | awk '{print \$4, \$5, \$6, \$7}' > '$TMP/ds.bind'
    [[ -s '$TMP/ds.bind' ]] && diff '$TMP/ds.bind' '$TMP/ds.wiresign'"
else
  fail "no wiresign-config example with the from-bind keystore"
fi
check "every NOTIFY the primary's example sends is accepted (no refusals logged)" \
  bash -c "! grep -q 'NOTIFY from .* refused' '$TMP/daemon.log'"
[[ -z ${VERBOSE:-} ]] || cat "$TMP/daemon.log"
finish
