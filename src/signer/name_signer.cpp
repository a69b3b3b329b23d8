// Signing one name at a time (name_signer.h): RRsets, RRSIGs (fresh or kept
// from the version before), NSEC and NSEC3 records.
#include "signer/name_signer.h"

#include <algorithm>

#include "dns/base_encoding.h"
#include "dns/rr_type.h"
#include "dns/zone_writer.h"
#include "signer/nsec_chain.h"

namespace wiresign::signer::detail {

using dns::rr_type::DS;
using dns::rr_type::NS;

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

namespace {

bool signed_by_dnskey_signers(uint16_t type) {
  // RFC 7344 §4.1: CDS/CDNSKEY are signed like the DNSKEY RRset.
  return type == dns::rr_type::DNSKEY || type == dns::rr_type::CDS || type == dns::rr_type::CDNSKEY;
}

}  // namespace

void BatchOutput::add(const dns::RecordView& rr) {
  if (form_ == OutputForm::text) {
    dns::append_record_text(bytes_, rr);
  } else {
    wire_.clear();
    dns::append_record_wire(wire_, rr);
    bytes_.append(reinterpret_cast<const char*>(wire_.data()), wire_.size());
  }
}

NameSigner::NameSigner(const Zone& zone, const ZoneLayout& layout, const std::vector<KeyUse>& keys,
                       const ZoneKeys& zone_keys, const SignOptions& options)
    : zone_(zone), layout_(layout), keys_(keys), zone_keys_(zone_keys), options_(options) {
  for (const auto& use : keys_) contexts_.push_back(zone_keys.keystore->open_signer(use.key.info));
  for (const auto& info : zone_keys.retiring_zone_signers) retiring_.push_back({info, zone.origin().wire()});
}

void NameSigner::sign_name(size_t index, BatchOutput& out, SignStats& stats) {
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

void NameSigner::sign_nsec3(size_t k, BatchOutput& out, SignStats& stats) {
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

void NameSigner::emit_rrset(std::string_view owner, std::span<const RecordEntry> records, uint16_t type, NameKind kind,
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

void NameSigner::emit_nsec(size_t index, NameKind kind, BatchOutput& out, SignStats& stats) {
  std::string_view next_name;
  if (!layout_.nsec_next.empty()) {
    next_name = layout_.nsec_next[index];
  } else {
    size_t next = index + 1;
    while (next < zone_.name_count() && layout_.kinds[next] == NameKind::occluded) ++next;
    next_name = next < zone_.name_count() ? zone_.name(next) : zone_.name(0);
  }
  bitmap_types(zone_.records_at(index), kind, true, types_);
  make_nsec_rdata(rdata_, next_name, types_);
  emit_generated(zone_.name(index), dns::rr_type::NSEC, out, stats);
}

void NameSigner::emit_generated(std::string_view owner, uint16_t type, BatchOutput& out, SignStats& stats) {
  out.add({owner, type, dns::kClassIN, layout_.denial_ttl, rdata_});
  ++stats.denial_records;
  single_[0] = rdata_;
  sign_and_emit({owner, type, layout_.denial_ttl, single_}, out, stats);
}

void NameSigner::sign_and_emit(const RRsetToSign& rrset, BatchOutput& out, SignStats& stats) {
  bool by_dnskey_signers = signed_by_dnskey_signers(rrset.type);
  auto window = policy::signature_window(options_.policy, options_.now, rrset_spread(rrset.owner, rrset.type));
  reusable_.clear();
  if (options_.reuse) options_.reuse->signatures_over(rrset, reusable_);
  retiring_kept_.assign(retiring_.size(), false);
  for (size_t k = 0; k < keys_.size(); ++k) {
    if (!(by_dnskey_signers ? keys_[k].signs_dnskey : keys_[k].signs_zone)) continue;
    ++stats.rrsigs;
    if (auto kept = reusable_signature(keys_[k].key)) {
      out.add({rrset.owner, dns::rr_type::RRSIG, dns::kClassIN, rrset.ttl, *kept});
      ++stats.rrsigs_reused;
      continue;
    }
    if (!by_dnskey_signers && !retiring_.empty())
      if (auto kept = retiring_signature(keys_[k].key)) {
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
std::optional<std::span<const uint8_t>> NameSigner::reusable_signature(const SignerKey& key) const {
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

std::optional<std::span<const uint8_t>> NameSigner::retiring_signature(const SignerKey& key) {
  for (size_t r = 0; r < retiring_.size(); ++r) {
    if (retiring_kept_[r] || retiring_[r].info.algorithm != key.info.algorithm) continue;
    if (auto kept = reusable_signature(retiring_[r])) {
      retiring_kept_[r] = true;
      return kept;
    }
  }
  return std::nullopt;
}

void NameSigner::sign_nsec3_record(std::string_view owner, std::span<const uint8_t> rdata, BatchOutput& out,
                                   SignStats& stats) {
  rdata_.assign(rdata.begin(), rdata.end());
  emit_generated(owner, dns::rr_type::NSEC3, out, stats);
}

}  // namespace wiresign::signer::detail
