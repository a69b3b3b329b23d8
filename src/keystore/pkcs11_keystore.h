// Keys inside a PKCS#11 token (DESIGN.md promise 5: generated in the token,
// sensitive and non-extractable, used only through the module).
//
// How keys are found again: each key pair shares a random 16-octet CKA_ID,
// and its CKA_LABEL says what it is for:
//     "wiresign <zone> <role> <algorithm number> <created, YYYYMMDDhhmmss>"
//     e.g. "wiresign example.test. ksk 13 20261123000000"
// list_keys() scans the token's private keys and keeps those labelled for the
// zone (so a CSK stays a CSK); KeyInfo::locator is a PKCS#11 URI (RFC 7512)
// "pkcs11:token=...;object=<label>;id=%xx..." and open_signer() finds the
// private key by that CKA_ID. Imported keys (key import) are created with
// such a label and a fresh CKA_ID; adopted objects (another signer's) keep
// their CKA_ID and get the label: pkcs11_key_import.h. Private to keystore/.
#pragma once
#include <memory>
#include <string>

#include "keystore/keystore.h"

namespace wiresign::keystore {

// Loads `module_path`, finds the token labelled `token_label` and checks that
// `pin` logs in (so a wrong PIN fails here: "C_Login: CKR_PIN_INCORRECT").
std::unique_ptr<Keystore> open_pkcs11_keystore(const std::string& module_path, const std::string& token_label,
                                               const std::string& pin);

}  // namespace wiresign::keystore
