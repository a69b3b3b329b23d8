#!/usr/bin/env bash
# wiresignd started as root with server.user gives up root once its ports are
# bound, and keeps working as that user:
#  - every uid and gid of the process is the user's, no supplementary group
#    is left and no capability is effective
#  - a state dir root made is handed over; what the daemon writes is the
#    user's: state dir 0700, key files 0600, the control socket 0600
#  - a changed zone is signed and saved as the user after SIGHUP
#  - an unknown user is a clear error at start, naming it
# Needs root (exit 77, counted as skipped, otherwise). Uses the Debian user
# nobody:nogroup, so nothing is added to the system.
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "test_daemon_privileges: skipped (needs root to switch users)"
  exit 77
fi
WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
port=$(random_port)
uid=$(id -u nobody)
gid=$(getent group nogroup | cut -d: -f3)

chmod 0711 "$TMP"  # the user must reach its folders inside
mkdir -m 0700 "$TMP/state"  # made by root: the daemon hands it over
mkdir -m 0700 "$TMP/run" && chown nobody:nogroup "$TMP/run"
cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone" && chmod 0644 "$TMP/example.test.zone"
cat > "$TMP/wiresign.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
  control: $TMP/run/control.sock
  user: nobody:nogroup
keystores:
  - {name: local, backend: files, directory: $TMP/state/keys}
policies:
  - {name: default, keystore: local, algorithm: ecdsap256sha256, serial: increment}
zones:
  - {name: example.test, policy: default, file: $TMP/example.test.zone, allow-transfer: ["127.0.0.1"]}
EOF

"$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/daemon.log" 2>&1 &
daemon=$!
stop_daemon() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
trap 'stop_daemon; _cleanup' EXIT

check "the zone is signed and served" wait_serial 2026112302 "$port"
check "the log says which user it runs as" wait_log "running as user nobody \(uid $uid, gid $gid\)"
# /proc/PID/status: "Uid: real effective saved fs", likewise Gid.
status=$(cat "/proc/$daemon/status")
check "every uid is nobody's" grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" <<< "$status"
check "every gid is nogroup's" grep -qE "^Gid:\s+$gid\s+$gid\s+$gid\s+$gid$" <<< "$status"
check "no supplementary group but nogroup" grep -qE "^Groups:\s*($gid)?\s*$" <<< "$status"
check "no effective capability" grep -qE "^CapEff:\s+0+$" <<< "$status"
check "the state dir is handed to nobody, still 0700" test "$(stat -c '%U %a' "$TMP/state")" = "nobody 700"
check "the signed zone is saved by nobody" test "$(stat -c %U "$TMP/state/signed/example.test.signed")" = nobody
check "key files are nobody's and 0600" \
  bash -c "for f in '$TMP'/state/keys/*.private '$TMP'/state/keys/*/*.private; do [[ -e \$f ]] || continue; \
           [[ \$(stat -c '%U %a' \"\$f\") == 'nobody 600' ]] || exit 1; found=1; done; [[ -n \${found:-} ]]"
check "the control socket is 0600, nobody's" test "$(stat -c '%U %a' "$TMP/run/control.sock")" = "nobody 600"

sed -i 's/2026112301/2026112305/' "$TMP/example.test.zone"
kill -HUP "$daemon"
check "after SIGHUP the changed zone is signed as nobody" wait_serial 2026112306 "$port"
check "and saved as nobody" test "$(stat -c %U "$TMP/state/signed/example.test.signed")" = nobody
check "AXFR validates with dnssec-verify" axfr_validates "$port" example.test
stop_daemon

sed -i 's/user: nobody:nogroup/user: no-such-user-here/' "$TMP/wiresign.yaml"
if bounded "$WIRESIGND" -c "$TMP/wiresign.yaml" > "$TMP/bad.log" 2>&1; then
  fail "an unknown server.user was accepted"
else
  check "an unknown server.user stops the start, naming the user" grep -q 'no user "no-such-user-here"' "$TMP/bad.log"
fi
finish
