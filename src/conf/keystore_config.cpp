// The "keystores" section: where keys live (a directory of BIND-style files or
// a PKCS#11 token), and the token PIN, read from a file only the daemon may read.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "conf/config_reader.h"

namespace wiresign::conf {
namespace {

std::string trim(const std::string& text) {
  const char* space = " \t\r\n\f\v";
  auto first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// Reads the PIN from the first line of `path`. The PIN unlocks every key in
// the token, so a file others can read is refused rather than used.
void read_pin_file(Fields& fields, const YAML::Node& at, const std::string& path, std::string& pin) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    fields.problem(at, "pin-file " + path + ": " + std::strerror(errno));
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    fields.problem(at, "pin-file " + path + " is not a regular file");
    return;
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (st.st_mode & (S_IRGRP | S_IROTH)) {
    fields.problem(at, "pin-file " + path + " is readable by others (mode " + mode + "); chmod 600 it");
    return;
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    fields.problem(at, "pin-file " + path + " is writable by others (mode " + mode + "); chmod 600 it");
    return;
  }
  std::ifstream in(path);
  if (!in) {
    fields.problem(at, "pin-file " + path + " cannot be read: " + std::strerror(errno));
    return;
  }
  std::string line;
  std::getline(in, line);
  pin = trim(line);
  if (pin.empty()) fields.problem(at, "pin-file " + path + " has no PIN on its first line");
}

void read_pkcs11(ConfigReader& reader, Fields& fields, KeystoreConfig& keystore) {
  fields.allow_only({"name", "backend", "module", "token-label", "pin-file", "pin"});
  if (auto module = fields.string("module", true)) keystore.module = *module;
  if (auto label = fields.string("token-label", true)) keystore.token_label = *label;
  auto pin = fields.string("pin");
  auto pin_file = fields.string("pin-file");
  if (fields.has("pin") && fields.has("pin-file")) {
    fields.problem(*fields.find("pin"), "give either pin or pin-file, not both");
  } else if (!fields.has("pin") && !fields.has("pin-file")) {
    fields.problem("pin-file is required (or an inline pin)");
  } else if (pin) {
    keystore.pin = *pin;
  } else if (pin_file) {
    keystore.pin_file = reader.resolve_path(*pin_file);
    read_pin_file(fields, *fields.find("pin-file"), keystore.pin_file, keystore.pin);
  }
}

void read_keystore(ConfigReader& reader, const YAML::Node& node, size_t index) {
  Fields fields(reader.problems, node, "keystore #" + std::to_string(index + 1));
  KeystoreConfig keystore;
  keystore.where = reader.problems.where(node);
  auto name = fields.string("name", true);
  if (name) fields.set_context("keystore \"" + *name + "\"");

  auto backend = fields.string("backend", true);
  if (backend == "files") {
    keystore.backend = KeystoreConfig::Backend::files;
    fields.allow_only({"name", "backend", "directory"});
    if (auto directory = fields.string("directory", true)) keystore.directory = reader.resolve_path(*directory);
  } else if (backend == "pkcs11") {
    keystore.backend = KeystoreConfig::Backend::pkcs11;
    read_pkcs11(reader, fields, keystore);
  } else {
    if (backend)
      fields.problem(*fields.find("backend"), "backend \"" + *backend + "\" is not files or pkcs11");
    // Without a backend the other keys cannot be judged, but typos still can.
    fields.allow_only({"name", "backend", "directory", "module", "token-label", "pin-file", "pin"});
  }
  if (!name || !check_unique(fields, reader.config.keystores, *name, "keystore")) return;
  keystore.name = *name;
  reader.config.keystores.push_back(std::move(keystore));
}

}  // namespace

void read_keystores(ConfigReader& reader, const YAML::Node& section) {
  for_each_entry(reader, section, "keystores",
                 [&](const YAML::Node& node, size_t index) { read_keystore(reader, node, index); });
}

}  // namespace wiresign::conf
