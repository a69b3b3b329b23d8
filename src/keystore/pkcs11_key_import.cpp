// Existing keys into a PKCS#11 token: C_CreateObject from key components
// (Cryptoki 2.40 §2.1 RSA, §2.3 EC, Current Mechanisms 3.0 §2.3.5 EdDSA
// objects), and adoption of another signer's objects by relabelling them
// (C_SetAttributeValue on CKA_LABEL, which Cryptoki lets change).
#include "keystore/pkcs11_key_import.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <ctime>

#include "keystore/dnskey.h"
#include "keystore/pkcs11_objects.h"

namespace wiresign::keystore {
namespace {

// Big-endian octets of one OpenSSL key parameter, padded to `width`; wiped by the caller.
std::vector<uint8_t> key_number(EVP_PKEY* key, const char* name, size_t width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw_openssl_error(std::string("EVP_PKEY_get_bn_param ") + name);
  std::unique_ptr<BIGNUM, decltype(&BN_clear_free)> number(raw, BN_clear_free);
  size_t size = std::max(width, static_cast<size_t>(BN_num_bytes(raw)));
  std::vector<uint8_t> bytes(size);
  BN_bn2binpad(raw, bytes.data(), static_cast<int>(size));
  return bytes;
}

// CKA_EC_POINT: the point in a DER OCTET STRING (Cryptoki 2.40 §2.3.3).
std::vector<uint8_t> der_octet_string(const std::vector<uint8_t>& value) {
  std::vector<uint8_t> der(2 + value.size());
  der[0] = 0x04;
  der[1] = static_cast<uint8_t>(value.size());
  std::copy(value.begin(), value.end(), der.begin() + 2);
  return der;
}

// Key material held while the objects are created, wiped afterwards.
struct Components {
  std::vector<std::vector<uint8_t>> values;
  ~Components() {
    for (auto& value : values)
      if (!value.empty()) OPENSSL_cleanse(value.data(), value.size());
  }
  const std::vector<uint8_t>& add(std::vector<uint8_t> value) {
    values.push_back(std::move(value));
    return values.back();
  }
};

// Destroys what was created unless told to keep it.
struct CreatedObjects {
  Pkcs11Session& session;
  std::vector<CK_OBJECT_HANDLE> objects;
  bool keep = false;
  ~CreatedObjects() {
    if (keep) return;
    for (CK_OBJECT_HANDLE object : objects) session.functions()->C_DestroyObject(session.handle(), object);
  }
};

std::string hex(std::span<const uint8_t> octets) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t octet : octets) {
    out += kHex[octet >> 4];
    out += kHex[octet & 15];
  }
  return out;
}

// The DNSSEC algorithm a key object can be, from CKA_KEY_TYPE and CKA_EC_PARAMS.
dns::Algorithm algorithm_of(Pkcs11Session& session, CK_OBJECT_HANDLE object, const std::string& what) {
  std::vector<uint8_t> raw_type = session.attribute(object, CKA_KEY_TYPE);
  CK_KEY_TYPE type = 0;
  if (raw_type.size() == sizeof type) std::copy(raw_type.begin(), raw_type.end(), reinterpret_cast<uint8_t*>(&type));
  if (type == CKK_RSA) return dns::Algorithm::rsasha256;  // wiresign signs RSA only as RSASHA256 (8)
  if (type == CKK_EC || type == CKK_EC_EDWARDS) {
    std::vector<uint8_t> params = session.attribute(object, CKA_EC_PARAMS);
    for (dns::Algorithm alg : {dns::Algorithm::ecdsap256sha256, dns::Algorithm::ecdsap384sha384,
                               dns::Algorithm::ed25519}) {
      std::span<const uint8_t> known = ec_params(alg);
      if (std::equal(params.begin(), params.end(), known.begin(), known.end())) return alg;
    }
    // RFC 8410's OID is one way to name Ed25519; the other is PrintableString "edwards25519".
    static constexpr char kEdwards[] = "\x13\x0c" "edwards25519";
    if (type == CKK_EC_EDWARDS && std::equal(params.begin(), params.end(), kEdwards, kEdwards + sizeof kEdwards - 1))
      return dns::Algorithm::ed25519;
    throw KeystoreError(what + ": a curve wiresign does not sign with (CKA_EC_PARAMS " + hex(params) +
                        "); it signs with P-256, P-384 and Ed25519");
  }
  throw KeystoreError(what + ": CKA_KEY_TYPE " + std::to_string(type) + " is not an RSA, EC or EdDSA key");
}

void set_label(Pkcs11Session& session, CK_OBJECT_HANDLE object, const std::string& label, const char* call) {
  CK_ATTRIBUTE value = attribute(CKA_LABEL, label.data(), label.size());
  check_rv(session.functions()->C_SetAttributeValue(session.handle(), object, &value, 1), call);
}

}  // namespace

KeyInfo create_imported_key_objects(Pkcs11Session& session, const std::string& token_label,
                                    const ImportedKey& imported, const std::vector<KeyInfo>& existing) {
  KeyInfo key = imported.key;
  check_key_tag_free(existing, key);
  EVP_PKEY* pkey = imported.private_key.get();
  const std::string label = make_label(key.zone, key.role, key.algorithm, std::time(nullptr));
  std::vector<uint8_t> id(kIdSize);
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) throw_openssl_error("RAND_bytes");

  const CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  const CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
  const CK_KEY_TYPE type = key.algorithm == dns::Algorithm::rsasha256 ? CKK_RSA
                           : key.algorithm == dns::Algorithm::ed25519  ? CKK_EC_EDWARDS
                                                                       : CKK_EC;
  // As generate_key makes them (DESIGN.md promise 5): from here on the private
  // key never leaves the token, and it only signs.
  std::vector<CK_ATTRIBUTE> private_template = dnssec_private_key_template(label, id);
  private_template.push_back(attribute(CKA_CLASS, private_class));
  private_template.push_back(attribute(CKA_KEY_TYPE, type));
  std::vector<CK_ATTRIBUTE> public_template = dnssec_public_key_template(label, id);
  public_template.push_back(attribute(CKA_CLASS, public_class));
  public_template.push_back(attribute(CKA_KEY_TYPE, type));
  Components parts;
  auto push = [&](std::vector<CK_ATTRIBUTE>& tmpl, CK_ATTRIBUTE_TYPE attr, std::vector<uint8_t> value) {
    const std::vector<uint8_t>& kept = parts.add(std::move(value));
    tmpl.push_back(attribute(attr, kept.data(), kept.size()));
  };
  if (key.algorithm == dns::Algorithm::rsasha256) {
    const std::pair<CK_ATTRIBUTE_TYPE, const char*> fields[] = {
        {CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N},           {CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E},
        {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D},  {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
        {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},     {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2}, {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    for (const auto& [attr, name] : fields) push(private_template, attr, key_number(pkey, name));
    push(public_template, CKA_MODULUS, key_number(pkey, OSSL_PKEY_PARAM_RSA_N));
    push(public_template, CKA_PUBLIC_EXPONENT, key_number(pkey, OSSL_PKEY_PARAM_RSA_E));
  } else {
    std::span<const uint8_t> params = ec_params(key.algorithm);
    private_template.push_back(attribute(CKA_EC_PARAMS, params.data(), params.size()));
    public_template.push_back(attribute(CKA_EC_PARAMS, params.data(), params.size()));
    if (key.algorithm == dns::Algorithm::ed25519) {
      // RFC 8032: the private key is the 32-octet seed; the point is the public key as is.
      std::vector<uint8_t> seed(32);
      size_t length = seed.size();
      if (EVP_PKEY_get_raw_private_key(pkey, seed.data(), &length) != 1 || length != 32)
        throw_openssl_error("EVP_PKEY_get_raw_private_key");
      push(private_template, CKA_VALUE, std::move(seed));
      push(public_template, CKA_EC_POINT, der_octet_string(key.public_key));
    } else {
      push(private_template, CKA_VALUE, key_number(pkey, OSSL_PKEY_PARAM_PRIV_KEY, ecdsa_component_size(key.algorithm)));
      std::vector<uint8_t> point{0x04};  // SEC1 uncompressed: 04 || X || Y
      point.insert(point.end(), key.public_key.begin(), key.public_key.end());
      push(public_template, CKA_EC_POINT, der_octet_string(point));
    }
  }

  CreatedObjects created{session, {}};
  CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
  check_rv(session.functions()->C_CreateObject(session.handle(), public_template.data(), public_template.size(), &object),
           "C_CreateObject (public key)");
  created.objects.push_back(object);
  check_rv(session.functions()->C_CreateObject(session.handle(), private_template.data(), private_template.size(),
                                               &object),
           "C_CreateObject (private key)");
  created.objects.push_back(object);
  // Read back what list_keys will read: the token must publish the same DNSKEY.
  if (read_public_key(session, created.objects.front(), key.algorithm) != key.public_key)
    throw KeystoreError(key.locator + ": the token stored a different public key than the one imported");
  created.keep = true;
  key.locator = make_locator(token_label, label, id);
  return key;
}

KeyInfo adopt_key_object(Pkcs11Session& session, const std::string& token_label, const AdoptRequest& request,
                         const std::vector<KeyInfo>& existing, std::vector<std::string>& notes) {
  const std::string what = request.label.empty() ? "private key with CKA_ID " + hex(request.id)
                                                 : "private key labelled \"" + request.label + "\"";
  CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> query = {attribute(CKA_CLASS, private_class)};
  if (request.label.empty()) query.push_back(attribute(CKA_ID, request.id.data(), request.id.size()));
  else query.push_back(attribute(CKA_LABEL, request.label.data(), request.label.size()));
  std::vector<CK_OBJECT_HANDLE> found = session.find_objects(query);
  if (found.empty())
    throw KeystoreError("no " + what + " in token \"" + token_label +
                        "\" (pkcs11-tool --list-objects --type privkey --login shows what it holds)");
  if (found.size() > 1)
    throw KeystoreError(std::to_string(found.size()) + " objects match: " + what + "; name one by --pkcs11-id");
  CK_OBJECT_HANDLE private_key = found.front();

  std::vector<uint8_t> old_label = session.attribute(private_key, CKA_LABEL);
  if (auto ours = parse_label(old_label))
    throw KeystoreError(what + " is already a wiresign key (of zone " + ours->zone + ")");
  std::vector<uint8_t> id = session.attribute(private_key, CKA_ID);
  if (id.empty())
    throw KeystoreError(what + " has no CKA_ID; wiresign finds a key's public half and signs by CKA_ID");
  if (!session.bool_attribute(private_key, CKA_SIGN)) throw KeystoreError(what + " may not sign (CKA_SIGN is false)");
  dns::Algorithm alg = algorithm_of(session, private_key, what);
  if (alg != request.algorithm)
    throw KeystoreError(what + " is a key for " + algorithm_label(alg) + ", not " + algorithm_label(request.algorithm) +
                        " (the policy's algorithm, or --algorithm)");

  CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
  CK_ATTRIBUTE public_query[] = {attribute(CKA_CLASS, public_class), attribute(CKA_ID, id.data(), id.size())};
  std::vector<CK_OBJECT_HANDLE> publics = session.find_objects(public_query);
  if (publics.empty())
    throw KeystoreError(what + ": no public key object with its CKA_ID " + hex(id) +
                        " in the token; wiresign reads the DNSKEY from it");

  KeyInfo key;
  key.zone = request.zone;
  key.role = request.role;
  key.algorithm = alg;
  key.flags = dnskey_flags(request.role);
  key.public_key = read_public_key(session, publics.front(), alg);
  key.key_tag = compute_key_tag(dnskey_rdata(key));
  key.locator = "pkcs11:" + what;
  if (request.key_tag && *request.key_tag != key.key_tag)
    throw KeystoreError(what + ": as a " + std::string(key_role_name(request.role)) + " of " +
                        algorithm_label(alg) + " it has key tag " + std::to_string(key.key_tag) + ", not " +
                        std::to_string(*request.key_tag) + " (--key-tag): wrong key, role or algorithm; nothing changed");
  check_key_tag_free(existing, key);
  if (!session.bool_attribute(private_key, CKA_SENSITIVE) || session.bool_attribute(private_key, CKA_EXTRACTABLE))
    notes.push_back("warning: " + what + " is extractable or not sensitive: its secret can be read out of the "
                    "token. wiresign leaves that as it is (the other signer may rely on it); once the migration is "
                    "done, set CKA_EXTRACTABLE=false and CKA_SENSITIVE=true (neither can be turned back)");

  // The relabel is the adoption: list_keys finds keys by their label. The
  // CKA_ID stays, so a signer that finds keys by CKA_ID (OpenDNSSEC does)
  // still finds it while both run during the migration.
  const std::string label = make_label(request.zone, request.role, alg, std::time(nullptr));
  set_label(session, private_key, label, "C_SetAttributeValue (CKA_LABEL of the private key)");
  try {
    for (CK_OBJECT_HANDLE object : publics) set_label(session, object, label, "C_SetAttributeValue (CKA_LABEL of the public key)");
  } catch (...) {
    std::string old(old_label.begin(), old_label.end());
    CK_ATTRIBUTE restore = attribute(CKA_LABEL, old.data(), old.size());
    session.functions()->C_SetAttributeValue(session.handle(), private_key, &restore, 1);
    throw;
  }
  notes.push_back("relabelled the key objects with CKA_ID " + hex(id) + " from \"" +
                  std::string(old_label.begin(), old_label.end()) + "\" to \"" + label + "\"");
  key.locator = make_locator(token_label, label, id);
  return key;
}

}  // namespace wiresign::keystore
