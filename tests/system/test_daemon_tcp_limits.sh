#!/usr/bin/env bash
# TCP clients cannot hold wiresignd up (RFC 7766 §6.2): with
# max-tcp-clients 3, tcp-idle-timeout 2s and tcp-io-timeout 3s,
#  - connections that send nothing are closed after the idle time, logged
#  - a 4th connection while 3 are open is closed at once, logged
#  - meanwhile UDP queries are answered, and once the idle clients are gone
#    a TCP query and an AXFR work again
#  - a client that sends half a message and stalls is closed too
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
signer_port=$(random_port)
cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
cat > "$TMP/wiresign.yaml" <<YAML
server:
  listen: ["127.0.0.1:$signer_port"]
  state-dir: $TMP/state
  tcp-idle-timeout: 2s
  tcp-io-timeout: 3s
  max-tcp-clients: 3
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - {name: default, keystore: local, serial: increment}
zones:
  - name: example.test
    policy: default
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
YAML
"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; _cleanup' EXIT
check "the zone is served" wait_serial 2026112302

# Three silent clients, a fourth one, and a half-message staller; each
# connection reports how long until the server closed it.
check "idle and excess TCP clients are closed; UDP is answered meanwhile" \
  python3 - "$signer_port" <<'PY'
import socket, subprocess, sys, time
port = int(sys.argv[1])

def closed_after(sock, limit):
    """Seconds until the server closes `sock` (recv returns b""), or None."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(100):
            pass
    except (socket.timeout, TimeoutError):
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start

idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port), timeout=5)
extra_closed = closed_after(extra, 1.0)
assert extra_closed is not None and extra_closed < 1.0, f"4th client not closed at once: {extra_closed}"
udp = subprocess.run(["dig", "-p", str(port), "+time=1", "+tries=1", "+short", "@127.0.0.1", "example.test", "SOA"],
                     capture_output=True, text=True, timeout=10)
assert "2026112302" in udp.stdout, f"UDP not answered while TCP is full: {udp.stdout!r}"
for sock in idle:
    after = closed_after(sock, 6.0)
    assert after is not None and after < 4.0, f"idle client not closed within the idle time: {after}"
stall = socket.create_connection(("127.0.0.1", port), timeout=5)
stall.sendall(b"\x00\x30\x12")  # announces 48 octets, sends 1
after = closed_after(stall, 10.0)
assert after is not None and after < 5.0, f"a stalled half message kept its connection: {after}"
PY
check "the refusal of the 4th client is logged" grep -q "TCP client 127.0.0.1 refused: 3 connections open (max-tcp-clients)" "$TMP/daemon.log"
check "idle clients are logged as closed" grep -q "TCP connection from 127.0.0.1 closed: idle or too slow" "$TMP/daemon.log"
check "a TCP query works again" \
  bash -c "dig -p $signer_port +tcp +time=2 +tries=1 +short @127.0.0.1 example.test SOA | grep -q 2026112302"
check "and an AXFR validates" axfr_validates "$signer_port" example.test

finish
