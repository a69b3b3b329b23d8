#!/usr/bin/env bash
# `wiresign zone add|remove` against a running wiresignd:
#  - add: the entry is appended to the zones list (comments and layout of
#    the file stay), the daemon reloads, the new zone is served signed and
#    validates, the zone already served keeps its serial and answers
#  - a zone already configured, an undefined policy or no source: refused
#    with the reason, the file untouched
#  - remove: the entry (and only it) leaves the file, the zone is no longer
#    served (REFUSED), the other zone goes on; a zone not configured: refused
# Env: WIRESIGN (wiresignd is looked up beside it), WIRESIGN_SOURCE_DIR, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WIRESIGND=${WIRESIGND:-$(dirname "$WIRESIGN")/wiresignd}
[[ -x $WIRESIGND ]] || { echo "FAIL: wiresignd not found beside $WIRESIGN" >&2; exit 1; }
port=$(random_port)
config=$TMP/wiresign.yaml

cp "$SRC/examples/example.test.zone" "$TMP/example.test.zone"
sed 's/example\.test\./second.test./g' "$SRC/examples/example.test.zone" > "$TMP/second.test.zone"
cat > "$config" <<EOF
# wiresign for the tests; this comment must survive the edits.
server:
  listen: ["127.0.0.1:$port"]
  state-dir: $TMP/state
  control: $TMP/control.sock
keystores:
  - {name: local, backend: files, directory: $TMP/keys}
policies:
  - {name: default, keystore: local, algorithm: ecdsap256sha256, serial: increment}
zones:
  # the first zone
  - name: example.test
    policy: default
    file: $TMP/example.test.zone
    allow-transfer: ["127.0.0.1"]
# after the zones: stays where it is
EOF
chmod 0640 "$config"

"$WIRESIGND" -c "$config" > "$TMP/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; _cleanup' EXIT
serial_of() { bounded dig -p "$port" +time=1 +tries=1 +short @127.0.0.1 "$1" SOA | awk '{print $3}'; }
# wait_zone_serial ZONE SERIAL: bounded wait until ZONE is served at SERIAL
wait_zone_serial() {
  for _ in $(seq 1 100); do
    [[ $(serial_of "$1") == "$2" ]] && return 0
    sleep 0.1
  done
  echo "$1 not served at $2 (got '$(serial_of "$1")')" >&2
  return 1
}
refused() { bounded dig -p "$port" +time=1 +tries=1 @127.0.0.1 "$1" SOA | grep -q "status: REFUSED"; }
# refused_and_untouched WHAT ARGS...: `wiresign zone ARGS` fails, says WHAT, the config is unchanged
refused_and_untouched() {
  local what=$1 before
  shift
  before=$(sha256sum < "$config")
  if wiresign zone "$@" --config "$config" > "$TMP/out" 2>&1; then
    echo "accepted: zone $*" >&2
    return 1
  fi
  grep -qF "$what" "$TMP/out" || { echo "no '$what' in: $(cat "$TMP/out")" >&2; return 1; }
  [[ $(sha256sum < "$config") == "$before" ]]
}

check "the first zone is served" wait_zone_serial example.test 2026112302
check "add: accepted, and the daemon reloads" \
  wiresign zone add second.test --policy default --file "$TMP/second.test.zone" --allow-transfer 127.0.0.1 --config "$config"
check "the new zone is served" wait_zone_serial second.test 2026112302
check "and validates" axfr_validates "$port" second.test
check "the first zone kept its serial" test "$(serial_of example.test)" = 2026112302
check "the entry is in the zones list, after the first zone" \
  grep -qx "  - {name: \"second.test\", policy: \"default\", file: \"$TMP/second.test.zone\", allow-transfer: \[\"127.0.0.1\"\]}" "$config"
check "comments stay where they were" \
  bash -c "head -n1 '$config' | grep -q 'this comment must survive' && tail -n1 '$config' | grep -q 'after the zones: stays'"
check "the file keeps its mode" test "$(stat -c %a "$config")" = 640

check "adding a zone already configured is refused" \
  refused_and_untouched 'zone "example.test" is configured already' add example.test --policy default --file "$TMP/example.test.zone"
check "an undefined policy is refused with file:line" \
  refused_and_untouched "wiresign.yaml:" add third.test --policy nope --file "$TMP/second.test.zone"
check "no source is refused" refused_and_untouched "needs --file PATH or --primaries" add third.test --policy default

check "remove: accepted, and the daemon reloads" wiresign zone remove second.test --config "$config"
check "the removed zone is no longer served" bash -c "for i in \$(seq 1 50); do dig -p $port +time=1 +tries=1 @127.0.0.1 second.test SOA | grep -q 'status: REFUSED' && exit 0; sleep 0.1; done; exit 1"
check "its entry left the file" bash -c "! grep -q second.test '$config'"
check "the first zone's entry and comment are still there" grep -q "# the first zone" "$config"
check "the first zone still answers with its serial" test "$(serial_of example.test)" = 2026112302
check "removing a zone not configured is refused" \
  refused_and_untouched 'zone "nothere.test" is not in the configuration' remove nothere.test
check "the config still passes --check" bounded "$WIRESIGND" -c "$config" --check
finish
