// RAII wrappers around a PKCS#11 (Cryptoki 2.40) module: loading and
// initialising the library once per process, finding a token by label, and
// sessions logged in as the user. Private to keystore/.
#pragma once
#include <p11-kit/pkcs11.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wiresign::keystore {

// "CKR_PIN_INCORRECT" for CKR_PIN_INCORRECT; "CKR_0x..." for unknown codes.
std::string ckr_name(CK_RV rv);
// Throws KeystoreError("C_Sign: CKR_SESSION_HANDLE_INVALID") unless rv is CKR_OK.
void check_rv(CK_RV rv, std::string_view call);

// A loaded, initialised module. PKCS#11 allows one C_Initialize per process,
// so every keystore naming the same library path shares one instance; the
// module is finalised and unloaded when the last user lets go. Initialised
// with CKF_OS_LOCKING_OK so that threads may use their own sessions at once.
class Pkcs11Module {
 public:
  static std::shared_ptr<Pkcs11Module> open(const std::string& path);
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  CK_FUNCTION_LIST* functions() const { return functions_; }
  const std::string& path() const { return path_; }
  // The slot holding the initialised token labelled `label`; throws if none.
  CK_SLOT_ID find_token(const std::string& label) const;

 private:
  Pkcs11Module(std::string path, void* library, CK_FUNCTION_LIST* functions, bool finalize);

  std::string path_;
  void* library_;
  CK_FUNCTION_LIST* functions_;
  bool finalize_;  // false when someone else in the process initialised it
};

// A read-write session on one slot, closed on destruction. Not thread-safe:
// PKCS#11 sessions must not be used by two threads at once.
class Pkcs11Session {
 public:
  Pkcs11Session(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  // C_Login as CKU_USER. The login state belongs to the application, not the
  // session, so CKR_USER_ALREADY_LOGGED_IN counts as success.
  void login(const std::string& pin);

  CK_SESSION_HANDLE handle() const { return handle_; }
  CK_FUNCTION_LIST* functions() const { return module_->functions(); }

  // All objects matching `attributes` (C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal).
  std::vector<CK_OBJECT_HANDLE> find_objects(std::span<CK_ATTRIBUTE> attributes);
  // One attribute's value (size query, then value); throws on any error.
  std::vector<uint8_t> attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  bool bool_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

 private:
  std::shared_ptr<Pkcs11Module> module_;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
};

}  // namespace wiresign::keystore
