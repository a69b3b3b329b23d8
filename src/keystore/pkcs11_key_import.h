// Bringing existing keys into a PKCS#11 token without a rollover: a key pair
// read from files is created in the token (C_CreateObject, sensitive and
// non-extractable from then on), and a private key object another signer
// made there is adopted in place by giving it wiresign's CKA_LABEL
// (C_SetAttributeValue), so that list_keys finds both like generated keys.
// Private to keystore/.
#pragma once
#include <string>
#include <vector>

#include "keystore/key_import.h"
#include "keystore/pkcs11_module.h"

namespace wiresign::keystore {

// Creates the private and public key objects of `imported` under a new
// wiresign label and random CKA_ID; `existing` are the zone's keys (for the
// key tag check). Nothing is left behind in the token on an error.
KeyInfo create_imported_key_objects(Pkcs11Session& session, const std::string& token_label,
                                    const ImportedKey& imported, const std::vector<KeyInfo>& existing);

// Finds the one private key object the request names, reads its DNSKEY from
// the public key object with the same CKA_ID, checks it (algorithm, key tag,
// usable for signing, not already wiresign's), then relabels both objects.
KeyInfo adopt_key_object(Pkcs11Session& session, const std::string& token_label, const AdoptRequest& request,
                         const std::vector<KeyInfo>& existing, std::vector<std::string>& notes);

}  // namespace wiresign::keystore
