#!/usr/bin/env bash
# wiresignd with its state dir on a small tmpfs that fills up, then goes
# read-only:
#  - a full disk: the new version is served from memory anyway, the log says
#    it could not be saved and why, `zone show` says NOT SAVED; what was
#    saved before is untouched (same bytes, no temporary files left)
#  - space back: the daemon saves it by itself (retry), and a restart after
#    kill -9 serves that serial
#  - a read-only state dir: the same, and the next re-sign after it is
#    writable again saves
# Needs root to mount the tmpfs (exit 77, counted as skipped, otherwise).
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
mkdir "$TMP/state"
if [[ $(id -u) -ne 0 ]] || ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$TMP/state" 2> /dev/null; then
  echo "test_daemon_disk_full: skipped (needs root and tmpfs mounts)"
  exit 77
fi
port=$(random_port)
daemon=""
stop_daemon() {
  [[ -n $daemon ]] || return 0
  kill "${1:--TERM}" "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  daemon=""
}
trap 'stop_daemon; umount "$TMP/state" 2>/dev/null || true; _cleanup' EXIT

cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
  control: $TMP/control.sock
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - {name: default, keystore: local, algorithm: ecdsap256sha256, serial: increment}
zones:
  - {name: example.test, policy: default, file: $TMP/example.test.zone, allow-transfer: ["127.0.0.1"]}
EOF
start_daemon() {
  "$WIRESIGND" -c "$TMP/wiresign.yaml" >> "$TMP/daemon.log" 2>&1 &
  daemon=$!
}
signed=$TMP/state/signed/example.test.signed
# zone_show_says TEXT: `wiresign zone show` prints TEXT
zone_show_says() { wiresign zone show example.test --socket "$TMP/control.sock" | grep -qF "$1"; }
# zone_show_lacks TEXT: `wiresign zone show` works and does not print TEXT
zone_show_lacks() {
  local shown
  shown=$(wiresign zone show example.test --socket "$TMP/control.sock") || return 1
  ! grep -qF "$1" <<< "$shown"
}

start_daemon
check "signed and served" wait_serial 2026112302 "$port"
check "and saved" test -s "$signed"
before=$(sha256sum < "$signed")

# 1. The disk fills up.
dd if=/dev/zero of="$TMP/state/filler" bs=4k 2> /dev/null || true
sed -i 's/2026112301/2026112305/' "$TMP/example.test.zone"
kill -HUP "$daemon"
check "disk full: the new serial is served from memory" wait_serial 2026112306 "$port"
check "the log says it could not be saved, and why" \
  wait_log "example.test.: error: could not save serial 2026112306 in the state dir \(.*No space left on device.*\); serving it from memory"
check "zone show says NOT SAVED" zone_show_says "NOT SAVED"
check "what was saved before is untouched" test "$(sha256sum < "$signed")" = "$before"
check "no temporary file is left behind" test -z "$(find "$TMP/state" -name '*.tmp-*')"
check "AXFR of the version in memory validates" axfr_validates "$port" example.test

# 2. Space comes back: saved by the retry, without any other event.
rm "$TMP/state/filler"
check "space back: the daemon saves it by itself (retried every 30 s)" \
  wait_log "example.test.: serial 2026112306 is saved in the state dir now" "$TMP/daemon.log" 60
check "the saved file changed" test "$(sha256sum < "$signed")" != "$before"
stop_daemon -KILL
start_daemon
check "after kill -9 the restart serves the serial saved by the retry" wait_serial 2026112306 "$port"
check "from the state dir, without signing" wait_log "example.test.: serving saved signed serial 2026112306"

# 3. The state dir goes read-only.
mount -o remount,ro "$TMP/state"
wiresign zone resign example.test --socket "$TMP/control.sock" > /dev/null
check "read-only: the re-signed serial is served" wait_serial 2026112307 "$port"
check "the log names the read-only file system" \
  wait_log "example.test.: error: could not save serial 2026112307 in the state dir \(.*Read-only file system.*\)"
mount -o remount,rw "$TMP/state"
check "writable again: saved" wait_log "example.test.: serial 2026112307 is saved in the state dir now" "$TMP/daemon.log" 60
check "zone show no longer says NOT SAVED" zone_show_lacks "NOT SAVED"
check "the daemon ran throughout" kill -0 "$daemon"
finish
