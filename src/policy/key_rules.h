// The rules that keep a zone valid while its keys change ("Flexible and Robust
// Key Rollover", equations 1-3, as BIND's keymgr applies them), and the order
// a rollover method imposes on top of them (RFC 6781 §4.1, RFC 7583 §3).
#pragma once
#include <cstddef>

#include "policy/key_state.h"

namespace wiresign::policy {

// Would moving `record` of ring.keys[key] to `next` keep, for every algorithm,
// a chain of trust that any resolver cache can follow: a DS (rule 1), a DNSKEY
// that the DS matches and that signs the DNSKEY RRset (rule 2), and zone
// signatures by a key of that DNSKEY RRset (rule 3)? A rule that is already
// broken does not block a change (it may be the way out). A swap between a
// key and its successor counts only if the leaving record had reached every
// cache (went unretentive from omnipresent): a roll cut short by the next one
// leaves caches holding what came before it.
bool transition_is_safe(const KeyRing& ring, size_t key, KeyRecord record, RecordState next);

// The order of the rollover methods: pre-publication for ZSKs (DNSKEY before
// its signatures), double-KSK (DNSKEY before DS; a DS leaves only once another
// is omnipresent), and the conservative algorithm rollover of RFC 6781 §4.1.4
// (a new algorithm's signatures everywhere before its DNSKEY; RFC 4035 §2.2:
// every algorithm in the DNSKEY RRset signs every RRset).
bool rollover_method_allows(const KeyRing& ring, size_t key, KeyRecord record, RecordState next);

// True while no DS of any key is (or may be) at the parent: the zone is
// insecure, so records may be introduced in any order (initial signing).
bool zone_is_unsecured(const KeyRing& ring);

}  // namespace wiresign::policy
