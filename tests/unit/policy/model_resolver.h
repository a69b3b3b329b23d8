// A model of every validating resolver at once, for the rollover tests: it
// keeps the history of the published DNSKEY RRset (with the keys that sign
// it), of the zone's signer set and of the parent's DS RRset, and checks that
// every combination a resolver could still hold in cache validates.
//
// The model, and why:
// - An RRset is cached with its RRSIGs, for at most its TTL, and a version
//   may still be served by a secondary (or parent server) for the propagation
//   delay after it was replaced: a version can be in a cache while
//   now < replaced + TTL + propagation delay.
// - When the signer set changes within an algorithm (a ZSK roll), the signer
//   replaces a zone RRset's signatures only when they come up for refresh,
//   so an RRset may carry the signatures of a signer set for up to
//   validity - refresh after that set was replaced (the sign delay). The
//   zone's first signing, an algorithm change and a key dropped at once
//   (compromised) sign everything in one version.
// - Validation (RFC 4035 §5, RFC 6840 §5.11): for every algorithm of a cached
//   DS RRset there must be a DS of that algorithm matching a cached DNSKEY that
//   signed the cached DNSKEY RRset, and every cached RRset must carry a
//   signature of that algorithm by a key of that DNSKEY RRset. This is the
//   strict reading (RFC 6840 asks validators for one working path only), so
//   a rollover that passes here works for old validators too. No DS: the
//   zone is insecure, which is not a failure.
// - Zone side (RFC 4035 §2.2): whatever is published at a moment has, for
//   every algorithm in the DNSKEY RRset, a signature of that algorithm over
//   the DNSKEY RRset and over every RRset.
#pragma once
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dns/algorithm.h"
#include "policy/key_state.h"

namespace wiresign::policy::test {

using KeySet = std::set<std::string>;

struct Version {
  UnixTime start = 0;
  std::optional<UnixTime> end;  // nullopt: still published
  KeySet keys;                  // DNSKEYs, signers, or DS
  KeySet signers;               // for the DNSKEY RRset: the keys that sign it
  bool gradual = false;         // zone signers: replaced RRset by RRset (the sign delay counts)
  std::optional<UnixTime> resigned;  // ... until a whole-zone signing replaced every RRset's signatures
  // How long after `end` RRsets may still carry these signers in the zone.
  uint32_t sign_delay(uint32_t full) const {
    if (!gradual || !end) return 0;
    if (resigned) return static_cast<uint32_t>(std::min<UnixTime>(full, *resigned - *end));
    return full;
  }
};

// The versions of one RRset in publication order.
class History {
 public:
  // Records what is published from `now` on; no-op if unchanged.
  // `gradual`: the version it replaces goes RRset by RRset; otherwise every
  // RRset is signed anew, ending what earlier versions left behind.
  void publish(UnixTime now, const KeySet& keys, const KeySet& signers = {}, bool gradual = false) {
    if (!versions_.empty() && !versions_.back().end && versions_.back().keys == keys &&
        versions_.back().signers == signers)
      return;
    if (!versions_.empty() && !versions_.back().end) {
      versions_.back().end = now;
      versions_.back().gradual = gradual;
    }
    if (!gradual) resign_all(now);
    versions_.push_back({now, std::nullopt, keys, signers, false, std::nullopt});
  }
  // Every RRset signed anew at `now`: what earlier versions left behind in the zone is gone.
  void resign_all(UnixTime now) {
    for (auto& v : versions_)
      if (v.gradual && !v.resigned) v.resigned = now;
  }
  // The versions some cache may hold at `now`: `window` is how long after
  // being replaced a version may still be held (a function of the version).
  template <class Window>
  std::vector<const Version*> cached(UnixTime now, Window window) const {
    std::vector<const Version*> out;
    for (const auto& v : versions_)
      if (v.start <= now && (!v.end || *v.end + window(v) > now)) out.push_back(&v);
    return out;
  }
  const Version* current() const { return versions_.empty() ? nullptr : &versions_.back(); }

 private:
  std::vector<Version> versions_;
};

struct ResolverTimings {
  uint32_t dnskey_ttl_s, zone_max_ttl_s, propagation_delay_s, sign_delay_s;
  uint32_t parent_ds_ttl_s, parent_propagation_delay_s;
};

class ModelResolver {
 public:
  explicit ModelResolver(ResolverTimings timings) : t_(timings) {}

  void know_key(const std::string& id, dns::Algorithm alg) { algorithm_[id] = alg; }
  History& dnskey_rrset() { return dnskey_; }
  History& zone_signers() { return zone_; }
  History& parent_ds() { return ds_; }

  // Every problem at `now`, as text; empty when all caches validate.
  std::vector<std::string> problems(UnixTime now) const {
    std::vector<std::string> out;
    auto dnskeys = dnskey_.cached(now, [&](const Version&) { return t_.dnskey_ttl_s + t_.propagation_delay_s; });
    auto signers = zone_.cached(now, [&](const Version& v) {
      return t_.zone_max_ttl_s + t_.propagation_delay_s + v.sign_delay(t_.sign_delay_s);
    });
    auto ds_sets =
        ds_.cached(now, [&](const Version&) { return t_.parent_ds_ttl_s + t_.parent_propagation_delay_s; });
    for (const Version* ds : ds_sets) {
      if (ds->keys.empty()) continue;  // insecure, not bogus
      for (const Version* dnskey : dnskeys)
        for (const Version* zone : signers)
          for (dns::Algorithm alg : algorithms(ds->keys)) {
            bool chain = false, data = false;
            for (const auto& id : ds->keys)
              if (algorithm_.at(id) == alg && dnskey->keys.count(id) && dnskey->signers.count(id)) chain = true;
            for (const auto& id : zone->keys)
              if (algorithm_.at(id) == alg && dnskey->keys.count(id)) data = true;
            if (!chain || !data)
              out.push_back("bogus for algorithm " + std::string(dns::algorithm_name(alg)) + ": DS " +
                            text(ds->keys) + " (from " + std::to_string(ds->start) + "), DNSKEY " +
                            text(dnskey->keys) + " signed by " + text(dnskey->signers) + " (from " +
                            std::to_string(dnskey->start) + "), RRset signed by " + text(zone->keys) + " (from " +
                            std::to_string(zone->start) + ")" + (chain ? "" : ": no DS->DNSKEY chain") +
                            (data ? "" : ": no zone signature"));
          }
    }
    // RFC 4035 §2.2 on what is published now; RRsets not yet re-signed still
    // carry the signer sets of the last sign delay.
    if (const Version* dnskey = dnskey_.current()) {
      for (dns::Algorithm alg : algorithms(dnskey->keys)) {
        bool signed_by_alg = false;
        for (const auto& id : dnskey->signers)
          if (algorithm_.at(id) == alg) signed_by_alg = true;
        if (!signed_by_alg)
          out.push_back("published DNSKEY RRset " + text(dnskey->keys) + " has no signature of algorithm " +
                        std::string(dns::algorithm_name(alg)));
        for (const Version* zone : zone_.cached(now, [&](const Version& v) {
               return v.sign_delay(t_.sign_delay_s);
             })) {
          bool zone_signed = false;
          for (const auto& id : zone->keys)
            if (algorithm_.at(id) == alg && dnskey->keys.count(id)) zone_signed = true;
          if (!zone_signed)
            out.push_back("published DNSKEY RRset " + text(dnskey->keys) + " has algorithm " +
                          std::string(dns::algorithm_name(alg)) + " but RRsets signed by " + text(zone->keys) +
                          " (from " + std::to_string(zone->start) + ") lack it");
        }
      }
    }
    return out;
  }

 private:
  std::set<dns::Algorithm> algorithms(const KeySet& keys) const {
    std::set<dns::Algorithm> out;
    for (const auto& id : keys) out.insert(algorithm_.at(id));
    return out;
  }
  static std::string text(const KeySet& keys) {
    std::string out = "{";
    for (const auto& id : keys) out += (out.size() > 1 ? "," : "") + id;
    return out + "}";
  }

  ResolverTimings t_;
  std::map<std::string, dns::Algorithm> algorithm_;
  History dnskey_, zone_, ds_;
};

}  // namespace wiresign::policy::test
