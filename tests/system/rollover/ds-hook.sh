#!/usr/bin/env bash
# The registrar of test_rollover.sh: wiresignd's ds-hook for a child of a
# parent zone that BIND's dnssec-signzone signs and NSD serves.
#   ds-hook.sh PARENT_DIR PARENT_PORT PARENT_ORIGIN DS_TTL
# PARENT_DIR holds base.zone (the parent without DS, "SERIAL" for the
# serial), ds.zone (the DS records held), serial, keys/ and NSD's nsd.pid.
# From wiresignd (RFC 7583 §3.3.4, the DS exchange): WIRESIGN_ZONE,
# WIRESIGN_ACTION (submit: add WIRESIGN_DS, one DS record a line; withdraw:
# remove the DS with WIRESIGN_KEY_TAG), WIRESIGN_ALGORITHM, WIRESIGN_DNSKEY.
# Returns once NSD serves the parent with the changed DS RRset (bounded:
# about 40 s); logs each call to PARENT_DIR/hook.log.
set -euo pipefail
dir=$1 port=$2 parent=$3 ttl=$4

exec 9> "$dir/hook.lock"
flock -w 30 9   # one change at a time, whoever calls
log() { echo "$(date +%s) $*" >> "$dir/hook.log"; }
log "$WIRESIGN_ACTION zone=$WIRESIGN_ZONE tag=${WIRESIGN_KEY_TAG:-} algorithm=${WIRESIGN_ALGORITHM:-}"
printf '%s\n' "${WIRESIGN_DS:-}" | sed '/^$/d; s/^/  ds: /' >> "$dir/hook.log"

child=${WIRESIGN_ZONE%.}.
if [[ $child != *".$parent" ]]; then
  echo "ds-hook: $child is not a child of $parent" >&2
  exit 1
fi
# "TAG ALGORITHM DIGEST-TYPE DIGEST" from each DS line (owner and TTL
# optional, the digest possibly split by blanks).
rdata=$(printf '%s\n' "${WIRESIGN_DS:-}" | awk '{
  for (i = 1; i <= NF; i++) if ($i == "DS") {
    digest = ""
    for (j = i + 4; j <= NF; j++) digest = digest $j
    print $(i + 1), $(i + 2), $(i + 3), toupper(digest)
    next
  } }')
case $WIRESIGN_ACTION in
  submit)
    [[ -n $rdata ]] || { echo "ds-hook: submit without DS records" >&2; exit 1; }
    while read -r line; do
      grep -qF " DS $line" "$dir/ds.zone" || echo "$child $ttl IN DS $line" >> "$dir/ds.zone"
    done <<< "$rdata"
    ;;
  withdraw)
    [[ -n ${WIRESIGN_KEY_TAG:-} ]] || { echo "ds-hook: withdraw without WIRESIGN_KEY_TAG" >&2; exit 1; }
    awk -v owner="$child" -v tag="$WIRESIGN_KEY_TAG" '!($1 == owner && $5 == tag)' "$dir/ds.zone" > "$dir/ds.zone.new"
    mv "$dir/ds.zone.new" "$dir/ds.zone"
    ;;
  *)
    echo "ds-hook: unknown WIRESIGN_ACTION '$WIRESIGN_ACTION'" >&2
    exit 1
    ;;
esac

serial=$(($(cat "$dir/serial") + 1))
echo "$serial" > "$dir/serial"
{ sed "s/SERIAL/$serial/" "$dir/base.zone"; cat "$dir/ds.zone"; } > "$dir/parent.zone"
# -S: sign with the keys in -K; -d: the dsset file goes there, not into the cwd.
timeout 30 dnssec-signzone -q -S -K "$dir/keys" -d "$dir" -o "$parent" -f "$dir/parent.signed" "$dir/parent.zone" \
  > /dev/null
kill -HUP "$(cat "$dir/nsd.pid")"   # NSD reloads the changed zone file
for _ in $(seq 1 100); do
  served=$(timeout 5 dig -p "$port" +time=1 +tries=1 +short @127.0.0.1 "$parent" SOA | awk '{print $3}') || true
  if [[ $served == "$serial" ]]; then
    log "$WIRESIGN_ACTION done: parent serial $serial"
    exit 0
  fi
  sleep 0.1
done
log "$WIRESIGN_ACTION FAILED: NSD does not serve parent serial $serial after 10 s"
echo "ds-hook: NSD does not serve $parent serial $serial after 10 s" >&2
exit 1
