// Names of DNSSEC algorithms as configs, command lines and BIND key files spell them.
#include "dns/algorithm.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace wiresign::dns {
namespace {
struct AlgorithmNames {
  Algorithm alg;
  std::string_view name;
  std::string_view bind_name;
  std::string_view number;
};
constexpr std::array<AlgorithmNames, 4> kAlgorithms{{
    {Algorithm::rsasha256, "rsasha256", "RSASHA256", "8"},
    {Algorithm::ecdsap256sha256, "ecdsap256sha256", "ECDSAP256SHA256", "13"},
    {Algorithm::ecdsap384sha384, "ecdsap384sha384", "ECDSAP384SHA384", "14"},
    {Algorithm::ed25519, "ed25519", "ED25519", "15"},
}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  for (const auto& entry : kAlgorithms)
    if (iequals(entry.name, name) || entry.number == name) return entry.alg;
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm alg) {
  for (const auto& entry : kAlgorithms)
    if (entry.alg == alg) return entry.name;
  return "unknown";
}

std::string_view algorithm_bind_name(Algorithm alg) {
  for (const auto& entry : kAlgorithms)
    if (entry.alg == alg) return entry.bind_name;
  return "UNKNOWN";
}

}  // namespace wiresign::dns
