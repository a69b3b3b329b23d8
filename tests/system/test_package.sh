#!/usr/bin/env bash
# The Debian package, built by cpack from this build tree (no second compile)
# and installed into the real system with dpkg (CI runs as root in a
# throwaway container; elsewhere the test skips):
#  - the package depends on the libraries dpkg-shlibdeps found, plus adduser
#    and softhsm2; its config files are conffiles; man pages render without
#    groff warnings; the systemd unit passes systemd-analyze verify
#  - postinst makes the user wiresign, /var/lib/wiresign (0700, wiresign), a
#    SoftHSM token "wiresign" with its PIN in /etc/wiresign/hsm.pin (0600,
#    wiresign); the shipped config passes wiresignd --check
#  - wiresignd started the way the unit starts it (its user, environment,
#    umask, CAP_NET_BIND_SERVICE as the only capability, no new privileges)
#    with the shipped config, its example zone enabled as the config's
#    comment says and moved to a free loopback port, serves the example zone
#    signed with keys in the token; an AXFR validates (dnssec-verify,
#    ldns-verify-zone)
#  - a reinstall keeps the PIN, the token and the keys (same DNSKEYs served)
#  - purge removes the package; this test then removes what purge keeps
#    (keys, PINs, the user) if the package was not installed before.
# Exit 77 (skipped) when not root, without dpkg, for a sanitizer build, or
# when a wiresignd is already running here.
# Env: WIRESIGN (the build tree is the working directory, where ctest runs it), VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip() { echo "test_package: SKIPPED: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "installing a package needs root (CI runs as root)"
command -v dpkg > /dev/null && command -v cpack > /dev/null || skip "needs dpkg and cpack"
# (gcc links the sanitizer runtimes dynamically, clang statically: look for the symbol)
if grep -aq -e '__asan_init' -e '__ubsan_handle' "$WIRESIGN"; then
  skip "sanitizer build: the package is built from the release build"
fi
# Other tests run wiresignd from the build tree; only an installed one matters.
for pid in $(pidof wiresignd || true); do
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == /usr/sbin/wiresignd* ]] &&
    skip "the installed wiresignd is running (pid $pid); not replacing its package"
done
# One package test at a time on a machine (several build trees may run their
# tests at once): the package, its user and its state are system-wide.
lock=/run/lock/wiresign-test-package.lock
[[ -d /run/lock ]] || lock=/tmp/wiresign-test-package.lock
exec 9> "$lock"
flock -w 240 9 || skip "another test_package run still holds $lock"
build=${WIRESIGN_BUILD_DIR:-$PWD}
[[ -f $build/CPackConfig.cmake ]] || build=$(dirname "$(dirname "$WIRESIGN")")
[[ -f $build/CPackConfig.cmake ]] || { echo "FAIL: no CPackConfig.cmake in $build" >&2; exit 1; }
# Outside the ephemeral range (32768-60999) and the other tests' 20000-59999.
port=$((61000 + RANDOM % 4000))
unit=/lib/systemd/system/wiresignd.service

was_installed=$(dpkg-query -W -f='${db:Status-Status}' wiresign 2>/dev/null || true)
user_existed=no
getent passwd wiresign > /dev/null && user_existed=yes

# Build the package.
bounded cpack --config "$build/CPackConfig.cmake" -G DEB -B "$TMP/pkg" > "$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log" >&2; fail "cpack -G DEB"; finish; }
deb=$(ls "$TMP"/pkg/wiresign_*.deb 2> /dev/null | head -n 1)
check "cpack made a .deb" test -f "$deb"
[[ -f $deb ]] || finish
depends=$(dpkg-deb -f "$deb" Depends)
[[ -n ${VERBOSE:-} ]] && echo "Depends: $depends"
for lib in libldns3 libssl3 libyaml-cpp0.7 libstdc++6 adduser softhsm2; do
  check "the package depends on $lib" grep -q "\b$lib\b" <<< "$depends"
done
dpkg-deb -c "$deb" | awk '{print $6}' > "$TMP/contents"
for path in ./usr/sbin/wiresignd ./usr/bin/wiresign ./etc/wiresign/wiresign.yaml ./etc/wiresign/softhsm2.conf \
  ./lib/systemd/system/wiresignd.service ./usr/share/man/man8/wiresignd.8.gz ./usr/share/man/man8/wiresign.8.gz \
  ./usr/share/man/man5/wiresign.yaml.5.gz ./usr/share/wiresign/prometheus/wiresign-alerts.yml \
  ./usr/share/wiresign/example.test.zone ./usr/share/doc/wiresign/operator-guide.md; do
  check "the package has $path" grep -qx "$path" "$TMP/contents"
done
dpkg-deb -e "$deb" "$TMP/control"
check "the config files are conffiles" \
  bash -c "grep -qx /etc/wiresign/wiresign.yaml '$TMP/control/conffiles' && grep -qx /etc/wiresign/softhsm2.conf '$TMP/control/conffiles'"

# From here on the system is changed: the trap undoes what it can.
daemon=""
start_daemon() {
  "${as_unit[@]}" "${start[@]}" >> "$TMP/daemon.log" 2>&1 &
  daemon=$!
}
stop_daemon() {
  [[ -n $daemon ]] || return 0
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  daemon=""
}
cleanup_system() {
  stop_daemon
  if [[ -n ${KEEP_INSTALLED:-} ]]; then
    echo "KEEP_INSTALLED: wiresign stays installed"
  elif [[ $was_installed == installed ]]; then
    echo "test_package: wiresign was installed before this test: it stays installed (now this build);" \
      "example.test's keys stay in its token"
  else
    dpkg --purge wiresign > "$TMP/purge.log" 2>&1 || cat "$TMP/purge.log" >&2
    rm -rf /var/lib/wiresign /etc/wiresign
    if [[ $user_existed == no ]]; then
      userdel wiresign 2>/dev/null || true
      groupdel wiresign 2>/dev/null || true
    fi
  fi
}
trap 'cleanup_system; _cleanup' EXIT

# Install.
bounded dpkg -i "$deb" > "$TMP/dpkg1.log" 2>&1 || { cat "$TMP/dpkg1.log" >&2; fail "dpkg -i"; finish; }
[[ -n ${VERBOSE:-} ]] && cat "$TMP/dpkg1.log"
check "dpkg says it is installed" test "$(dpkg-query -W -f='${db:Status-Status}' wiresign)" = installed
check "the system user wiresign exists, without a login shell" \
  bash -c "getent passwd wiresign | grep -q ':/var/lib/wiresign:/usr/sbin/nologin$'"
check "/var/lib/wiresign is 0700 wiresign:wiresign" test "$(stat -c '%a %U %G' /var/lib/wiresign)" = "700 wiresign wiresign"
check "/etc/wiresign/hsm.pin is 0600 wiresign" test "$(stat -c '%a %U' /etc/wiresign/hsm.pin)" = "600 wiresign"
check "the config is readable by wiresign only (0640 root:wiresign)" \
  test "$(stat -c '%a %U %G' /etc/wiresign/wiresign.yaml)" = "640 root wiresign"
check "the SoftHSM token 'wiresign' exists" bash -c \
  "runuser -u wiresign -- env SOFTHSM2_CONF=/etc/wiresign/softhsm2.conf softhsm2-util --show-slots | grep -q 'Label: *wiresign *$'"
check "the shipped config passes wiresignd --check (as root)" bounded /usr/sbin/wiresignd -c /etc/wiresign/wiresign.yaml --check
pin_sum=$(sha256sum < /etc/wiresign/hsm.pin)

# Man pages: rendered by man, no groff warnings.
for page in /usr/share/man/man8/wiresignd.8.gz /usr/share/man/man8/wiresign.8.gz /usr/share/man/man5/wiresign.yaml.5.gz; do
  check "$page renders with man -l" bash -c "MANWIDTH=80 man -l '$page' 2>/dev/null | grep -q '^NAME'"
  check "$page has no groff warnings" bash -c "test -z \"\$(zcat '$page' | groff -man -Tutf8 -ww -z 2>&1)\""
done
if command -v systemd-analyze > /dev/null; then
  check "systemd-analyze verify accepts the unit" bash -c "systemd-analyze verify '$unit' > '$TMP/verify.log' 2>&1 && ! grep -q . '$TMP/verify.log' || { cat '$TMP/verify.log' >&2; false; }"
  exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for wiresignd.service: \([0-9.]*\).*/\1/p')
  check "systemd-analyze security rates the unit's exposure ${exposure:-?} (at most 2.0)" \
    python3 -c "import sys; sys.exit(0 if '$exposure' and float('$exposure') <= 2.0 else 1)"
fi

# The daemon as the unit runs it: User=, Group=, Environment=, UMask=, the
# capabilities, NoNewPrivileges, ExecStartPre= and ExecStart= with the config
# path replaced by a copy of the shipped config whose example zone is
# enabled (its four lines uncommented, as the comment says) and whose
# listen port is free.
unit_value() { sed -n "s/^$1=//p" "$unit"; }
user=$(unit_value User)
check "the unit runs as wiresign" test "$user" = wiresign
check "the unit keeps only CAP_NET_BIND_SERVICE" \
  test "$(unit_value CapabilityBoundingSet)/$(unit_value AmbientCapabilities)" = "CAP_NET_BIND_SERVICE/CAP_NET_BIND_SERVICE"
chmod 0711 "$TMP"
install -d -m 0750 -o root -g wiresign "$TMP/etc"
python3 - /etc/wiresign/wiresign.yaml "$TMP/etc/wiresign.yaml" "$port" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines = text.split("\n")
start = next(i for i, l in enumerate(lines) if l.strip() == "# - name: example.test")
for i in range(start, start + 4):
    lines[i] = lines[i].replace("# ", "", 1)
text = "\n".join(lines).replace("127.0.0.1:5300", "127.0.0.1:" + sys.argv[3])
open(sys.argv[2], "w").write(text)
PY
chown root:wiresign "$TMP/etc/wiresign.yaml"
chmod 0640 "$TMP/etc/wiresign.yaml"
mapfile -t unit_env < <(unit_value Environment)
# as_unit COMMAND...: the unit's umask, user, group, capabilities and
# environment, then exec COMMAND (same pid throughout).
as_unit=(bash -c 'umask "$0" && exec "$@"' "$(unit_value UMask)"
  setpriv --reuid="$user" --regid="$(unit_value Group)" --init-groups
  --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service
  --bounding-set=-all,+net_bind_service --no-new-privs
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_env[@]}")
unit_command() { unit_value "$1" | sed "s#/etc/wiresign/wiresign.yaml#$TMP/etc/wiresign.yaml#"; }
read -r -a start_pre <<< "$(unit_command ExecStartPre)"
read -r -a start <<< "$(unit_command ExecStart)"
read -r -a reload <<< "$(unit_command ExecReload)"
check "ExecStartPre (--check) passes as the unit's user" bounded "${as_unit[@]}" "${start_pre[@]}"
# Port 53 (unless something here already has it): exit 0 bound, 2 in use.
bind53="import errno, socket, sys
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(('127.0.0.1', 53))
except OSError as e:
    sys.exit(2 if e.errno == errno.EADDRINUSE else 1)"
bounded "${as_unit[@]}" python3 -c "$bind53" && rc=0 || rc=$?
if [[ $rc -eq 2 ]]; then
  echo "127.0.0.1:53 is in use here: the port 53 check is left out"
elif [[ $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024) -le 53 ]]; then
  echo "any user may bind port 53 here (net.ipv4.ip_unprivileged_port_start): the port 53 check is left out"
else
  check "the unit's capabilities let its user bind port 53" test "$rc" = 0
  bounded setpriv --reuid="$user" --regid="$(unit_value Group)" --init-groups --inh-caps=-all \
    --ambient-caps=-all --bounding-set=-all --no-new-privs env -i PATH=/usr/bin:/bin python3 -c "$bind53" &&
    rc=0 || rc=$?
  check "and without them it cannot (permission denied)" test "$rc" = 1
fi

start_daemon
check "the daemon signs the example zone with keys in the token" wait_log "example.test.: signed serial"
check "it runs as wiresign" test "$(ps -o user= -p "$daemon" 2>/dev/null | tr -d ' ')" = wiresign
check "with CAP_NET_BIND_SERVICE as its only capability" bash -c \
  "grep -q '^CapEff:[[:space:]]*0000000000000400$' /proc/$daemon/status && grep -q '^CapBnd:[[:space:]]*0000000000000400$' /proc/$daemon/status"
check "an AXFR from it validates with dnssec-verify" axfr_validates "$port" example.test
dig_() { bounded dig -p "$port" +time=2 +tries=1 "$@"; }
dig_ @127.0.0.1 example.test AXFR | grep -v '^;' | sed '/^$/d' | sed '$d' > "$TMP/axfr.zone"
check "and with ldns-verify-zone" bash -c "ldns-verify-zone '$TMP/axfr.zone' > /dev/null"
check "the SOA comes with its RRSIG" bash -c "dig -p $port +time=2 +tries=1 +dnssec @127.0.0.1 example.test SOA | grep -q 'RRSIG[[:space:]]*SOA'"
dnskeys() { dig_ +short @127.0.0.1 example.test DNSKEY | sort; }
keys_before=$(dnskeys)
check "a KSK and a ZSK are published" test "$(grep -c . <<< "$keys_before")" = 2
check "the state the daemon writes is its own (wiresign, not readable by others)" \
  test "$(stat -c '%U %a' /var/lib/wiresign/control.sock)" = "wiresign 600"
check "wiresign status (root, --config) lists the zone" \
  bash -c "'$WIRESIGN' status --config '$TMP/etc/wiresign.yaml' | grep -q '^example.test\..* ok$'"
check "the unit's ExecReload works as the unit's user" bounded "${as_unit[@]}" "${reload[@]}"
check "the installed wiresign key ds prints the DS" \
  bash -c "/usr/bin/wiresign key ds example.test --config '$TMP/etc/wiresign.yaml' | grep -q 'IN[[:space:]]*DS'"
stop_daemon

# Reinstall: PIN, token and keys stay.
bounded dpkg -i "$deb" > "$TMP/dpkg2.log" 2>&1 || { cat "$TMP/dpkg2.log" >&2; fail "dpkg -i (again)"; }
check "a reinstall keeps the PIN" test "$(sha256sum < /etc/wiresign/hsm.pin)" = "$pin_sum"
start_daemon
for _ in $(seq 1 100); do [[ -n $(dnskeys) ]] && break; sleep 0.1; done
check "after a reinstall the same keys are served" test "$(dnskeys)" = "$keys_before"
stop_daemon

[[ -n ${VERBOSE:-} ]] && cat "$TMP/daemon.log"

# Purge (when this test installed the package): the package goes, the keys stay.
if [[ $was_installed != installed && -z ${KEEP_INSTALLED:-} ]]; then
  bounded dpkg --purge wiresign > "$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log" >&2; fail "dpkg --purge"; }
  check "purge removes the package" test ! -e /usr/sbin/wiresignd -a ! -e "$unit"
  check "purge removes the signed zones and the journal" test ! -e /var/lib/wiresign/signed -a ! -e /var/lib/wiresign/journal
  check "purge keeps the keys (the token) and says so" \
    bash -c "test -d /var/lib/wiresign/softhsm && grep -q 'keys kept in /var/lib/wiresign' '$TMP/purge.log'"
fi
finish
