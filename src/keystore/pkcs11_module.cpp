// Loading a PKCS#11 module (Cryptoki 2.40 §5.4, §5.5: C_Initialize,
// C_GetFunctionList), finding a token (§5.5 C_GetTokenInfo), sessions and
// login (§5.6), object search (§5.7); every failure names the call and CKR.
#include "keystore/pkcs11_module.h"

#include <dlfcn.h>

#include <cstdio>
#include <map>
#include <mutex>

#include "keystore/keystore.h"

namespace wiresign::keystore {
namespace {

struct ReturnName {
  CK_RV rv;
  const char* name;
};
#define WIRESIGN_CKR(code) {code, #code}
constexpr ReturnName kReturnNames[] = {
    WIRESIGN_CKR(CKR_OK), WIRESIGN_CKR(CKR_CANCEL), WIRESIGN_CKR(CKR_HOST_MEMORY),
    WIRESIGN_CKR(CKR_SLOT_ID_INVALID), WIRESIGN_CKR(CKR_GENERAL_ERROR), WIRESIGN_CKR(CKR_FUNCTION_FAILED),
    WIRESIGN_CKR(CKR_ARGUMENTS_BAD), WIRESIGN_CKR(CKR_NO_EVENT), WIRESIGN_CKR(CKR_NEED_TO_CREATE_THREADS),
    WIRESIGN_CKR(CKR_CANT_LOCK), WIRESIGN_CKR(CKR_ATTRIBUTE_READ_ONLY), WIRESIGN_CKR(CKR_ATTRIBUTE_SENSITIVE),
    WIRESIGN_CKR(CKR_ATTRIBUTE_TYPE_INVALID), WIRESIGN_CKR(CKR_ATTRIBUTE_VALUE_INVALID),
    WIRESIGN_CKR(CKR_ACTION_PROHIBITED), WIRESIGN_CKR(CKR_DATA_INVALID), WIRESIGN_CKR(CKR_DATA_LEN_RANGE),
    WIRESIGN_CKR(CKR_DEVICE_ERROR), WIRESIGN_CKR(CKR_DEVICE_MEMORY), WIRESIGN_CKR(CKR_DEVICE_REMOVED),
    WIRESIGN_CKR(CKR_FUNCTION_CANCELED), WIRESIGN_CKR(CKR_FUNCTION_NOT_PARALLEL),
    WIRESIGN_CKR(CKR_FUNCTION_NOT_SUPPORTED), WIRESIGN_CKR(CKR_KEY_HANDLE_INVALID),
    WIRESIGN_CKR(CKR_KEY_SIZE_RANGE), WIRESIGN_CKR(CKR_KEY_TYPE_INCONSISTENT),
    WIRESIGN_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED), WIRESIGN_CKR(CKR_KEY_UNEXTRACTABLE),
    WIRESIGN_CKR(CKR_MECHANISM_INVALID), WIRESIGN_CKR(CKR_MECHANISM_PARAM_INVALID),
    WIRESIGN_CKR(CKR_OBJECT_HANDLE_INVALID), WIRESIGN_CKR(CKR_OPERATION_ACTIVE),
    WIRESIGN_CKR(CKR_OPERATION_NOT_INITIALIZED), WIRESIGN_CKR(CKR_PIN_INCORRECT), WIRESIGN_CKR(CKR_PIN_INVALID),
    WIRESIGN_CKR(CKR_PIN_LEN_RANGE), WIRESIGN_CKR(CKR_PIN_EXPIRED), WIRESIGN_CKR(CKR_PIN_LOCKED),
    WIRESIGN_CKR(CKR_SESSION_CLOSED), WIRESIGN_CKR(CKR_SESSION_COUNT), WIRESIGN_CKR(CKR_SESSION_HANDLE_INVALID),
    WIRESIGN_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED), WIRESIGN_CKR(CKR_SESSION_READ_ONLY),
    WIRESIGN_CKR(CKR_SESSION_EXISTS), WIRESIGN_CKR(CKR_SESSION_READ_ONLY_EXISTS),
    WIRESIGN_CKR(CKR_SESSION_READ_WRITE_SO_EXISTS), WIRESIGN_CKR(CKR_SIGNATURE_INVALID),
    WIRESIGN_CKR(CKR_SIGNATURE_LEN_RANGE), WIRESIGN_CKR(CKR_TEMPLATE_INCOMPLETE),
    WIRESIGN_CKR(CKR_TEMPLATE_INCONSISTENT), WIRESIGN_CKR(CKR_TOKEN_NOT_PRESENT),
    WIRESIGN_CKR(CKR_TOKEN_NOT_RECOGNIZED), WIRESIGN_CKR(CKR_TOKEN_WRITE_PROTECTED),
    WIRESIGN_CKR(CKR_USER_ALREADY_LOGGED_IN), WIRESIGN_CKR(CKR_USER_NOT_LOGGED_IN),
    WIRESIGN_CKR(CKR_USER_PIN_NOT_INITIALIZED), WIRESIGN_CKR(CKR_USER_TYPE_INVALID),
    WIRESIGN_CKR(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), WIRESIGN_CKR(CKR_USER_TOO_MANY_TYPES),
    WIRESIGN_CKR(CKR_RANDOM_NO_RNG), WIRESIGN_CKR(CKR_DOMAIN_PARAMS_INVALID),
    WIRESIGN_CKR(CKR_CURVE_NOT_SUPPORTED), WIRESIGN_CKR(CKR_BUFFER_TOO_SMALL),
    WIRESIGN_CKR(CKR_INFORMATION_SENSITIVE), WIRESIGN_CKR(CKR_CRYPTOKI_NOT_INITIALIZED),
    WIRESIGN_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED), WIRESIGN_CKR(CKR_MUTEX_BAD),
    WIRESIGN_CKR(CKR_MUTEX_NOT_LOCKED), WIRESIGN_CKR(CKR_FIPS_SELF_TEST_FAILED),
    WIRESIGN_CKR(CKR_LIBRARY_LOAD_FAILED), WIRESIGN_CKR(CKR_PIN_TOO_WEAK), WIRESIGN_CKR(CKR_PUBLIC_KEY_INVALID),
    WIRESIGN_CKR(CKR_FUNCTION_REJECTED),
};
#undef WIRESIGN_CKR

// Modules loaded by this process, by path, with a count of users. Counted
// under one mutex (not with weak_ptr) so that a module cannot be finalised by
// its last user while another thread is initialising it again.
struct LoadedModule {
  Pkcs11Module* module;
  size_t users;
};
std::mutex registry_mutex;
std::map<std::string, LoadedModule>& registry() {
  static std::map<std::string, LoadedModule> modules;
  return modules;
}

// Deleter of the shared_ptrs handed out: the last one finalises the module.
struct ReleaseModule {
  void operator()(Pkcs11Module* module) const {
    std::lock_guard lock(registry_mutex);
    auto it = registry().find(module->path());
    if (it != registry().end() && --it->second.users > 0) return;
    if (it != registry().end()) registry().erase(it);
    delete module;
  }
};

std::string trimmed(const unsigned char* text, size_t size) {
  std::string out(reinterpret_cast<const char*>(text), size);
  out.erase(out.find_last_not_of(' ') + 1);
  return out;
}

}  // namespace

std::string ckr_name(CK_RV rv) {
  for (const auto& entry : kReturnNames)
    if (entry.rv == rv) return entry.name;
  char text[32];
  std::snprintf(text, sizeof text, "CKR_0x%08lX", static_cast<unsigned long>(rv));
  return text;
}

void check_rv(CK_RV rv, std::string_view call) {
  if (rv != CKR_OK) throw KeystoreError(std::string(call) + ": " + ckr_name(rv));
}

std::shared_ptr<Pkcs11Module> Pkcs11Module::open(const std::string& path) {
  std::lock_guard lock(registry_mutex);
  if (auto it = registry().find(path); it != registry().end()) {
    ++it->second.users;
    return std::shared_ptr<Pkcs11Module>(it->second.module, ReleaseModule{});
  }

  void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) throw KeystoreError(path + ": dlopen: " + ::dlerror());
  // From here on the library must be closed on every error path.
  struct Closer {
    void* library;
    ~Closer() {
      if (library) ::dlclose(library);
    }
  } closer{library};

  auto get_function_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
  if (!get_function_list) throw KeystoreError(path + ": no C_GetFunctionList: not a PKCS#11 module");
  CK_FUNCTION_LIST* functions = nullptr;
  check_rv(get_function_list(&functions), path + ": C_GetFunctionList");

  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) check_rv(rv, path + ": C_Initialize");

  auto* module = new Pkcs11Module(path, library, functions, rv != CKR_CRYPTOKI_ALREADY_INITIALIZED);
  closer.library = nullptr;
  registry()[path] = LoadedModule{module, 1};
  return std::shared_ptr<Pkcs11Module>(module, ReleaseModule{});
}

Pkcs11Module::Pkcs11Module(std::string path, void* library, CK_FUNCTION_LIST* functions, bool finalize)
    : path_(std::move(path)), library_(library), functions_(functions), finalize_(finalize) {}

Pkcs11Module::~Pkcs11Module() {
  // Runs under the registry lock (ReleaseModule).
  if (finalize_) functions_->C_Finalize(nullptr);
  ::dlclose(library_);
}

CK_SLOT_ID Pkcs11Module::find_token(const std::string& label) const {
  CK_ULONG count = 0;
  check_rv(functions_->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) check_rv(functions_->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList");
  slots.resize(count);
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (functions_->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    // Token labels are 32 octets padded with blanks (Cryptoki §3.2).
    if (trimmed(info.label, sizeof info.label) != label) continue;
    if (!(info.flags & CKF_TOKEN_INITIALIZED)) throw KeystoreError("token \"" + label + "\" is not initialised");
    return slot;
  }
  throw KeystoreError(path_ + ": no token labelled \"" + label + "\"");
}

Pkcs11Session::Pkcs11Session(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot)
    : module_(std::move(module)) {
  check_rv(module_->functions()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                               &handle_),
           "C_OpenSession");
}

Pkcs11Session::~Pkcs11Session() {
  // The handle may already be gone (token removed, C_CloseAllSessions); ignore.
  if (handle_ != CK_INVALID_HANDLE) module_->functions()->C_CloseSession(handle_);
}

void Pkcs11Session::login(const std::string& pin) {
  CK_RV rv = functions()->C_Login(handle_, CKU_USER,
                                  reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())), pin.size());
  if (rv != CKR_USER_ALREADY_LOGGED_IN) check_rv(rv, "C_Login");
}

std::vector<CK_OBJECT_HANDLE> Pkcs11Session::find_objects(std::span<CK_ATTRIBUTE> attributes) {
  check_rv(functions()->C_FindObjectsInit(handle_, attributes.data(), attributes.size()), "C_FindObjectsInit");
  std::vector<CK_OBJECT_HANDLE> objects;
  CK_RV rv = CKR_OK;
  for (;;) {
    CK_OBJECT_HANDLE batch[64];
    CK_ULONG count = 0;
    rv = functions()->C_FindObjects(handle_, batch, 64, &count);
    if (rv != CKR_OK || count == 0) break;
    objects.insert(objects.end(), batch, batch + count);
  }
  // Always end the search, or the session stays in "find" mode.
  CK_RV final_rv = functions()->C_FindObjectsFinal(handle_);
  check_rv(rv, "C_FindObjects");
  check_rv(final_rv, "C_FindObjectsFinal");
  return objects;
}

std::vector<uint8_t> Pkcs11Session::attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE query{type, nullptr, 0};
  check_rv(functions()->C_GetAttributeValue(handle_, object, &query, 1), "C_GetAttributeValue");
  std::vector<uint8_t> value(query.ulValueLen);
  query.pValue = value.data();
  check_rv(functions()->C_GetAttributeValue(handle_, object, &query, 1), "C_GetAttributeValue");
  value.resize(query.ulValueLen);
  return value;
}

bool Pkcs11Session::bool_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  std::vector<uint8_t> value = attribute(object, type);
  return value.size() == sizeof(CK_BBOOL) && value[0] == CK_TRUE;
}

}  // namespace wiresign::keystore
