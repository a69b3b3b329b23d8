# Shared helpers for wiresign's system tests; `source` it from a test script.
# Provides: $WIRESIGN, $SRC, $TMP (removed on exit), pass/fail counters and
# `finish`, `bounded` (every external tool runs under `timeout`), a SoftHSM
# token in a temp dir, `verify_all` (BIND, ldns and Knot validate a signed
# zone) and small readers for signed zone files.
# Tests run from the build dir and never write into the source tree.

SRC=${WIRESIGN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DATA=$SRC/tests/data
TOOL_TIMEOUT=${TOOL_TIMEOUT:-300}     # seconds for any one tool call
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

if [[ -z ${WIRESIGN:-} ]]; then
  for candidate in "$PWD/wiresign" "$PWD/src/wiresign" "$SRC/build/wiresign" "$SRC/build/src/wiresign"; do
    if [[ -x $candidate ]]; then WIRESIGN=$candidate; break; fi
  done
fi
if [[ -z ${WIRESIGN:-} || ! -x $WIRESIGN ]]; then
  echo "FAIL: wiresign binary not found (set WIRESIGN=/path/to/wiresign)" >&2
  exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wiresign-test.XXXXXX")
_cleanup() {
  if [[ -n ${KEEP_TMP:-} ]]; then
    echo "kept $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap _cleanup EXIT

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); [[ -z ${VERBOSE:-} ]] || echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: a test step that passes when COMMAND succeeds.
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
  exit $((FAILED > 0 ? 1 : 0))
}

# bounded COMMAND...: run COMMAND under timeout; a hang becomes exit status 124.
bounded() { timeout --kill-after=10 "$TOOL_TIMEOUT" "$@"; }

# wiresign ARGS...: the signer under test, bounded like every other tool.
wiresign() { bounded "$WIRESIGN" "$@"; }

# start_daemon: wiresignd (WIRESIGND, else beside WIRESIGN) with
# $TMP/wiresign.yaml in the background, its log appended to $TMP/daemon.log,
# its pid in $daemon. stop_daemon [-SIGNAL]: sends SIGNAL (default -TERM)
# and waits for it. Set trap 'stop_daemon; _cleanup' EXIT where it is used.
daemon=""
start_daemon() {
  "${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}" -c "$TMP/wiresign.yaml" >> "$TMP/daemon.log" 2>&1 &
  daemon=$!
}
stop_daemon() {
  [[ -z $daemon ]] && return 0
  kill "${1:--TERM}" "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  daemon=""
}

# zone_origin FILE DEFAULT: the origin named by a "; origin: NAME" comment in
# the first lines of a test zone, else DEFAULT.
zone_origin() {
  local origin
  origin=$(sed -n '1,5s/^; *origin: *\([^ ]*\).*/\1/p' "$1" | head -n1)
  echo "${origin:-$2}"
}

# verify_all ORIGIN FILE [csk]: the signed zone validates with dnssec-verify,
# ldns-verify-zone and kzonecheck. On failure, prints each failing tool's output.
# "csk": one key signs everything (dnssec-verify -z, else it wants a ZSK).
verify_all() {
  local origin=$1 file=$2 out rc status=0 bind_args=()
  [[ ${3:-} == csk ]] && bind_args=(-z)
  out=$(bounded dnssec-verify -q "${bind_args[@]}" -o "$origin" "$file" 2>&1) && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "dnssec-verify ${bind_args[*]} -o $origin $file: exit $rc" >&2
    printf '%s\n' "$out" | head -n 30 >&2
    status=1
  fi
  out=$(bounded ldns-verify-zone -V 2 "$file" 2>&1) && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "ldns-verify-zone $file: exit $rc" >&2
    printf '%s\n' "$out" | head -n 30 >&2
    status=1
  fi
  out=$(bounded kzonecheck -o "$origin" --dnssec on "$file" 2>&1) && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "kzonecheck -o $origin --dnssec on $file: exit $rc" >&2
    printf '%s\n' "$out" | head -n 30 >&2
    status=1
  fi
  return $status
}

# canonical FILE: the zone one record per line, "owner ttl class type rdata",
# owner names lower-case, as printed by ldns (independent of wiresign's
# own writer).
canonical() {
  bounded ldns-read-zone -c "$1" 2>/dev/null |
    sed -E 's/[[:space:]]*;\{id = [0-9]+ \([kz]sk\), size = [0-9]+b\}$//'
}

# records FILE TYPE: the canonical lines of one RR type.
records() { canonical "$1" | awk -v t="$2" '$4 == t'; }

# rrsig_tags FILE COVERED: the key tags of RRSIGs covering type COVERED
# ("!COVERED" for all other types), sorted and unique.
rrsig_tags() {
  canonical "$1" | awk -v c="$2" '
    $4 != "RRSIG" { next }
    c ~ /^!/ { if ($5 != substr(c, 2)) print $11; next }
    $5 == c { print $11 }' | sort -u
}

# keytag FLAGS PROTOCOL ALGORITHM BASE64: the RFC 4034 Appendix B key tag.
keytag() {
  python3 - "$@" <<'EOF'
import base64, sys
flags, proto, alg = (int(x) for x in sys.argv[1:4])
rdata = flags.to_bytes(2, "big") + bytes([proto, alg]) + base64.b64decode("".join(sys.argv[4:]))
acc = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(rdata))
print((acc + (acc >> 16 & 0xFFFF)) & 0xFFFF)
EOF
}

# dnskey_tags FILE FLAGS: key tags of the zone's DNSKEYs with FLAGS (256, 257).
dnskey_tags() {
  local flags proto alg key
  records "$1" DNSKEY | while read -r _ _ _ _ flags proto alg key; do
    # `if`, not `&&`: the loop's status must not be that of the last key's flag test
    if [[ $flags == "$2" ]]; then keytag "$flags" "$proto" "$alg" "$key"; fi
  done | sort -u
}

# softhsm_token DIR: a fresh SoftHSM token "wiresign" (user PIN 1234) stored in
# DIR; exports SOFTHSM2_CONF and writes DIR/hsm.pin (mode 0600).
softhsm_token() {
  local dir=$1
  mkdir -p "$dir/tokens"
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$dir" > "$dir/softhsm2.conf"
  export SOFTHSM2_CONF=$dir/softhsm2.conf
  bounded softhsm2-util --init-token --free --label wiresign --pin 1234 --so-pin 5678 >/dev/null
  (umask 077 && printf '1234\n' > "$dir/hsm.pin")
}

# check_signed ORIGIN UNSIGNED SIGNED MODE KEYS: checks the validators do not
# make, printing one line per problem (none: success). MODE is nsec, nsec3 or
# optout; KEYS is split (KSK signs DNSKEY, ZSK the rest) or csk.
#  - every input record is in the output, TTLs lowered to the RRset minimum
#  - NSEC/NSEC3 TTL = min(SOA TTL, SOA minimum) (RFC 9077)
#  - NSEC chain: exactly the authoritative names (no glue, no occluded data,
#    no empty non-terminals), in canonical order (RFC 4034 §4.1.1, §6.1)
#  - NSEC3 chain: the hashes of authoritative names and empty non-terminals,
#    none of non-authoritative names (RFC 5155 §7.1); opt-out may leave out
#    insecure delegations; NSEC3PARAM and NSEC3 fields "1 F 0 -" (RFC 9276)
#  - no RRSIG on glue, occluded data or a delegation's NS RRset
#  - key tags: DNSKEY RRset by the KSK only, everything else by the ZSK only
check_signed() {
  local origin=$1 unsigned=$2 signed=$3 mode=$4 keys=$5
  canonical "$unsigned" > "$TMP/check.in" || { echo "ldns-read-zone cannot read $unsigned"; return 1; }
  canonical "$signed" > "$TMP/check.out" || { echo "ldns-read-zone cannot read $signed"; return 1; }
  bounded python3 - "$origin" "$TMP/check.in" "$TMP/check.out" "$mode" "$keys" <<'EOF'
import base64, hashlib, sys

origin_text, in_path, out_path, mode, keys = sys.argv[1:6]
problems = []
def problem(text):
    if len(problems) < 25:
        problems.append(text)

def labels(name):
    """Presentation name -> tuple of lower-cased label bytes, root last omitted."""
    out, cur, i = [], bytearray(), 0
    name = name if name.endswith(".") else name + "."
    while i < len(name):
        c = name[i]
        if c == "\\":
            if name[i + 1:i + 4].isdigit():
                cur.append(int(name[i + 1:i + 4])); i += 4
            else:
                cur += name[i + 1].encode("latin-1"); i += 2
            continue
        if c == ".":
            if cur or i < len(name) - 1:
                out.append(bytes(cur).lower())
            cur = bytearray(); i += 1
            continue
        cur += c.encode("latin-1"); i += 1
    return tuple(out)

def wire(lbls):
    return b"".join(bytes([len(l)]) + l for l in lbls) + b"\0"

def canonical_key(lbls):
    return tuple(reversed(lbls))

B32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHIJKLMNOPQRSTUV")
def nsec3_hash(lbls, origin):
    digest = hashlib.sha1(wire(lbls)).digest()  # iterations 0, empty salt
    return (base64.b32encode(digest).translate(B32).lower(),) + origin

def read(path):
    rrs = []
    for line in open(path, encoding="latin-1"):
        if not line.strip() or line.startswith(";"):
            continue
        f = line.split(None, 4)
        rrs.append((labels(f[0]), int(f[1]), f[3], f[4].strip() if len(f) > 4 else ""))
    return rrs

origin = labels(origin_text)
unsigned, signed = read(in_path), read(out_path)
DNSSEC = {"RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "DNSKEY"}

def under(name, top):
    return len(name) >= len(top) and name[len(name) - len(top):] == top

# Zone structure from the unsigned input.
cuts = {n for n, _, t, _ in unsigned if t == "NS" and n != origin}
def below_cut(name):
    return any(under(name, c) and name != c for c in cuts)
owners = {n for n, _, _, _ in unsigned}
auth = {n for n in owners if not below_cut(n)}
non_auth = owners - auth
for n in list(non_auth):  # and the empty non-terminals below a cut
    p = n[1:]
    while below_cut(p):
        non_auth.add(p)
        p = p[1:]
ents = set()
for n in auth:
    p = n[1:]
    while len(p) > len(origin):
        if p not in owners:
            ents.add(p)
        p = p[1:]
has_ds = {n for n, _, t, _ in unsigned if t == "DS"}
insecure = cuts - has_ds

# 1. Every input record survives, with the RRset's lowest TTL.
min_ttl = {}
for n, ttl, t, rd in unsigned:
    min_ttl[(n, t)] = min(ttl, min_ttl.get((n, t), ttl))
expected = {(n, min_ttl[(n, t)], t, rd) for n, _, t, rd in unsigned if t != "SOA"}
got = {(n, ttl, t, rd) for n, ttl, t, rd in signed if t not in DNSSEC and t != "SOA"}
def show(rr):
    return ".".join(l.decode("latin-1") for l in rr[0]) + f". {rr[1]} {rr[2]} {rr[3][:60]}"
for rr in sorted(expected - got)[:5]:
    problem(f"input record missing or changed in output: {show(rr)}")
for rr in sorted(got - expected)[:5]:
    problem(f"output record not in input: {show(rr)}")
soas = [rr for rr in signed if rr[2] == "SOA"]
if len(soas) != 1:
    problem(f"{len(soas)} SOA records in output")
    print("\n".join(problems)); sys.exit(1)
soa_ttl, soa_minimum = soas[0][1], int(soas[0][3].split()[6])
denial_ttl = min(soa_ttl, soa_minimum)

# 2. RRSIG placement and key tags.
def keytag(rdata):
    flags, proto, alg, key = rdata.split(None, 3)
    data = int(flags).to_bytes(2, "big") + bytes([int(proto), int(alg)]) + base64.b64decode("".join(key.split()))
    acc = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(data))
    return (acc + (acc >> 16 & 0xFFFF)) & 0xFFFF
dnskeys = [rd for n, _, t, rd in signed if t == "DNSKEY"]
ksk = {keytag(rd) for rd in dnskeys if rd.split()[0] == "257"}
zsk = {keytag(rd) for rd in dnskeys if rd.split()[0] == "256"}
if keys == "csk":
    if len(dnskeys) != 1 or len(ksk) != 1:
        problem(f"--csk: expected one DNSKEY with flags 257, got {dnskeys}")
    zsk = ksk
elif not ksk or not zsk:
    problem(f"expected a KSK (257) and a ZSK (256), got DNSKEY flags {[rd.split()[0] for rd in dnskeys]}")
for n, _, t, rd in signed:
    if t != "RRSIG":
        continue
    f = rd.split()
    covered, tag = f[0], int(f[6])
    if covered == "DNSKEY":
        if tag not in ksk:
            problem(f"RRSIG DNSKEY by key {tag}, not the KSK {sorted(ksk)}")
    elif tag not in zsk:
        problem(f"RRSIG {covered} at {show((n, 0, '', ''))} by key {tag}, not the ZSK {sorted(zsk)}")
    if n in non_auth:
        problem(f"RRSIG {covered} on non-authoritative name {show((n, 0, '', ''))}")
    if n in cuts and covered not in ("DS", "NSEC"):
        problem(f"RRSIG {covered} at delegation {show((n, 0, '', ''))}")
if not any(t == "RRSIG" and rd.split()[0] == "DNSKEY" for _, _, t, rd in signed):
    problem("no RRSIG over the DNSKEY RRset")

# 3. Denial of existence.
nsec = [(n, ttl, rd) for n, ttl, t, rd in signed if t == "NSEC"]
nsec3 = [(n, ttl, rd) for n, ttl, t, rd in signed if t == "NSEC3"]
param = [rd for n, _, t, rd in signed if t == "NSEC3PARAM"]
for n, ttl, _ in nsec + nsec3:
    if ttl != denial_ttl:
        problem(f"NSEC/NSEC3 TTL {ttl} at {show((n, 0, '', ''))}, expected min(SOA TTL {soa_ttl}, minimum {soa_minimum}) = {denial_ttl}")
        break
if mode == "nsec":
    if nsec3 or param:
        problem("NSEC3 or NSEC3PARAM in an NSEC zone")
    owners_got = {n for n, _, _ in nsec}
    for n in sorted(auth - owners_got)[:5]:
        problem(f"authoritative name without NSEC: {show((n, 0, '', ''))}")
    for n in sorted(owners_got - auth)[:5]:
        what = "empty non-terminal" if n in ents else "non-authoritative name" if n in non_auth else "name not in zone"
        problem(f"NSEC at {what} {show((n, 0, '', ''))}")
    chain = sorted(owners_got, key=canonical_key)
    follows = {chain[i]: chain[(i + 1) % len(chain)] for i in range(len(chain))}
    for n, _, rd in nsec:
        nxt = labels(rd.split()[0])
        if nxt != follows.get(n):
            problem(f"NSEC at {show((n, 0, '', ''))} points to {rd.split()[0]}, expected the canonical successor")
            break
else:
    if nsec:
        problem("NSEC records in an NSEC3 zone")
    if param != ["1 0 0 -"]:
        problem(f"NSEC3PARAM is {param}, expected ['1 0 0 -']")
    flags = "1" if mode == "optout" else "0"
    for n, _, rd in nsec3:
        f = rd.split()
        if f[:4] != ["1", flags, "0", "-"]:
            problem(f"NSEC3 fields {' '.join(f[:4])}, expected 1 {flags} 0 -")
            break
    got_hashes = {n for n, _, _ in nsec3}
    everything = auth | ents
    if mode == "optout":
        # RFC 5155 §7.1: insecure delegations, and empty non-terminals that
        # exist only above them, may be left out.
        needed_names = auth - insecure
        required = set(needed_names)
        for n in needed_names:
            p = n[1:]
            while len(p) > len(origin):
                if p in ents:
                    required.add(p)
                p = p[1:]
    else:
        required = everything
    for n in sorted(required):
        if nsec3_hash(n, origin) not in got_hashes:
            problem(f"no NSEC3 for {'empty non-terminal' if n in ents else 'name'} {show((n, 0, '', ''))}")
    allowed = {nsec3_hash(n, origin) for n in everything}
    for n in sorted(non_auth):
        if nsec3_hash(n, origin) in got_hashes:
            problem(f"NSEC3 for non-authoritative name {show((n, 0, '', ''))}")
    extra = got_hashes - allowed
    if extra:
        problem(f"{len(extra)} NSEC3 records hash no name of the zone")
if problems:
    print("\n".join(problems))
sys.exit(1 if problems else 0)
EOF
}

# axfr_validates PORT ZONE: AXFR of ZONE from the server on 127.0.0.1:PORT
# (dig), then BIND's dnssec-verify on what arrived.
axfr_validates() {
  local port=$1 zone=$2 out
  out=$(mktemp "$TMP/axfr.XXXXXX")
  bounded dig -p "$port" +time=2 +tries=1 @127.0.0.1 "$zone" AXFR > "$out.raw" || return 1
  # dig prints comments, blank lines and the closing SOA again: keep one SOA.
  grep -v '^;' "$out.raw" | sed '/^$/d' | sed '$d' > "$out"
  bounded dnssec-verify -q -o "$zone" "$out"
}

# wait_serial SERIAL [PORT]: poll (bounded, about 30 s) until the server on
# 127.0.0.1:PORT (default: $signer_port, the wiresignd under test) serves
# example.test's SOA with SERIAL.
wait_serial() {
  local got="" port=${2:-$signer_port}
  for _ in $(seq 1 300); do
    got=$(bounded dig -p "$port" +time=1 +tries=1 +short @127.0.0.1 example.test SOA 2>/dev/null | awk '{print $3}')
    [[ $got == "$1" ]] && return 0
    sleep 0.1
  done
  echo "127.0.0.1:$port serves '$got', wanted $1" >&2
  return 1
}

# random_port: a port for a test server on loopback, below the kernel's
# ephemeral range (32768 and up, where outgoing sockets of tests running
# beside this one take their ports) and not in use at the moment.
random_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((10000 + RANDOM % 22000))
    ss -Htuan "sport = :$port" | grep -q . || break
  done
  echo "$port"
}

# wait_log PATTERN [FILE] [SECONDS]: poll (bounded, 30 s unless SECONDS) until a
# line of FILE (default: $TMP/daemon.log, the wiresignd under test) matches
# PATTERN (ERE).
wait_log() {
  for _ in $(seq 1 $((${3:-30} * 10))); do
    grep -q -E "$1" "${2:-$TMP/daemon.log}" && return 0
    sleep 0.1
  done
  echo "no log line matching: $1" >&2
  return 1
}

# nsd_server_conf DIR PORT: the server part of an NSD config that keeps all
# its files in DIR and listens on 127.0.0.1@PORT, in the foreground.
nsd_server_conf() {
  cat <<NSD
server:
  ip-address: 127.0.0.1@$2
  zonesdir: "$1"
  pidfile: "$1/nsd.pid"
  database: ""
  zonelistfile: "$1/zone.list"
  xfrdfile: "$1/xfrd.state"
  xfrdir: "$1"
  logfile: "$1/nsd.log"
  username: ""
  chroot: ""
  verbosity: 2
remote-control:
  control-enable: no
NSD
}

# unbound_conf DIR PORT ANCHOR [EXTRA-SERVER-LINES]: an Unbound config that
# validates with the trust anchor ANCHOR (a DS record), listens on
# 127.0.0.1@PORT in the foreground, keeps its files in DIR and may ask
# servers on loopback; stub-zone sections follow it.
unbound_conf() {
  cat <<UNBOUND
server:
  interface: 127.0.0.1@$2
  port: $2
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$1"
  pidfile: "$1/unbound.pid"
  logfile: "$1/unbound.log"
  use-syslog: no
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor: "$3"
  val-log-level: 2
  qname-minimisation: no
  access-control: 127.0.0.0/8 allow
  # Unbound answers for the special-use name test. itself (RFC 6761) unless told not to.
  local-zone: "test." nodefault
${4:-}
remote-control:
  control-enable: no
UNBOUND
}
