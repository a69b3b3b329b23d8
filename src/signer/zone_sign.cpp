// Whole-zone signing. One pass classifies names (RFC 4035 §2.2: only
// authoritative data is signed; at a cut only DS and the NSEC/NSEC3), the
// denial chain is built (RFC 4034 §4, RFC 5155 §7.1), and worker threads sign
// batches of names while the caller's thread writes finished batches in order.
#include "signer/zone_sign.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "dns/base_encoding.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "keystore/dnskey.h"
#include "keystore/keystore.h"
#include "signer/name_signer.h"
#include "signer/nsec3_chain.h"
#include "signer/nsec_chain.h"
#include "signer/serial.h"
#include "signer/zone_checks.h"

namespace wiresign::signer {
namespace {

using namespace detail;
using dns::rr_type::DS;
using dns::rr_type::NS;

// Walks the names in canonical order. Descendants of a name follow it
// directly, so a stack of open ancestors tells both whether a name lies
// below a cut and which of its ancestors do not exist (empty non-terminals).
void classify_names(const Zone& zone, bool want_ents, ZoneLayout& layout) {
  layout.kinds.assign(zone.name_count(), NameKind::authoritative);
  std::string_view cut;
  std::vector<std::string_view> open;  // ancestors of the previous name, apex first
  std::vector<std::string_view> missing;
  for (size_t i = 0; i < zone.name_count(); ++i) {
    std::string_view name = zone.name(i);
    if (!cut.empty() && dns::is_at_or_below(name, cut)) {
      layout.kinds[i] = NameKind::occluded;
      continue;
    }
    cut = {};
    auto records = zone.records_at(i);
    if (i != 0 && has_type(records, NS)) {
      layout.kinds[i] = has_type(records, DS) ? NameKind::secure_delegation : NameKind::insecure_delegation;
      cut = name;
    }
    if (!want_ents) continue;
    while (!open.empty() && !dns::is_at_or_below(name, open.back())) open.pop_back();
    if (!open.empty()) {
      missing.clear();
      for (auto p = dns::parent_of(name); p.size() > open.back().size(); p = dns::parent_of(p))
        missing.push_back(p);
      // Missing ancestors go on the stack too, so that a sibling below the
      // same empty non-terminal does not add it a second time.
      for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        layout.empty_non_terminals.emplace_back(*it);
        open.push_back(*it);  // a suffix of `name`: lives in the zone's arena
      }
    }
    open.push_back(name);
  }
}

void build_nsec3_chain(const Zone& zone, const SignOptions& options, ZoneLayout& layout) {
  const auto& policy = options.policy;
  std::vector<uint32_t> refs;
  for (size_t i = 0; i < zone.name_count(); ++i) {
    NameKind kind = layout.kinds[i];
    if (kind == NameKind::occluded) continue;
    // RFC 5155 §7.1: with opt-out, unsigned delegations may go without NSEC3.
    if (kind == NameKind::insecure_delegation && policy.opt_out) continue;
    refs.push_back(static_cast<uint32_t>(i));
  }
  for (size_t e = 0; e < layout.empty_non_terminals.size(); ++e) refs.push_back(kEntFlag | static_cast<uint32_t>(e));

  layout.nsec3.resize(refs.size());
  unsigned threads = std::max(1u, options.threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Nsec3Hasher hasher(options.nsec3_salt, policy.nsec3_iterations);
      for (size_t k = t; k < refs.size(); k += threads) {
        uint32_t ref = refs[k];
        std::string_view owner = (ref & kEntFlag) ? std::string_view(layout.empty_non_terminals[ref & ~kEntFlag])
                                                  : zone.name(ref);
        layout.nsec3[k] = {hasher.hash(owner), ref};
      }
    });
  }
  for (auto& w : workers) w.join();
  std::sort(layout.nsec3.begin(), layout.nsec3.end(),
            [](const Nsec3Entry& a, const Nsec3Entry& b) { return a.hash < b.hash; });
  for (size_t k = 1; k < layout.nsec3.size(); ++k)
    if (layout.nsec3[k].hash == layout.nsec3[k - 1].hash)
      throw std::runtime_error(zone.origin().to_text() + ": NSEC3 hash collision; choose another salt");
}

void add_stats(SignStats& into, const SignStats& from) {
  into.rrsets_signed += from.rrsets_signed;
  into.rrsigs += from.rrsigs;
  into.rrsigs_reused += from.rrsigs_reused;
  into.denial_records += from.denial_records;
}

}  // namespace

uint32_t prepare_zone(Zone& zone, const ZoneKeys& keys, const SignOptions& options, const std::string& file,
                      const WarningSink& warn) {
  const std::string& apex = zone.origin().wire();
  const uint32_t key_ttl = options.policy.dnskey_ttl_s;
  if (!keys.dnskeys.empty()) {
    for (const auto& key : keys.dnskeys) zone.add(apex, dns::rr_type::DNSKEY, key_ttl, keystore::dnskey_rdata(key));
  } else {
    for (const auto* list : {&keys.dnskey_signers, &keys.zone_signers})
      for (const auto& key : *list) zone.add(apex, dns::rr_type::DNSKEY, key_ttl, keystore::dnskey_rdata(key));
  }
  if (keys.cds_delete) {
    // RFC 8078 §4: the parent is to remove every DS.
    zone.add(apex, dns::rr_type::CDS, key_ttl, std::vector<uint8_t>{0, 0, 0, 0, 0});
    zone.add(apex, dns::rr_type::CDNSKEY, key_ttl, std::vector<uint8_t>{0, 0, 3, 0, 0});
  } else {
    for (const auto& key : keys.cds) {
      zone.add(apex, dns::rr_type::CDS, key_ttl, keystore::ds_rdata(key, dns::DigestType::sha256));
      zone.add(apex, dns::rr_type::CDNSKEY, key_ttl, keystore::dnskey_rdata(key));
    }
  }
  if (options.policy.nsec3 && !keys.serve_unsigned) {
    // Its TTL is the denial TTL, known once the SOA is found below.
    zone.add(apex, dns::rr_type::NSEC3PARAM, 0,
             make_nsec3param_rdata(options.policy.nsec3_iterations, options.nsec3_salt));
  }
  zone.finalize();
  check_zone(zone, file, warn);

  auto apex_records = zone.records_at(0);
  auto soa = std::find_if(apex_records.begin(), apex_records.end(),
                          [](const RecordEntry& r) { return r.type == dns::rr_type::SOA; });
  auto soa_rdata = zone.rdata(*soa);
  uint32_t base = dns::soa_serial(soa_rdata).value_or(0);  // check_zone found the SOA, read by ldns
  // Every re-sign must reach the secondaries, so count on from the published
  // serial when the input has not passed it (DESIGN.md promise 2).
  bool stuck = options.published_serial && !serial_newer(base, *options.published_serial);
  if (stuck && options.policy.serial != conf::SerialPolicy::keep) base = *options.published_serial;
  uint32_t serial = next_serial(options.policy.serial, base, options.now);
  // keep: the input's serial, unless it has not moved past the published one
  // and the operator allows counting on from there (resign-bump).
  if (stuck && options.policy.serial == conf::SerialPolicy::keep && options.policy.resign_bump)
    serial = *options.published_serial + 1;
  dns::set_soa_serial(soa_rdata, serial);
  for (auto& record : apex_records)
    if (record.type == dns::rr_type::NSEC3PARAM) record.ttl = denial_ttl(soa->ttl, soa_rdata);
  return serial;
}

SignStats sign_zone(const Zone& zone, const ZoneKeys& keys, const SignOptions& options, const ChunkSink& sink,
                    const ProgressSink& progress) {
  SignStats stats;
  stats.names = zone.name_count();
  stats.records_in = zone.record_count();

  ZoneLayout layout;
  classify_names(zone, options.policy.nsec3, layout);
  stats.empty_non_terminals = layout.empty_non_terminals.size();
  stats.occluded_names = static_cast<size_t>(std::count(layout.kinds.begin(), layout.kinds.end(), NameKind::occluded));
  for (const auto& r : zone.records_at(0))
    if (r.type == dns::rr_type::SOA) {
      auto rd = zone.rdata(r);
      layout.denial_ttl = denial_ttl(r.ttl, rd);
      stats.serial = dns::get_u32(rd.data() + dns::soa_serial_offset(rd));
    }
  const bool dnssec = !keys.serve_unsigned;
  if (options.policy.nsec3 && dnssec) build_nsec3_chain(zone, options, layout);

  std::vector<KeyUse> key_uses = collect_keys(zone, keys);
  if (key_uses.empty() && dnssec) throw std::runtime_error(zone.origin().to_text() + ": no keys to sign with");

  // Work units: every name in canonical order, then every NSEC3 record.
  const size_t units = zone.name_count() + layout.nsec3.size();
  constexpr size_t kBatch = 1024;
  const size_t batches = (units + kBatch - 1) / kBatch;
  const unsigned threads = std::max(1u, options.threads);
  const size_t window = threads * 4;  // batches signed ahead of the writer: bounds memory

  std::mutex mutex;
  std::condition_variable ready, space;
  std::vector<std::string> results(batches);
  std::vector<bool> done(batches, false);
  size_t next_batch = 0, written = 0;
  std::exception_ptr failure;
  bool stop = false;

  auto worker = [&] {
    SignStats local;
    try {
      NameSigner signer(zone, layout, key_uses, keys, options);
      for (;;) {
        size_t batch;
        {
          std::unique_lock lock(mutex);
          space.wait(lock, [&] { return stop || next_batch >= batches || next_batch < written + window; });
          if (stop || next_batch >= batches) break;
          batch = next_batch++;
        }
        BatchOutput output(options.output, kBatch * 400);
        size_t end = std::min(units, (batch + 1) * kBatch);
        for (size_t u = batch * kBatch; u < end; ++u) {
          if (u < zone.name_count()) signer.sign_name(u, output, local);
          else signer.sign_nsec3(u - zone.name_count(), output, local);
        }
        std::lock_guard lock(mutex);
        results[batch] = output.take();
        done[batch] = true;
        ready.notify_all();
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failure) failure = std::current_exception();
      stop = true;
      ready.notify_all();
      space.notify_all();
    }
    std::lock_guard lock(mutex);
    add_stats(stats, local);
  };

  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  try {
    for (size_t b = 0; b < batches; ++b) {
      std::string text;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return stop || done[b]; });
        if (stop) break;
        text = std::move(results[b]);
        results[b] = {};
      }
      sink(text);
      {
        std::lock_guard lock(mutex);
        written = b + 1;
      }
      space.notify_all();
      if (progress) progress({std::min(units, (b + 1) * kBatch), units});
    }
  } catch (...) {
    {
      std::lock_guard lock(mutex);
      stop = true;
      if (!failure) failure = std::current_exception();
    }
    space.notify_all();
  }
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return stats;
}

}  // namespace wiresign::signer
