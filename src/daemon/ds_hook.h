// The DS hook: an operator's command that submits a new KSK's DS to the
// parent, or withdraws an old one (RFC 7583 §3.3.4), run bounded in time
// with the DS and DNSKEY in its environment.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace wiresign::daemon {

struct DsHookRequest {
  std::string zone;    // "example.test."
  std::string action;  // "submit" (the DS should be added at the parent) or "withdraw" (removed)
  uint16_t key_tag = 0;
  unsigned algorithm = 0;
  std::string ds;      // DS records, presentation form, one per line
  std::string dnskey;  // the DNSKEY record, presentation form
};

struct DsHookResult {
  bool ok = false;       // exited with status 0 in time
  int exit_status = -1;  // when it exited on its own
  std::string output;    // the first 4 KiB of stdout and stderr, interleaved
  std::string error;     // when !ok: "exit status 3", "killed after 60 s", "killed by signal SEGV", "cannot start: ..."
};

// Runs `command` with /bin/sh -c, stdin /dev/null, in a process group of its
// own, with our environment plus WIRESIGN_ZONE, WIRESIGN_ACTION,
// WIRESIGN_KEY_TAG, WIRESIGN_ALGORITHM, WIRESIGN_DS and WIRESIGN_DNSKEY.
// After `timeout` the whole group gets SIGTERM, and SIGKILL 2 s later. When
// the shell exits, whatever it left running in its group is killed too: the
// hook is one command, not a way to start daemons. Returns within about
// timeout + 2 s; reaps what it started. Safe to call from any thread.
DsHookResult run_ds_hook(const std::string& command, const DsHookRequest& request, std::chrono::seconds timeout);

}  // namespace wiresign::daemon
