// PKCS#11 key objects as wiresign names and reads them: the CKA_LABEL
// convention, RFC 7512 locators, and public keys in DNSKEY form
// (RFC 3110 §2, RFC 6605 §4, RFC 8080 §3; CKA_EC_POINT per Cryptoki 2.40 §2.3.3).
#include "keystore/pkcs11_objects.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "dns/zone_writer.h"
#include "keystore/algorithm.h"

namespace wiresign::keystore {

std::span<const uint8_t> ec_params(dns::Algorithm alg) {
  switch (alg) {
    case dns::Algorithm::ecdsap256sha256: return kP256Params;
    case dns::Algorithm::ecdsap384sha384: return kP384Params;
    case dns::Algorithm::ed25519: return kEd25519Params;
    case dns::Algorithm::rsasha256: break;
  }
  return {};
}

// CKA_EC_POINT is a DER OCTET STRING around the point (Cryptoki 2.40 §2.3.3);
// some modules return the bare point. Tell them apart by the expected size.
static std::vector<uint8_t> unwrap_ec_point(std::vector<uint8_t> point, size_t raw_size) {
  if (point.size() == raw_size + 2 && point[0] == 0x04 && point[1] == raw_size)
    return std::vector<uint8_t>(point.begin() + 2, point.end());
  if (point.size() == raw_size) return point;
  throw KeystoreError("CKA_EC_POINT has an unexpected size (" + std::to_string(point.size()) + " octets)");
}

static std::vector<uint8_t> without_leading_zeros(std::vector<uint8_t> number) {
  auto first = std::find_if(number.begin(), number.end(), [](uint8_t octet) { return octet != 0; });
  number.erase(number.begin(), first);
  return number;
}

std::vector<uint8_t> read_public_key(Pkcs11Session& session, CK_OBJECT_HANDLE object, dns::Algorithm alg) {
  switch (alg) {
    case dns::Algorithm::rsasha256:
      return rsa_public_key_field(without_leading_zeros(session.attribute(object, CKA_PUBLIC_EXPONENT)),
                                  without_leading_zeros(session.attribute(object, CKA_MODULUS)));
    case dns::Algorithm::ecdsap256sha256:
    case dns::Algorithm::ecdsap384sha384: {
      // SEC1 uncompressed point 04||X||Y; the DNSKEY keeps X||Y (RFC 6605 §4).
      size_t width = ecdsa_component_size(alg);
      std::vector<uint8_t> point = unwrap_ec_point(session.attribute(object, CKA_EC_POINT), 1 + 2 * width);
      if (point[0] != 0x04) throw KeystoreError("CKA_EC_POINT is not an uncompressed point");
      return std::vector<uint8_t>(point.begin() + 1, point.end());
    }
    case dns::Algorithm::ed25519:
      return unwrap_ec_point(session.attribute(object, CKA_EC_POINT), 32);
  }
  throw KeystoreError("unsupported algorithm");
}

static std::string utc_timestamp(std::time_t when) {
  std::string text;
  dns::append_timestamp(text, static_cast<uint32_t>(when));
  return text;
}

std::string make_label(const std::string& zone, KeyRole role, dns::Algorithm alg, std::time_t created) {
  return "wiresign " + zone + " " + std::string(key_role_name(role)) + " " +
         std::to_string(static_cast<unsigned>(alg)) + " " + utc_timestamp(created);
}

std::optional<KeyLabel> parse_label(const std::vector<uint8_t>& raw) {
  std::istringstream fields(std::string(raw.begin(), raw.end()));
  std::string tag, zone, role, algorithm;
  if (!(fields >> tag >> zone >> role >> algorithm) || tag != "wiresign") return std::nullopt;
  KeyLabel label;
  label.zone = zone;
  if (role == "ksk") label.role = KeyRole::ksk;
  else if (role == "zsk") label.role = KeyRole::zsk;
  else if (role == "csk") label.role = KeyRole::csk;
  else return std::nullopt;
  auto alg = dns::algorithm_from_name(algorithm);
  if (!alg) return std::nullopt;
  label.algorithm = *alg;
  return label;
}

std::string percent_encode(std::span<const uint8_t> value, bool encode_all) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t octet : value) {
    if (!encode_all && (std::isalnum(octet) || octet == '-' || octet == '.' || octet == '_' || octet == '~')) {
      out.push_back(static_cast<char>(octet));
    } else {
      out += '%';
      out += kHex[octet >> 4];
      out += kHex[octet & 15];
    }
  }
  return out;
}

std::string make_locator(const std::string& token, const std::string& label, std::span<const uint8_t> id) {
  std::vector<uint8_t> label_octets(label.begin(), label.end());
  std::vector<uint8_t> token_octets(token.begin(), token.end());
  return "pkcs11:token=" + percent_encode(token_octets, false) + ";object=" + percent_encode(label_octets, false) +
         ";id=" + percent_encode(id, true);
}

std::vector<uint8_t> id_from_locator(const std::string& locator) {
  size_t start = locator.find(";id=");
  if (locator.rfind("pkcs11:", 0) != 0 || start == std::string::npos)
    throw KeystoreError("not a PKCS#11 key locator: \"" + locator + "\"");
  std::string encoded = locator.substr(start + 4, locator.find(';', start + 4) - (start + 4));
  auto hex_value = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw KeystoreError("bad percent-encoding in PKCS#11 key locator \"" + locator + "\"");
  };
  std::vector<uint8_t> id;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      id.push_back(static_cast<uint8_t>(encoded[i]));
      continue;
    }
    if (i + 2 >= encoded.size()) hex_value('x');  // a '%' needs two hex digits after it
    id.push_back(static_cast<uint8_t>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2])));
    i += 2;
  }
  if (id.empty()) throw KeystoreError("PKCS#11 key locator without an id: \"" + locator + "\"");
  return id;
}

CK_OBJECT_HANDLE find_key_object(Pkcs11Session& session, CK_OBJECT_CLASS object_class,
                                 const std::vector<uint8_t>& id) {
  CK_ATTRIBUTE query[] = {attribute(CKA_CLASS, object_class), attribute(CKA_ID, id.data(), id.size())};
  std::vector<CK_OBJECT_HANDLE> objects = session.find_objects(query);
  if (objects.empty())
    throw KeystoreError(std::string("no ") + (object_class == CKO_PRIVATE_KEY ? "private" : "public") +
                        " key with id " + percent_encode(id, true) + " in the token");
  return objects.front();
}

std::vector<CK_ATTRIBUTE> dnssec_private_key_template(const std::string& label, const std::vector<uint8_t>& id) {
  static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  return {attribute(CKA_TOKEN, yes),     attribute(CKA_PRIVATE, yes),
          attribute(CKA_SENSITIVE, yes), attribute(CKA_EXTRACTABLE, no),
          attribute(CKA_SIGN, yes),      attribute(CKA_LABEL, label.data(), label.size()),
          attribute(CKA_ID, id.data(), id.size()),
          attribute(CKA_DECRYPT, no),    attribute(CKA_UNWRAP, no),
          attribute(CKA_SIGN_RECOVER, no), attribute(CKA_DERIVE, no)};
}

std::vector<CK_ATTRIBUTE> dnssec_public_key_template(const std::string& label, const std::vector<uint8_t>& id) {
  static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  return {attribute(CKA_TOKEN, yes),  attribute(CKA_PRIVATE, no), attribute(CKA_VERIFY, yes),
          attribute(CKA_ENCRYPT, no), attribute(CKA_WRAP, no),
          attribute(CKA_LABEL, label.data(), label.size()), attribute(CKA_ID, id.data(), id.size())};
}

}  // namespace wiresign::keystore
