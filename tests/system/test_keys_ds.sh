#!/usr/bin/env bash
# `wiresign keys ds` with --keys DIR (BIND key files), for every algorithm:
#  - --digest sha256 / sha384 / all print the DS records that BIND's
#    dnssec-dsfromkey computes from the KSK's K*.key file (-a SHA-256/-a SHA-384)
#  - the printed DNSKEY is the KSK's (flags 257) from the K*.key file
#  - --format zone: "owner TTL IN DS ..." with a lower-case owner even when
#    --origin is given in upper case; --format no-ttl: "owner IN DS ...";
#    --format plain: only the RDATA ("tag alg digest-type HEX")
#  - keys ds creates the keys when there are none, and a later sign uses them
#  - keys ds never touches the key files it reads
# Env: WIRESIGN, WIRESIGN_SOURCE_DIR, ALGORITHMS, VERBOSE, KEEP_TMP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a algorithms <<< "${ALGORITHMS:-ecdsap256sha256 ecdsap384sha384 ed25519 rsasha256}"
origin=example.test.
bounded python3 "$SRC/tools/gen_zone.py" example.test 50 > "$TMP/gen.zone"

# ds_rdata: DS records on stdin (any format) -> "tag alg type HEX", sorted.
ds_rdata() {
  awk '$0 !~ /^;/ { for (i = 1; i <= NF; i++) if ($i == "DS") { print $(i+1), $(i+2), $(i+3), toupper($(i+4)); next } }' | sort
}

# keys_ds ALG ARGS...: wiresign keys ds on the ALG key dir; FAIL on error.
keys_ds() {
  local alg=$1 rc
  shift
  wiresign keys ds --keys "$TMP/keys-$alg" --algorithm "$alg" "$@" 2> "$TMP/keys_ds.stderr" && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "$alg: wiresign keys ds $*: exit $rc: $(head -c 400 "$TMP/keys_ds.stderr")"
    return 1
  fi
}

for alg in "${algorithms[@]}"; do
  keys=$TMP/keys-$alg
  mkdir -p "$keys"
  # keys ds before any signing: creates the keys.
  keys_ds "$alg" --origin $origin --digest sha256 > "$TMP/$alg.first" || continue
  ksk_files=()
  for f in "$keys"/K*.key; do
    grep -v '^;' "$f" | grep -q 'DNSKEY[[:space:]]\+257[[:space:]]' && ksk_files+=("$f")
  done
  check "$alg: keys ds created exactly one KSK .key file in --keys DIR (found ${#ksk_files[@]})" \
    test ${#ksk_files[@]} -eq 1
  [[ ${#ksk_files[@]} -eq 1 ]] || continue
  ksk=${ksk_files[0]}
  sums=$(cd "$keys" && sha256sum K*)

  bind256=$(bounded dnssec-dsfromkey -a SHA-256 "$ksk" | ds_rdata)
  bind384=$(bounded dnssec-dsfromkey -a SHA-384 "$ksk" | ds_rdata)
  check "$alg: dnssec-dsfromkey computed both digests" test -n "$bind256" -a -n "$bind384"

  ours=$(ds_rdata < "$TMP/$alg.first")
  check "$alg: --digest sha256 equals dnssec-dsfromkey -a SHA-256 (ours: $ours; BIND: $bind256)" \
    test "$ours" = "$bind256"
  keys_ds "$alg" --origin $origin --digest sha384 > "$TMP/$alg.384" &&
    check "$alg: --digest sha384 equals dnssec-dsfromkey -a SHA-384" test "$(ds_rdata < "$TMP/$alg.384")" = "$bind384"
  keys_ds "$alg" --origin $origin --digest all > "$TMP/$alg.all" &&
    check "$alg: --digest all gives both" \
      test "$(ds_rdata < "$TMP/$alg.all")" = "$(printf '%s\n%s\n' "$bind256" "$bind384" | sort)"

  # The DNSKEY printed is the one in the KSK file.
  file_key=$(grep -v '^;' "$ksk" | sed -n 's/.*[[:space:]]DNSKEY[[:space:]]\+//p' | tr -s ' \t' ' ')
  printed_key=$(awk '$0 !~ /^;/ && $4 == "DNSKEY" { $1 = $2 = $3 = $4 = ""; print }' "$TMP/$alg.first" | sed 's/^ *//' | tr -s ' \t' ' ')
  check "$alg: keys ds prints the KSK's DNSKEY from $(basename "$ksk")" test -n "$file_key" -a "$printed_key" = "$file_key"

  # Formats, with the origin written in upper case and without the final dot.
  keys_ds "$alg" --origin EXAMPLE.Test --digest sha256 --format zone > "$TMP/$alg.zone" && {
    line=$(awk '$0 !~ /^;/ && $4 == "DS"' "$TMP/$alg.zone")
    check "$alg: --format zone: 'example.test. TTL IN DS ...' (got: $line)" \
      grep -Eq '^example\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]' <<< "$line"
    check "$alg: --format zone: DS RDATA unchanged by the upper-case origin" \
      test "$(ds_rdata <<< "$line")" = "$bind256"
  }
  keys_ds "$alg" --origin EXAMPLE.Test --digest sha256 --format no-ttl > "$TMP/$alg.nottl" && {
    line=$(grep -v '^;' "$TMP/$alg.nottl" | grep -w DS)
    check "$alg: --format no-ttl: 'example.test. IN DS ...' (got: $line)" \
      grep -Eq '^example\.test\.[[:space:]]+IN[[:space:]]+DS[[:space:]]' <<< "$line"
  }
  keys_ds "$alg" --origin EXAMPLE.Test --digest sha256 --format plain > "$TMP/$alg.plain" && {
    plain=$(grep -v '^;' "$TMP/$alg.plain" | head -n1 | tr -s ' \t' ' ' | sed 's/ *$//')
    check "$alg: --format plain: the DS RDATA alone (got: $plain; BIND: $bind256)" \
      test "$(awk '{print $1, $2, $3, toupper($4)}' <<< "$plain")" = "$bind256" -a "$(wc -w <<< "$plain")" = 4
    check "$alg: --format plain: then the DNSKEY RDATA alone" \
      test "$(grep -v '^;' "$TMP/$alg.plain" | sed -n 2p | tr -s ' \t' ' ' | sed 's/ *$//')" = "$file_key"
  }

  check "$alg: keys ds left the key files unchanged" test "$(cd "$keys" && sha256sum K*)" = "$sums"

  # A later sign with the same --keys DIR uses the KSK the DS was made for.
  if wiresign sign --origin $origin --input "$TMP/gen.zone" --output "$TMP/$alg.signed" --keys "$keys" \
       --algorithm "$alg" > /dev/null 2> "$TMP/$alg.sign.stderr"; then
    check "$alg: sign after keys ds uses the same KSK" \
      test "$(records "$TMP/$alg.signed" DNSKEY | awk '$5 == 257 {print $5, $6, $7, $8}')" = "$file_key"
    check "$alg: sign after keys ds created no more key files" test "$(cd "$keys" && sha256sum K*)" = "$sums"
    zone_ds=$(bounded dnssec-dsfromkey -a SHA-256 -f "$TMP/$alg.signed" $origin | ds_rdata)
    check "$alg: DS from the signed zone's DNSKEY RRset equals keys ds" test "$zone_ds" = "$bind256"
  else
    fail "$alg: wiresign sign with the keys from keys ds: $(head -c 400 "$TMP/$alg.sign.stderr")"
  fi
done

finish
