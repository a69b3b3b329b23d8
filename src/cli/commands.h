// The `wiresign` subcommands. Each returns the process exit status:
// 0 done, 1 the input or the keys were bad, 2 the command line was wrong.
#pragma once
#include <string>
#include <vector>

namespace wiresign::cli {

int run_sign(const std::vector<std::string>& args);
int run_keys(const std::vector<std::string>& args);
// key import: a zone's existing keys into a policy's keystore, without a rollover.
int run_key_import(const std::vector<std::string>& args);
// status, reload, zone ...: the running daemon's control API.
int run_control(const std::string& command, const std::vector<std::string>& args);
// policy check FILE: the configuration lint, without a daemon.
int run_policy_check(const std::vector<std::string>& args);
// timeline ZONE: the key events a zone's policy will bring, without a daemon.
int run_timeline(const std::vector<std::string>& args);

}  // namespace wiresign::cli
