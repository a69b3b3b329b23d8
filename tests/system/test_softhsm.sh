#!/usr/bin/env bash
# Signing with keys in a SoftHSM token through the pkcs11 keystore
# (--config/--policy), for ecdsap256sha256, ecdsap384sha384, ed25519 and
# rsasha256:
#  - the signed zone validates (BIND, ldns, Knot) and passes check_signed
#  - the private keys in the token are sensitive, always sensitive and never
#    extractable, and may only sign (no decrypt/unwrap)
#  - a second run reuses the token's keys (same DNSKEY set, no new objects)
#  - `wiresign keys ds` prints the DS that BIND computes from the printed
#    DNSKEY (dnssec-dsfromkey), and that DNSKEY is the zone's KSK
#  - a PIN file readable by others is refused
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, ALGORITHMS, HSM_GEN_NAMES (default 500),
# SOFTHSM_MODULE, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a algorithms <<< "${ALGORITHMS:-ecdsap256sha256 ecdsap384sha384 ed25519 rsasha256}"
origin=example.test.
if [[ ! -r $SOFTHSM_MODULE ]]; then
  fail "SoftHSM module $SOFTHSM_MODULE not found (apt-get install softhsm2)"
  finish
fi

softhsm_token "$TMP/hsm"
config=$TMP/wiresign.yaml
{
  echo "keystores:"
  echo "  - {name: hsm, backend: pkcs11, module: $SOFTHSM_MODULE, token-label: wiresign, pin-file: $TMP/hsm/hsm.pin}"
  echo "policies:"
  for alg in "${algorithms[@]}"; do
    cat <<EOF
  - name: $alg
    keystore: hsm
    algorithm: $alg
    signatures: {validity: 14d, refresh: 5d, jitter: 12h, inception-offset: 1h}
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: unixtime
EOF
  done
} > "$config"

bounded python3 "$SRC/tools/gen_zone.py" example.test "${HSM_GEN_NAMES:-500}" > "$TMP/gen.zone"

# hsm_sign POLICY OUTPUT: sign the generated zone with POLICY; stderr in
# OUTPUT.stderr; a FAIL and status 1 on failure.
hsm_sign() {
  local rc
  wiresign sign --origin $origin --input "$TMP/gen.zone" --output "$2" --config "$config" --policy "$1" \
    > "$2.stdout" 2> "$2.stderr" && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "$1: wiresign sign exit $rc: $(head -c 600 "$2.stderr")"
    return 1
  fi
}

# private_keys: the token's private key objects, one line per object:
# "label|usage|access".
private_keys() {
  bounded pkcs11-tool --module "$SOFTHSM_MODULE" --token-label wiresign --login --pin 1234 \
    --list-objects --type privkey 2>/dev/null | awk '
      /^Private Key Object/ { if (n++) print label "|" usage "|" access; label = usage = access = "" }
      /^ *label:/  { sub(/^ *label: */, ""); label = $0 }
      /^ *Usage:/  { sub(/^ *Usage: */, ""); usage = $0 }
      /^ *Access:/ { sub(/^ *Access: */, ""); access = $0 }
      END { if (n) print label "|" usage "|" access }'
}

for alg in "${algorithms[@]}"; do
  out=$TMP/$alg.signed
  hsm_sign "$alg" "$out" || continue
  check "$alg (SoftHSM): validates" verify_all $origin "$out"
  problems=$(check_signed $origin "$TMP/gen.zone" "$out" nsec3 split 2>&1) || true
  if [[ -n $problems ]]; then fail "$alg (SoftHSM): $problems"; else pass "$alg (SoftHSM): zone contents"; fi
done

# --- the keys in the token ----------------------------------------------------
private_keys > "$TMP/privkeys"
count=$(wc -l < "$TMP/privkeys")
check "token holds a KSK and a ZSK private key per algorithm (${#algorithms[@]} x 2, found $count)" \
  test "$count" -eq $((2 * ${#algorithms[@]}))
while IFS='|' read -r label usage access; do
  check "private key '$label': sensitive, always sensitive, never extractable (Access: $access)" \
    bash -c '[[ ", $1," == *", sensitive,"* && $1 == *"always sensitive"* && $1 == *"never extractable"* ]]' _ "$access"
  check "private key '$label': usage is sign only (Usage: $usage)" test "$usage" = sign
done < "$TMP/privkeys"

# --- a second run reuses the keys ---------------------------------------------
for alg in "${algorithms[@]}"; do
  [[ -s $TMP/$alg.signed ]] || continue
  hsm_sign "$alg" "$TMP/$alg.again" || continue
  check "$alg (SoftHSM): second run uses the same DNSKEY set" \
    test "$(records "$TMP/$alg.signed" DNSKEY | sort)" = "$(records "$TMP/$alg.again" DNSKEY | sort)"
done
check "second runs created no new private keys" test "$(private_keys | wc -l)" -eq "$count"

# --- keys ds: the DS BIND computes from the printed DNSKEY ----------------------
for alg in "${algorithms[@]}"; do
  ds_out=$TMP/$alg.ds
  if ! wiresign keys ds --origin $origin --config "$config" --policy "$alg" --digest sha256 --format zone \
      > "$ds_out" 2> "$ds_out.stderr"; then
    fail "$alg: wiresign keys ds failed: $(head -c 400 "$ds_out.stderr")"
    continue
  fi
  awk '$0 !~ /^;/ && $4 == "DNSKEY"' "$ds_out" > "$TMP/$alg.dnskey"
  ours=$(awk '$0 !~ /^;/ && $4 == "DS" {print $5, $6, $7, toupper($8)}' "$ds_out" | sort)
  bind=$(bounded dnssec-dsfromkey -2 -f "$TMP/$alg.dnskey" $origin 2>&1 |
         awk '$3 == "DS" || $4 == "DS" { for (i = 1; i <= NF; i++) if ($i == "DS") print $(i+1), $(i+2), $(i+3), toupper($(i+4)) }' | sort) || true
  check "$alg: keys ds prints one SHA-256 DS ($ours)" test "$(grep -c . <<< "$ours")" = 1
  check "$alg: keys ds DS equals dnssec-dsfromkey -2 of the printed DNSKEY (BIND: $bind)" \
    test -n "$ours" -a "$ours" = "$bind"
  if [[ -s $TMP/$alg.signed ]]; then
    check "$alg: keys ds prints the zone's KSK" \
      test "$(awk '{print $5, $6, $7, $8}' "$TMP/$alg.dnskey")" = \
           "$(records "$TMP/$alg.signed" DNSKEY | awk '$5 == 257 {print $5, $6, $7, $8}')"
  fi
done

# --- a PIN file others can read is refused ------------------------------------
chmod 0644 "$TMP/hsm/hsm.pin"
wiresign sign --origin $origin --input "$TMP/gen.zone" --output "$TMP/pin.signed" --config "$config" \
  --policy "${algorithms[0]}" > /dev/null 2> "$TMP/pin.stderr" && rc=0 || rc=$?
check "PIN file with mode 0644: refused (exit $rc: $(head -c 300 "$TMP/pin.stderr"))" test "$rc" -ne 0
check "PIN file with mode 0644: the error names the PIN file" grep -q 'hsm.pin' "$TMP/pin.stderr"
check "PIN file with mode 0644: no output" test ! -e "$TMP/pin.signed"
chmod 0600 "$TMP/hsm/hsm.pin"

finish
