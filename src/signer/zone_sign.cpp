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
#include "signer/nsec3_chain.h"
#include "signer/nsec_chain.h"
#include "signer/serial.h"
#include "signer/zone_checks.h"

namespace wiresign::signer {
namespace {

using dns::rr_type::DS;
using dns::rr_type::NS;

enum class NameKind : uint8_t { authoritative, secure_delegation, insecure_delegation, occluded };

constexpr uint32_t kEntFlag = 0x80000000u;

struct Nsec3Entry {
  Nsec3Hash hash;
  uint32_t ref;  // a name index, or kEntFlag | index into the empty non-terminals
};

struct ZoneLayout {
  std::vector<NameKind> kinds;
  std::vector<std::string> empty_non_terminals;  // wire; only needed for NSEC3
  std::vector<Nsec3Entry> nsec3;                 // sorted by hash
  uint32_t denial_ttl = 0;
};

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

// Authoritative types at a name as the NSEC/NSEC3 bitmap lists them (RFC 4035 §2.3).
void bitmap_types(std::span<const RecordEntry> records, NameKind kind, bool nsec, std::vector<uint16_t>& types) {
  types.clear();
  if (kind == NameKind::authoritative) {
    for (const auto& r : records)
      if (types.empty() || types.back() != r.type) types.push_back(r.type);
    types.push_back(dns::rr_type::RRSIG);
  } else if (kind != NameKind::occluded) {
    types.push_back(NS);
    if (kind == NameKind::secure_delegation) types.push_back(DS);
    if (kind == NameKind::secure_delegation || nsec) types.push_back(dns::rr_type::RRSIG);
  }
  if (nsec) types.push_back(dns::rr_type::NSEC);
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
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

struct KeyUse {
  SignerKey key;
  bool signs_dnskey = false;
  bool signs_zone = false;
};

std::vector<KeyUse> collect_keys(const Zone& zone, const ZoneKeys& keys) {
  std::vector<KeyUse> uses;
  auto add = [&](const keystore::KeyInfo& info, bool dnskey_role) {
    for (auto& use : uses) {
      if (use.key.info.locator == info.locator && use.key.info.key_tag == info.key_tag) {
        (dnskey_role ? use.signs_dnskey : use.signs_zone) = true;
        return;
      }
    }
    KeyUse use{{info, zone.origin().wire()}, dnskey_role, !dnskey_role};
    uses.push_back(std::move(use));
  };
  for (const auto& k : keys.dnskey_signers) add(k, true);
  for (const auto& k : keys.zone_signers) add(k, false);
  return uses;
}

bool signed_by_dnskey_signers(uint16_t type) {
  // RFC 7344 §4.1: CDS/CDNSKEY are signed like the DNSKEY RRset.
  return type == dns::rr_type::DNSKEY || type == dns::rr_type::CDS || type == dns::rr_type::CDNSKEY;
}

// Where a worker puts the records of one batch: master-file text, or the
// uncompressed wire form of each record one after another.
class BatchOutput {
 public:
  BatchOutput(OutputForm form, size_t reserve) : form_(form) { bytes_.reserve(reserve); }
  void add(const dns::RecordView& rr) {
    if (form_ == OutputForm::text) {
      dns::append_record_text(bytes_, rr);
    } else {
      wire_.clear();
      dns::append_record_wire(wire_, rr);
      bytes_.append(reinterpret_cast<const char*>(wire_.data()), wire_.size());
    }
  }
  std::string take() { return std::move(bytes_); }

 private:
  OutputForm form_;
  std::string bytes_;
  std::vector<uint8_t> wire_;
};

// Everything one worker thread owns: its signing contexts and buffers.
class BatchSigner {
 public:
  BatchSigner(const Zone& zone, const ZoneLayout& layout, const std::vector<KeyUse>& keys,
              const ZoneKeys& zone_keys, const SignOptions& options)
      : zone_(zone), layout_(layout), keys_(keys), zone_keys_(zone_keys), options_(options) {
    for (const auto& use : keys_) contexts_.push_back(zone_keys.keystore->open_signer(use.key.info));
  }

  void sign_name(size_t index, BatchOutput& out, SignStats& stats) {
    auto records = zone_.records_at(index);
    NameKind kind = layout_.kinds[index];
    std::string_view owner = zone_.name(index);
    if (index == 0) {
      // The SOA leads the apex, as master files conventionally start with it.
      emit_rrset(owner, records, dns::rr_type::SOA, kind, out, stats);
      for (size_t b = 0; b < records.size();) {
        uint16_t type = records[b].type;
        if (type != dns::rr_type::SOA) emit_rrset(owner, records, type, kind, out, stats);
        while (b < records.size() && records[b].type == type) ++b;
      }
    } else {
      for (size_t b = 0; b < records.size();) {
        uint16_t type = records[b].type;
        emit_rrset(owner, records, type, kind, out, stats);
        while (b < records.size() && records[b].type == type) ++b;
      }
    }
    if (!options_.policy.nsec3 && kind != NameKind::occluded && !zone_keys_.serve_unsigned)
      emit_nsec(index, kind, out, stats);
  }

  void sign_nsec3(size_t k, BatchOutput& out, SignStats& stats) {
    const auto& chain = layout_.nsec3;
    const Nsec3Entry& entry = chain[k];
    const Nsec3Entry& next = chain[(k + 1) % chain.size()];
    if (entry.ref & kEntFlag) {
      types_.clear();
    } else {
      bitmap_types(zone_.records_at(entry.ref), layout_.kinds[entry.ref], false, types_);
    }
    const auto& policy = options_.policy;
    make_nsec3_rdata(rdata_, policy.opt_out, policy.nsec3_iterations, options_.nsec3_salt, next.hash, types_);
    owner_.clear();
    owner_.push_back(32);  // base32hex of a 20-octet SHA-1 hash
    dns::append_base32hex(owner_, entry.hash);
    owner_ += zone_.origin().wire();
    emit_generated(owner_, dns::rr_type::NSEC3, out, stats);
  }

 private:
  void emit_rrset(std::string_view owner, std::span<const RecordEntry> records, uint16_t type, NameKind kind,
                  BatchOutput& out, SignStats& stats) {
    rdatas_.clear();
    uint32_t ttl = 0;
    for (const auto& r : records) {
      if (r.type != type) continue;
      out.add(zone_.view(r));
      rdatas_.push_back(zone_.rdata(r));
      ttl = r.ttl;
    }
    if (rdatas_.empty()) return;
    bool is_signed = (kind == NameKind::authoritative || (kind != NameKind::occluded && type == DS)) &&
                     !zone_keys_.serve_unsigned;
    if (is_signed) sign_and_emit({owner, type, ttl, rdatas_}, out, stats);
  }

  void emit_nsec(size_t index, NameKind kind, BatchOutput& out, SignStats& stats) {
    size_t next = index + 1;
    while (next < zone_.name_count() && layout_.kinds[next] == NameKind::occluded) ++next;
    std::string_view next_name = next < zone_.name_count() ? zone_.name(next) : zone_.name(0);
    bitmap_types(zone_.records_at(index), kind, true, types_);
    make_nsec_rdata(rdata_, next_name, types_);
    emit_generated(zone_.name(index), dns::rr_type::NSEC, out, stats);
  }

  void emit_generated(std::string_view owner, uint16_t type, BatchOutput& out, SignStats& stats) {
    out.add({owner, type, dns::kClassIN, layout_.denial_ttl, rdata_});
    ++stats.denial_records;
    single_[0] = rdata_;
    sign_and_emit({owner, type, layout_.denial_ttl, single_}, out, stats);
  }

  void sign_and_emit(const RRsetToSign& rrset, BatchOutput& out, SignStats& stats) {
    bool by_dnskey_signers = signed_by_dnskey_signers(rrset.type);
    auto window = policy::signature_window(options_.policy, options_.now, rrset_spread(rrset.owner, rrset.type));
    reusable_.clear();
    if (options_.reuse) options_.reuse->signatures_over(rrset, reusable_);
    for (size_t k = 0; k < keys_.size(); ++k) {
      if (!(by_dnskey_signers ? keys_[k].signs_dnskey : keys_[k].signs_zone)) continue;
      ++stats.rrsigs;
      if (auto kept = reusable_signature(keys_[k].key)) {
        out.add({rrset.owner, dns::rr_type::RRSIG, dns::kClassIN, rrset.ttl, *kept});
        ++stats.rrsigs_reused;
        continue;
      }
      make_rrsig(rrset, keys_[k].key, *contexts_[k], window, scratch_, rrsig_);
      out.add({rrset.owner, dns::rr_type::RRSIG, dns::kClassIN, rrset.ttl, rrsig_});
    }
    ++stats.rrsets_signed;
  }

  // An offered RRSIG by `key` that is valid now and not due for refresh
  // (RDATA: type covered, algorithm, labels, original TTL, expiration,
  // inception, key tag, signer name, signature — RFC 4034 §3.1).
  std::optional<std::span<const uint8_t>> reusable_signature(const SignerKey& key) const {
    for (auto rdata : reusable_) {
      if (rdata.size() < 18 + key.signer_name.size()) continue;
      uint32_t expiration = dns::get_u32(rdata.data() + 8), inception = dns::get_u32(rdata.data() + 12);
      if (rdata[2] != static_cast<uint8_t>(key.info.algorithm) || dns::get_u16(rdata.data() + 16) != key.info.key_tag)
        continue;
      if (std::string_view(reinterpret_cast<const char*>(rdata.data() + 18), key.signer_name.size()) != key.signer_name)
        continue;
      if (dns::serial_newer(inception, options_.now) || !dns::serial_newer(expiration, options_.reuse_until)) continue;
      return rdata;
    }
    return std::nullopt;
  }

  const Zone& zone_;
  const ZoneLayout& layout_;
  const std::vector<KeyUse>& keys_;
  const ZoneKeys& zone_keys_;
  const SignOptions& options_;
  std::vector<std::unique_ptr<keystore::SigningContext>> contexts_;
  SigningScratch scratch_;
  std::vector<uint8_t> rrsig_;
  std::vector<uint8_t> rdata_;
  std::vector<uint16_t> types_;
  std::vector<std::span<const uint8_t>> rdatas_;
  std::vector<std::span<const uint8_t>> reusable_;
  std::span<const uint8_t> single_[1];
  std::string owner_;
};

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
  size_t pos = dns::soa_serial_offset(soa_rdata);
  uint32_t base = dns::get_u32(soa_rdata.data() + pos);
  // Every re-sign must reach the secondaries, so count on from the published
  // serial when the input has not passed it (DESIGN.md promise 2).
  bool stuck = options.published_serial && !serial_newer(base, *options.published_serial);
  if (stuck && options.policy.serial != conf::SerialPolicy::keep) base = *options.published_serial;
  uint32_t serial = next_serial(options.policy.serial, base, options.now);
  // keep: the input's serial, unless it has not moved past the published one
  // and the operator allows counting on from there (resign-bump).
  if (stuck && options.policy.serial == conf::SerialPolicy::keep && options.policy.resign_bump)
    serial = *options.published_serial + 1;
  soa_rdata[pos] = static_cast<uint8_t>(serial >> 24);
  soa_rdata[pos + 1] = static_cast<uint8_t>(serial >> 16);
  soa_rdata[pos + 2] = static_cast<uint8_t>(serial >> 8);
  soa_rdata[pos + 3] = static_cast<uint8_t>(serial);
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
      BatchSigner signer(zone, layout, key_uses, keys, options);
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
