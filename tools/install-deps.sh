#!/usr/bin/env bash
# Install everything wiresign's build, tests and benchmarks need on Debian 12.
# Idempotent: does nothing when all packages are present; otherwise refreshes
# the package lists and installs what is missing.
# Uses sudo only when not root. Exits non-zero on any failure.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libldns-dev libssl-dev libyaml-cpp-dev libboost-dev libsqlite3-dev
  libp11-kit-dev nlohmann-json3-dev
  # unit tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # system tests: an HSM, and signers/validators we did not write
  softhsm2 opensc ldnsutils bind9-utils bind9-dnsutils bind9 knot knot-dnssecutils nsd unbound
  # kdig: a second TSIG implementation checking our answers (test_tsig.sh)
  knot-dnsutils
  # fuzzing (tools/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-dev
  python3 time curl
  # the Debian package (cpack's dpkg-shlibdeps needs file) and its test
  # (dpkg -i wants adduser; the man pages are checked with man and groff)
  dpkg-dev file adduser man-db groff-base
)

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
else
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo" >&2; exit 1; }
  as_root=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists before installing: on a fresh image they may be
# empty, or old enough that the versions they name are gone from the mirror.
timeout 600 "${as_root[@]}" apt-get update

timeout 1800 "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

# Check, rather than trust the exit status of apt alone.
for p in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [[ $status != installed ]]; then
    echo "install-deps: FAIL: $p is not installed after apt-get install" >&2
    exit 1
  fi
done
echo "install-deps: installed ${#missing[@]} packages"
