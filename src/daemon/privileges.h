// Giving up root once the ports are bound: wiresignd sits on the network
// path of every zone it signs, so it runs the rest of its life as an
// unprivileged user (server.user), like named -u and knotd's server.user.
#pragma once
#include <sys/types.h>

#include <string>

#include "xfr/server.h"

namespace wiresign::daemon {

struct RunAs {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
};

// "user" (its primary group) or "user:group"; throws std::runtime_error
// naming what is unknown.
RunAs resolve_run_as(const std::string& spec);

// Switches the whole process (every thread) to `spec` for good when running
// as root: supplementary groups dropped, then group, then user, and checks
// that root cannot be regained. The state dir and its folders, when root
// made them, are handed to the user first so it can go on writing there.
// Without a spec, root gets a warning; a non-root process already running as
// the user goes on, any other refuses.
void drop_privileges(const std::string& spec, const std::string& state_dir, const xfr::LogSink& log);

}  // namespace wiresign::daemon
