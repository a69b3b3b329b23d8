// setgroups/setresgid/setresuid, in the order that leaves no way back.
#include "daemon/privileges.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace wiresign::daemon {
namespace {

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// The state dir and its direct subfolders that root owns become the user's
// (files in them are replaced by rename, so the folders are what matters).
void hand_over_state_dir(const std::string& state_dir, const RunAs& run_as, const xfr::LogSink& log) {
  std::vector<std::string> folders{state_dir};
  if (DIR* dir = ::opendir(state_dir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != ".." && entry->d_type == DT_DIR) folders.push_back(state_dir + "/" + name);
    }
    ::closedir(dir);
  }
  for (const auto& folder : folders) {
    struct stat st{};
    if (::lstat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0) continue;
    if (::chown(folder.c_str(), run_as.uid, run_as.gid) != 0)
      log("warning: cannot hand " + folder + " to user " + run_as.user + ": " + std::strerror(errno));
  }
}

}  // namespace

RunAs resolve_run_as(const std::string& spec) {
  RunAs run_as;
  std::string group;
  size_t colon = spec.find(':');
  run_as.user = spec.substr(0, colon);
  if (colon != std::string::npos) group = spec.substr(colon + 1);

  std::vector<char> buffer(16384);
  passwd user{};
  passwd* found_user = nullptr;
  int rc = ::getpwnam_r(run_as.user.c_str(), &user, buffer.data(), buffer.size(), &found_user);
  if (rc != 0 || !found_user)
    throw std::runtime_error("server.user: no user \"" + run_as.user + "\"" + (rc ? std::string(": ") + std::strerror(rc) : ""));
  run_as.uid = user.pw_uid;
  run_as.gid = user.pw_gid;
  if (!group.empty()) {
    ::group entry{};
    ::group* found_group = nullptr;
    rc = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found_group);
    if (rc != 0 || !found_group)
      throw std::runtime_error("server.user: no group \"" + group + "\"" + (rc ? std::string(": ") + std::strerror(rc) : ""));
    run_as.gid = entry.gr_gid;
  }
  return run_as;
}

void drop_privileges(const std::string& spec, const std::string& state_dir, const xfr::LogSink& log) {
  if (spec.empty()) {
    if (::geteuid() == 0)
      log("warning: running as root; set server.user (e.g. wiresign) so the daemon gives up root once its ports "
          "are bound");
    return;
  }
  RunAs run_as = resolve_run_as(spec);
  if (::geteuid() != 0) {
    if (::geteuid() == run_as.uid) return;  // started as the user already (systemd User=)
    throw std::runtime_error("server.user is \"" + spec + "\" but wiresignd runs as uid " +
                             std::to_string(::geteuid()) + " and cannot switch users without root");
  }
  hand_over_state_dir(state_dir, run_as, log);
  // Groups first: once the user id is gone, so is the right to change them.
  if (::setgroups(1, &run_as.gid) != 0) throw system_error("setgroups");
  if (::setresgid(run_as.gid, run_as.gid, run_as.gid) != 0) throw system_error("setresgid");
  if (::setresuid(run_as.uid, run_as.uid, run_as.uid) != 0) throw system_error("setresuid");
  if (run_as.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
    throw std::runtime_error("root could be regained after switching to \"" + spec + "\"; refusing to go on");
  log("running as user " + run_as.user + " (uid " + std::to_string(run_as.uid) + ", gid " +
      std::to_string(run_as.gid) + ")");
}

}  // namespace wiresign::daemon
