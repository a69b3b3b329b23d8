// Encoding change log entries (change_log.h).
#include "daemon/change_log.h"

#include <stdexcept>

#include "dns/record.h"

namespace wiresign::daemon {
namespace {

constexpr std::string_view kMagic = "wiresign-change-1\n";

void put(std::string& out, uint64_t v, int octets) {
  for (int shift = (octets - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put(out, bytes.size(), 8);
  out += bytes;
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  uint64_t get(int octets) {
    need(static_cast<size_t>(octets));
    uint64_t v = 0;
    for (int i = 0; i < octets; ++i) v = v << 8 | static_cast<uint8_t>(bytes_[pos_++]);
    return v;
  }
  std::string_view bytes() { return take(get(8)); }
  std::string_view take(uint64_t n) {
    need(n);
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  size_t pos() const { return pos_; }

 private:
  void need(uint64_t n) const {
    if (n > bytes_.size() - pos_) throw std::runtime_error("cut off");
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_change(const ChangeEntry& entry) {
  std::string payload;
  put(payload, entry.diff->from_serial, 4);
  put(payload, entry.diff->to_serial, 4);
  put(payload, entry.input_serial, 4);
  put(payload, entry.input_names, 8);
  put_bytes(payload, entry.input_digest);
  put(payload, entry.owners.size(), 4);
  for (const auto& owner : entry.owners) {
    put(payload, owner.hashed ? 1 : 0, 1);
    put_bytes(payload, owner.owner);
    put_bytes(payload, owner.records);
  }
  put_bytes(payload, entry.diff->removed);
  put_bytes(payload, entry.diff->added);
  std::string out(kMagic);
  put_bytes(out, payload);
  out += kMagic;
  return out;
}

std::vector<ChangeEntry> decode_changes(std::string_view bytes, bool& damaged) {
  std::vector<ChangeEntry> entries;
  damaged = false;
  Reader in(bytes);
  while (in.pos() < bytes.size()) {
    try {
      if (in.take(kMagic.size()) != kMagic) throw std::runtime_error("no magic");
      Reader payload(in.bytes());
      if (in.take(kMagic.size()) != kMagic) throw std::runtime_error("no trailer");
      ChangeEntry entry;
      auto diff = std::make_shared<xfr::ZoneDiff>();
      diff->from_serial = static_cast<uint32_t>(payload.get(4));
      diff->to_serial = static_cast<uint32_t>(payload.get(4));
      entry.input_serial = static_cast<uint32_t>(payload.get(4));
      entry.input_names = payload.get(8);
      entry.input_digest = payload.bytes();
      for (uint64_t n = payload.get(4); n > 0; --n) {
        xfr::OwnerRecords owner;
        owner.hashed = payload.get(1) != 0;
        owner.owner = payload.bytes();
        owner.records = payload.bytes();
        entry.owners.push_back(owner);
      }
      diff->removed = payload.bytes();
      diff->added = payload.bytes();
      diff->removed_count = xfr::split_records(diff->removed).size();
      diff->added_count = xfr::split_records(diff->added).size();
      entry.diff = std::move(diff);
      entries.push_back(std::move(entry));
    } catch (const std::exception&) {
      damaged = true;
      break;
    }
  }
  return entries;
}

}  // namespace wiresign::daemon
