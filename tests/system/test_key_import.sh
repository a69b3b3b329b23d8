#!/usr/bin/env bash
# `wiresign key import`: a zone's existing keys move to wiresign without a
# rollover. For keys made by BIND's dnssec-keygen (ECDSAP256SHA256, ED25519,
# RSASHA256 2048), imported into a files keystore and into a SoftHSM token:
#  - `wiresign keys list` shows the key tags BIND gave the files, and
#    `wiresign keys ds` the DS that dnssec-dsfromkey computes from BIND's .key
#  - `wiresign sign` uses exactly the imported keys (the signed DNSKEY RRset is
#    BIND's DNSKEYs, no key made), the zone validates (BIND, ldns, Knot), and
#    the DS from BIND's KSK file matches a KSK of the signed zone
#  - imported files are 0600; imported token keys sensitive, not extractable
# PKCS#11 adoption: keys made in the token by pkcs11-tool and by
# softhsm2-util --import of a PEM are adopted by CKA_LABEL / CKA_ID (no new
# objects), sign, and validate. A PEM key imported as a file gets the key tag
# the token's copy has. Refusals are checked for their messages and for
# changing nothing.
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, SOFTHSM_MODULE, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in dnssec-keygen dnssec-dsfromkey pkcs11-tool softhsm2-util openssl; do
  command -v "$tool" > /dev/null || { fail "$tool is not installed (tools/install-deps.sh)"; finish; }
done
[[ -r $SOFTHSM_MODULE ]] || { fail "SoftHSM module $SOFTHSM_MODULE not found"; finish; }

softhsm_token "$TMP/hsm"
p11() { bounded pkcs11-tool --module "$SOFTHSM_MODULE" --token-label wiresign --login --pin 1234 "$@" 2>/dev/null; }

declare -A bind_alg=([ecdsap256sha256]="ECDSAP256SHA256" [ed25519]="ED25519" [rsasha256]="RSASHA256 -b 2048")
algorithms=(ecdsap256sha256 ed25519 rsasha256)
config=$TMP/wiresign.yaml
{
  echo "keystores:"
  echo "  - {name: files, backend: files, directory: $TMP/keys}"
  echo "  - {name: hsm, backend: pkcs11, module: $SOFTHSM_MODULE, token-label: wiresign, pin-file: $TMP/hsm/hsm.pin}"
  echo "policies:"
  for store in files hsm; do
    for alg in "${algorithms[@]}"; do
      cat <<EOF
  - name: $store-$alg
    keystore: $store
    algorithm: $alg
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
EOF
    done
  done
} > "$config"

# ds_rdata: DS records on stdin (any format) -> "tag alg type HEX", sorted.
ds_rdata() {
  awk '$0 !~ /^;/ { for (i = 1; i <= NF; i++) if ($i == "DS") { print $(i+1), $(i+2), $(i+3), toupper($(i+4)); next } }' | sort
}
# dnskeys FILE...: "flags proto alg base64" of the DNSKEY records in BIND .key files or a zone, sorted.
dnskeys() {
  cat "$@" | grep -v -e '^;' -e RRSIG | awk '{ for (i = 1; i <= NF; i++) if ($i == "DNSKEY") {
    key = ""; for (j = i + 4; j <= NF; j++) key = key $j; print $(i+1), $(i+2), $(i+3), key; next } }' | sort
}
# import ARGS...: wiresign key import; stdout in $TMP/import.out, stderr in $TMP/import.err.
import() { wiresign key import "$@" > "$TMP/import.out" 2> "$TMP/import.err"; }

# sign_and_check WHAT ZONE POLICY: signs a generated zone; validates it.
sign_and_check() {
  local what=$1 zone=$2 policy=$3
  bounded python3 "$SRC/tools/gen_zone.py" "${zone%.}" 50 > "$TMP/$zone.zone"
  if ! wiresign sign --origin "$zone" --input "$TMP/$zone.zone" --output "$TMP/$zone.signed" --config "$config" \
       --policy "$policy" > /dev/null 2> "$TMP/$zone.sign.err"; then
    fail "$what: wiresign sign: $(head -c 400 "$TMP/$zone.sign.err")"
    return 1
  fi
  check "$what: wiresign sign made no key (it found the imported ones)" bash -c "! grep -q 'created' '$TMP/$zone.sign.err'"
  check "$what: the signed zone validates" verify_all "$zone" "$TMP/$zone.signed"
  local problems
  problems=$(check_signed "$zone" "$TMP/$zone.zone" "$TMP/$zone.signed" nsec3 split 2>&1) || true
  if [[ -n $problems ]]; then fail "$what: $problems"; else pass "$what: zone contents"; fi
}

# --- BIND's keys into both keystores ------------------------------------------
for store in files hsm; do
  for alg in "${algorithms[@]}"; do
    what="$alg ($store)"
    zone=$alg.$store.example.test.
    bind=$TMP/bind/$store-$alg
    mkdir -p "$bind"
    # shellcheck disable=SC2086
    ksk=$(bounded dnssec-keygen -q -K "$bind" -a ${bind_alg[$alg]} -f KSK "$zone")
    # shellcheck disable=SC2086
    zsk=$(bounded dnssec-keygen -q -K "$bind" -a ${bind_alg[$alg]} "$zone")
    if ! import --zone "$zone" --config "$config" --policy "$store-$alg" "$bind"/K*.key "$bind"/K*.private; then
      fail "$what: key import: $(head -c 600 "$TMP/import.err")"
      continue
    fi
    pass "$what: key import"
    want="ksk $((10#${ksk##*+})) zsk $((10#${zsk##*+}))"
    got=$(wiresign keys list --origin "$zone" --config "$config" --policy "$store-$alg" 2> /dev/null |
          awk '{print $2, $3}' | sort | tr '\n' ' ' | sed 's/ $//')
    check "$what: keys list shows BIND's key tags ($want; got: $got)" test "$got" = "$want"
    bind_ds=$(bounded dnssec-dsfromkey -2 "$bind/$ksk.key" | ds_rdata)
    ours=$(wiresign keys ds --origin "$zone" --config "$config" --policy "$store-$alg" --digest sha256 2> /dev/null | ds_rdata)
    check "$what: keys ds equals dnssec-dsfromkey of BIND's KSK file ($bind_ds)" test -n "$bind_ds" -a "$ours" = "$bind_ds"
    check "$what: key import printed the KSK's DS" grep -q "DS ${bind_ds%% *} " "$TMP/import.err"
    if [[ $store == files ]]; then
      modes=$(stat -c %a "$TMP"/keys/K"$zone"+*.private | sort -u | tr '\n' ' ')
      check "$what: imported .private files are 0600 (got: $modes)" test "$modes" = "600 "
    fi
    sign_and_check "$what" "$zone" "$store-$alg" || continue
    check "$what: the signed DNSKEY RRset is exactly BIND's two keys" \
      test "$(dnskeys "$TMP/$zone.signed")" = "$(dnskeys "$bind/$ksk.key" "$bind/$zsk.key")"
    zone_ds=$(bounded dnssec-dsfromkey -2 -f "$TMP/$zone.signed" "$zone" | ds_rdata)
    check "$what: the DS of BIND's KSK matches a KSK of the signed zone" grep -qxF "$bind_ds" <<< "$zone_ds"
  done
done

# Imported token keys: sensitive, not extractable, sign only.
p11 --list-objects --type privkey | awk '
  /^Private Key Object/ { if (n++) print label "|" usage "|" access; label = usage = access = "" }
  /^ *label:/  { sub(/^ *label: */, ""); label = $0 }
  /^ *Usage:/  { sub(/^ *Usage: */, ""); usage = $0 }
  /^ *Access:/ { sub(/^ *Access: */, ""); access = $0 }
  END { if (n) print label "|" usage "|" access }' > "$TMP/privkeys"
check "token holds the ${#algorithms[@]} x 2 imported private keys ($(wc -l < "$TMP/privkeys"))" \
  test "$(wc -l < "$TMP/privkeys")" -eq $((2 * ${#algorithms[@]}))
while IFS='|' read -r label usage access; do
  check "imported '$label': sensitive and not extractable (Access: $access)" \
    bash -c '[[ ", $1," == *", sensitive,"* && ", $1," != *", extractable,"* ]]' _ "$access"
  check "imported '$label': usage is sign only (Usage: $usage)" test "$usage" = sign
done < "$TMP/privkeys"

# --- adoption of keys already in the token (as OpenDNSSEC leaves them) ---------
zone=adopt.example.test.
p11 --keypairgen --key-type EC:prime256v1 --label ods-ksk --id 0a01 --usage-sign > /dev/null
bounded openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/zsk.pem" 2> /dev/null
chmod 0600 "$TMP/zsk.pem"
bounded softhsm2-util --import "$TMP/zsk.pem" --token wiresign --label ods-zsk --id 0a02 --pin 1234 > /dev/null
objects_before=$(p11 --list-objects | grep -c 'Object;')
# The PEM as a file gives the key tag its copy in the token must have.
import --zone scratch.test --keys "$TMP/scratch" --role zsk --algorithm ecdsap256sha256 "$TMP/zsk.pem" &&
  pem_tag=$(awk '{print $3}' "$TMP/import.out") || fail "PEM import: $(head -c 400 "$TMP/import.err")"
if import --zone "$zone" --config "$config" --policy hsm-ecdsap256sha256 --pkcs11-label ods-ksk --role ksk; then
  ksk_tag=$(awk '{print $3}' "$TMP/import.out")
  pass "adopt by --pkcs11-label: ksk $ksk_tag"
  check "adoption says which label it replaced" grep -q 'from "ods-ksk"' "$TMP/import.err"
else
  fail "adopt by --pkcs11-label: $(head -c 400 "$TMP/import.err")"
fi
if import --zone "$zone" --config "$config" --policy hsm-ecdsap256sha256 --pkcs11-id 0a:02 --role zsk --key-tag "${pem_tag:-0}"; then
  pass "adopt by --pkcs11-id with --key-tag of the PEM key ($pem_tag)"
else
  fail "adopt by --pkcs11-id: $(head -c 400 "$TMP/import.err")"
fi
check "adoption created no token objects" test "$(p11 --list-objects | grep -c 'Object;')" -eq "$objects_before"
check "the adopted private keys kept their CKA_ID and are never extractable" bash -c "
  p11() { timeout 60 pkcs11-tool --module '$SOFTHSM_MODULE' --token-label wiresign --login --pin 1234 \"\$@\" 2>/dev/null; }
  p11 --list-objects --type privkey | grep -A3 'ID: *0a01' | grep -q 'never extractable'"
if sign_and_check "adopted keys" "$zone" hsm-ecdsap256sha256; then
  # (lib.sh's dnskey_tags ends non-zero when the last DNSKEY has other flags: its output counts)
  tags=$(dnskey_tags "$TMP/$zone.signed" 257 || true)" "$(dnskey_tags "$TMP/$zone.signed" 256 || true)
  check "adopted keys: the signed zone's DNSKEYs are the adopted keys ($tags)" test "$tags" = "${ksk_tag:-} ${pem_tag:-}"
  ds=$(wiresign keys ds --origin "$zone" --config "$config" --policy hsm-ecdsap256sha256 2> /dev/null | ds_rdata)
  check "adopted keys: keys ds equals dnssec-dsfromkey of the signed zone's KSK" \
    test -n "$ds" -a "$ds" = "$(bounded dnssec-dsfromkey -2 -f "$TMP/$zone.signed" "$zone" | ds_rdata)"
fi

# --- refusals: the message says why, and nothing changes -----------------------
# refused WHAT PATTERN ARGS...: key import exits 1 with PATTERN in its message.
refused() {
  local what=$1 pattern=$2 rc
  shift 2
  import "$@" && rc=0 || rc=$?
  check "$what: refused (exit $rc)" test "$rc" -eq 1
  check "$what: says '$pattern' (got: $(head -c 300 "$TMP/import.err"))" grep -qF -- "$pattern" "$TMP/import.err"
}
mkdir -p "$TMP/bind/other"
other_ed=$(bounded dnssec-keygen -q -K "$TMP/bind/other" -a ED25519 -f KSK other.example.test)
listing() { ls -l "$TMP/keys"; p11 --list-objects | grep -c 'Object;'; }
before=$(listing)
refused "ED25519 key into an ECDSAP256SHA256 policy" 'policy "files-ecdsap256sha256" signs with ecdsap256sha256' \
  --zone other.example.test --config "$config" --policy files-ecdsap256sha256 "$TMP/bind/other/$other_ed.key"
refused "key of another zone" 'the DNSKEY is for zone other.example.test., not wrong.example.test. (--zone)' \
  --zone wrong.example.test --config "$config" --policy files-ed25519 "$TMP/bind/other/$other_ed.key"
zone=ecdsap256sha256.files.example.test.
refused "the same key again" 'is already in the keystore' \
  --zone "$zone" --config "$config" --policy files-ecdsap256sha256 "$TMP/bind/files-ecdsap256sha256"/K*.private
refused "a KSK as a ZSK" 'would change the key tag' \
  --zone other.example.test --config "$config" --policy files-ed25519 --role zsk "$TMP/bind/other/$other_ed.key"
refused "a PEM key without --algorithm" 'needs --algorithm' \
  --zone other.example.test --config "$config" --policy files-ecdsap256sha256 --role zsk "$TMP/zsk.pem"
refused "a PEM key of another type" 'the key is EC P-256, but 15 (ED25519) (--algorithm) needs Ed25519' \
  --zone other.example.test --config "$config" --policy files-ed25519 --role zsk --algorithm ed25519 "$TMP/zsk.pem"
refused "an unknown token label" 'no private key labelled "no-such-key"' \
  --zone other.example.test --config "$config" --policy hsm-ecdsap256sha256 --pkcs11-label no-such-key --role ksk
refused "adoption into a files keystore" 'not one' \
  --zone other.example.test --config "$config" --policy files-ecdsap256sha256 --pkcs11-label ods-ksk --role ksk
refused "a token key already adopted" 'already a wiresign key' \
  --zone other.example.test --config "$config" --policy hsm-ecdsap256sha256 --pkcs11-id 0a01 --role ksk
sha512=$(bounded dnssec-keygen -q -K "$TMP/bind/other" -a RSASHA512 -b 2048 other.example.test)
refused "an algorithm wiresign does not sign with (RSASHA512)" 'unsupported DNSSEC algorithm 10: wiresign signs with' \
  --zone other.example.test --config "$config" --policy files-rsasha256 "$TMP/bind/other/$sha512.private"
check "refused imports changed nothing in the keystores" test "$(listing)" = "$before"

# Warnings, not refusals: a private file others can read, RSA below 2048 bits.
weak=$(bounded dnssec-keygen -q -K "$TMP/bind/other" -a RSASHA256 -b 1024 weak.example.test)
chmod 0644 "$TMP/bind/other/$weak.private"
if import --zone weak.example.test --keys "$TMP/weak" "$TMP/bind/other/$weak.private"; then
  check "readable .private: warned" grep -q "readable by other users (mode 0644)" "$TMP/import.err"
  check "RSA 1024: warned" grep -q "RSA key of 1024 bits" "$TMP/import.err"
  check "the imported copy is 0600" test "$(stat -c %a "$TMP"/weak/*.private)" = 600
else
  fail "readable RSA 1024 key: $(head -c 400 "$TMP/import.err")"
fi

finish
