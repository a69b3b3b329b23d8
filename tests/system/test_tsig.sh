#!/usr/bin/env bash
# TSIG refusals from the wire (RFC 8945 §5.2), against wiresignd serving a
# zone whose transfers need the key "xfr" (transfer-tsig), judged by dig,
# kdig and raw packets built here in Python (for what those tools will not
# send: a truncated MAC, a clock far off):
#  - the right key transfers, and dig and kdig verify our signed answers
#    (AXFR, and a signed SOA query gets a signed answer)
#  - a wrong key name or algorithm: NOTAUTH, TSIG error BADKEY, unsigned
#  - a wrong MAC: NOTAUTH, BADSIG, unsigned
#  - a MAC cut below max(10, half the hash): FORMERR (§5.2.2.1); cut to half
#    the hash: NOTAUTH, BADTRUNC (local policy: full-length MACs only)
#  - Time Signed outside the fudge: NOTAUTH, BADTIME, signed with the key,
#    the request's Time Signed kept and the server's time in Other Data
#  - an unsigned request: REFUSED, as BIND answers a key-only allow-transfer
#  - a NOTIFY signed with a wrong key for a zone with primary-tsig: NOTAUTH
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
command -v kdig > /dev/null || { echo "FAIL: kdig not found (package knot-dnsutils, tools/install-deps.sh)" >&2; exit 1; }
# Above Linux's ephemeral range (32768-60999), so no client socket holds it.
port=$((61000 + RANDOM % 4000))
quiet_port=$((port + 1))  # notify.test's primary: nothing listens there
secret=c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5
wrong_secret=d3Jvbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5

sed 's/example\.test\./tsig.test./' "$SRC/examples/example.test.zone" > "$TMP/tsig.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
tsig-keys:
  - {name: xfr, algorithm: hmac-sha256, secret: "$secret"}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    denial: {type: nsec}
    serial: increment
zones:
  - name: tsig.test
    policy: default
    file: $TMP/tsig.test.zone
    allow-transfer: ["127.0.0.1"]
    transfer-tsig: xfr
  - name: notify.test
    policy: default
    primaries: ["127.0.0.1:$quiet_port"]
    primary-tsig: xfr
EOF

# probe.py: one request, built and signed here, and what came back.
cat > "$TMP/probe.py" <<'EOF'
"""usage: probe.py PORT QNAME QTYPE|notify [--key NAME:ALG:SECRET_B64] [--mac-len N]
   [--bad-mac] [--time-offset S] [--udp]
Prints one line: rcode=NAME tsig=ERROR|none mac_len=N signed=ok|bad|unsigned
time_signed=T other_time=T|-  (signed: the answer's MAC checked with the key)."""
import argparse, base64, hashlib, hmac, socket, struct, sys, time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 9: "NOTAUTH"}
TSIG_ERRORS = {0: "NOERROR", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC"}
DIGESTS = {"hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512, "hmac-sha1": hashlib.sha1}

def name(text):
    return b"".join(bytes([len(l)]) + l.encode() for l in text.rstrip(".").split(".") if l) + b"\0"

def read_name(wire, pos):
    """The name at pos (uncompressed, lower case) and the position after it."""
    labels, end = [], None
    while True:
        length = wire[pos]
        if length & 0xC0 == 0xC0:
            end = end or pos + 2
            pos = (length & 0x3F) << 8 | wire[pos + 1]
            continue
        if length == 0:
            return b"".join(bytes([len(l)]) + l for l in labels).lower() + b"\0", end or pos + 1
        labels.append(wire[pos + 1:pos + 1 + length])
        pos += 1 + length

def variables(key_wire, alg_wire, time_signed, fudge, error, other):
    return (key_wire + struct.pack("!HI", 255, 0) + alg_wire +
            struct.pack("!HIHHH", time_signed >> 32, time_signed & 0xFFFFFFFF, fudge, error, len(other)) + other)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int); p.add_argument("qname"); p.add_argument("qtype")
    p.add_argument("--key"); p.add_argument("--mac-len", type=int); p.add_argument("--bad-mac", action="store_true")
    p.add_argument("--time-offset", type=int, default=0); p.add_argument("--udp", action="store_true")
    a = p.parse_args()
    qid = 0x5151
    if a.qtype == "notify":
        flags, qtype = 0x2400, 6  # opcode NOTIFY, AA
    else:
        flags, qtype = 0, {"AXFR": 252, "SOA": 6}[a.qtype]
    wire = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + name(a.qname) + struct.pack("!HH", qtype, 1)
    request_mac = b""
    if a.key:
        key, alg, secret = a.key.split(":")
        secret = base64.b64decode(secret)
        now = int(time.time()) + a.time_offset
        full = hmac.new(secret, wire + variables(name(key), name(alg), now, 300, 0, b""), DIGESTS[alg]).digest()
        mac = full[:a.mac_len] if a.mac_len else full
        if a.bad_mac:
            mac = bytes([mac[0] ^ 0xFF]) + mac[1:]
        request_mac = mac
        rdata = name(alg) + struct.pack("!HIHH", now >> 32, now & 0xFFFFFFFF, 300, len(mac)) + mac + \
            struct.pack("!HHH", qid, 0, 0)
        wire = wire[:10] + struct.pack("!H", 1) + wire[12:] + name(key) + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata
    if a.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
        s.sendto(wire, ("127.0.0.1", a.port)); answer = s.recv(65535)
    else:
        s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        s.sendall(struct.pack("!H", len(wire)) + wire)
        def exactly(n):
            data = b""
            while len(data) < n:
                chunk = s.recv(n - len(data))
                if not chunk: sys.exit("connection closed")
                data += chunk
            return data
        answer = exactly(struct.unpack("!H", exactly(2))[0])
    rid, rflags, qd, an, ns, ar = struct.unpack("!HHHHHH", answer[:12])
    pos = 12
    for _ in range(qd):
        pos = read_name(answer, pos)[1] + 4
    tsig = None
    for i in range(an + ns + ar):
        start = pos
        owner, pos = read_name(answer, pos)
        rtype, _, _, rdlength = struct.unpack("!HHIH", answer[pos:pos + 10])
        rdata_at = pos + 10
        pos = rdata_at + rdlength
        if rtype == 250 and i == an + ns + ar - 1:
            tsig = (start, owner, answer[rdata_at:pos])
    out = "rcode=%s" % RCODES.get(rflags & 0xF, rflags & 0xF)
    if not tsig:
        print(out + " tsig=none"); return
    start, owner, rd = tsig
    alg, at = read_name(rd, 0)
    t_hi, t_lo, fudge, mac_len = struct.unpack("!HIHH", rd[at:at + 10])
    mac = rd[at + 10:at + 10 + mac_len]
    orig_id, error, other_len = struct.unpack("!HHH", rd[at + 10 + mac_len:at + 16 + mac_len])
    other = rd[at + 16 + mac_len:at + 16 + mac_len + other_len]
    time_signed = t_hi << 32 | t_lo
    signed = "unsigned"
    if mac_len and a.key:
        body = struct.pack("!H", orig_id) + answer[2:10] + struct.pack("!H", ar - 1) + answer[12:start]
        data = struct.pack("!H", len(request_mac)) + request_mac + body + \
            variables(owner, alg, time_signed, fudge, error, other)
        expected = hmac.new(secret, data, DIGESTS[a.key.split(":")[1]]).digest()
        signed = "ok" if hmac.compare_digest(expected, mac) else "bad"
    other_time = "-"
    if len(other) == 6:
        hi, lo = struct.unpack("!HI", other); other_time = str(hi << 32 | lo)
    print("%s tsig=%s mac_len=%d signed=%s time_signed=%d other_time=%s" %
          (out, TSIG_ERRORS.get(error, error), mac_len, signed, time_signed, other_time))

main()
EOF
probe() { bounded python3 "$TMP/probe.py" "$port" "$@"; }

"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
stop_daemon() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
trap 'stop_daemon; _cleanup' EXIT
if ! wait_log "tsig.test.*serving it"; then
  cat "$TMP/daemon.log" >&2
  fail "tsig.test is not served"
  finish
fi

key="xfr:hmac-sha256:$secret"
dig_() { bounded dig -p "$port" +time=2 +tries=1 @127.0.0.1 "$@" 2>&1; }
kdig_() { bounded kdig -p "$port" +time=2 +retry=0 @127.0.0.1 "$@" 2>&1; }
# expect DESCRIPTION WANTED ARGS...: the probe's line contains every word of WANTED.
expect() {
  local what=$1 wanted=$2 got; shift 2
  got=$(probe "$@" || true)
  for word in $wanted; do
    if [[ " $got " != *" $word "* ]]; then fail "$what: got '$got', wanted '$wanted'"; return; fi
  done
  pass "$what"
}

# The right key: dig and kdig check our TSIG on every message.
dig_ -y "hmac-sha256:xfr:$secret" tsig.test AXFR > "$TMP/dig-axfr.out" || true
check "right key: dig transfers the zone" grep -q "XFR size: [0-9]* records" "$TMP/dig-axfr.out"
check "right key: dig verifies our signed AXFR (no tsig verify failure)" \
  bash -c "! grep -qi 'tsig verify failure\|Couldn.t verify' '$TMP/dig-axfr.out'"
kdig_ -y "hmac-sha256:xfr:$secret" tsig.test AXFR > "$TMP/kdig-axfr.out" || true
check "right key: kdig transfers and verifies the zone" \
  bash -c "grep -q ';; Received .* records' '$TMP/kdig-axfr.out' && ! grep -qi '^;; \(WARNING\|ERROR\)' '$TMP/kdig-axfr.out'"
dig_ -y "hmac-sha256:xfr:$secret" tsig.test SOA > "$TMP/dig-soa.out" || true
check "a signed SOA query gets a signed answer dig verifies" \
  bash -c "grep -q 'status: NOERROR' '$TMP/dig-soa.out' && grep -q 'TSIG.*NOERROR' '$TMP/dig-soa.out' && ! grep -qi 'verify failure\|Couldn.t verify' '$TMP/dig-soa.out'"
expect "right key, raw: NOERROR and a signed answer" "rcode=NOERROR tsig=NOERROR signed=ok" \
  tsig.test AXFR --key "$key"

# Key check (§5.2.1).
expect "wrong key name: NOTAUTH, BADKEY, unsigned" "rcode=NOTAUTH tsig=BADKEY mac_len=0" \
  tsig.test AXFR --key "other:hmac-sha256:$secret"
expect "wrong algorithm: NOTAUTH, BADKEY, unsigned" "rcode=NOTAUTH tsig=BADKEY mac_len=0" \
  tsig.test AXFR --key "xfr:hmac-sha512:$secret"
dig_ -y "hmac-sha256:wrong:$secret" tsig.test SOA > "$TMP/dig-badkey.out" || true
check "wrong key name, dig: NOTAUTH with TSIG error BADKEY" \
  bash -c "grep -q 'status: NOTAUTH' '$TMP/dig-badkey.out' && grep -q 'BADKEY' '$TMP/dig-badkey.out'"
kdig_ -y "hmac-sha512:xfr:$secret" tsig.test AXFR > "$TMP/kdig-badkey.out" || true
check "wrong algorithm, kdig: the transfer fails with BADKEY" grep -q "BADKEY" "$TMP/kdig-badkey.out"

# MAC check (§5.2.2) and truncation (§5.2.2.1, §5.2.4).
expect "wrong MAC: NOTAUTH, BADSIG, unsigned" "rcode=NOTAUTH tsig=BADSIG mac_len=0" \
  tsig.test AXFR --key "$key" --bad-mac
dig_ -y "hmac-sha256:xfr:$wrong_secret" tsig.test AXFR > "$TMP/dig-badsig.out" || true
check "wrong secret, dig: the transfer fails with BADSIG" grep -q "TSIG.* BADSIG" "$TMP/dig-badsig.out"
expect "MAC cut to 8 octets (below 10): FORMERR" "rcode=FORMERR tsig=none" tsig.test AXFR --key "$key" --mac-len 8
expect "MAC cut to 15 octets (below half of SHA-256): FORMERR" "rcode=FORMERR tsig=none" \
  tsig.test AXFR --key "$key" --mac-len 15
expect "MAC cut to half of SHA-256: NOTAUTH, BADTRUNC, signed" "rcode=NOTAUTH tsig=BADTRUNC signed=ok" \
  tsig.test AXFR --key "$key" --mac-len 16

# Time check (§5.2.3): signed, request's Time Signed, our time in Other Data.
line=$(probe tsig.test AXFR --key "$key" --time-offset -3600 || true)
now=$(date +%s)
check "an hour off: NOTAUTH, BADTIME, signed with the key ($line)" \
  bash -c "[[ ' $line ' == *' rcode=NOTAUTH '* && ' $line ' == *' tsig=BADTIME '* && ' $line ' == *' signed=ok '* ]]"
other_time=$(sed -n 's/.*other_time=\([0-9]*\).*/\1/p' <<< "$line")
time_signed=$(sed -n 's/.*time_signed=\([0-9]*\).*/\1/p' <<< "$line")
check "BADTIME: Other Data carries the server's time" \
  test "${other_time:-0}" -ge $((now - 30)) -a "${other_time:-0}" -le $((now + 30))
check "BADTIME: Time Signed is the request's, an hour back" \
  test "${time_signed:-0}" -ge $((now - 3630)) -a "${time_signed:-0}" -le $((now - 3570))
expect "an hour ahead: BADTIME too" "rcode=NOTAUTH tsig=BADTIME signed=ok" tsig.test AXFR --key "$key" --time-offset 3600

# No key at all.
expect "unsigned AXFR where a key is required: REFUSED" "rcode=REFUSED tsig=none" tsig.test AXFR
check "the refusals are logged with the reason" \
  bash -c "grep -q 'tsig.test.: AXFR from 127.0.0.1 refused: TSIG BADKEY' '$TMP/daemon.log' &&
           grep -q 'tsig.test.: AXFR from 127.0.0.1 refused: TSIG BADTIME' '$TMP/daemon.log' &&
           grep -q 'tsig.test.: AXFR from 127.0.0.1 refused: not signed' '$TMP/daemon.log'"

# NOTIFY for a zone with primary-tsig.
expect "NOTIFY signed with a wrong key: NOTAUTH" "rcode=NOTAUTH" notify.test notify --udp \
  --key "xfr:hmac-sha256:$wrong_secret"
expect "NOTIFY signed with an unknown key name: NOTAUTH" "rcode=NOTAUTH" notify.test notify --udp \
  --key "other:hmac-sha256:$secret"
expect "NOTIFY signed with the right key: NOERROR" "rcode=NOERROR" notify.test notify --udp --key "$key"
check "the daemon is still serving after all that" \
  bash -c "dig -p $port +time=2 +tries=1 +short @127.0.0.1 tsig.test SOA | grep -q hostmaster"

stop_daemon
if [[ -n ${VERBOSE:-} ]]; then cat "$TMP/daemon.log"; fi
finish
