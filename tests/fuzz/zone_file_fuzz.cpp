// Fuzzes the master-file reader (RFC 1035 §5): any text reads to records or
// a ZoneFileError naming a line; each record prints back to presentation
// form. The reader takes a path, so the input goes through a memfd.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "dns/name.h"
#include "dns/zone_reader.h"
#include "dns/zone_writer.h"
#include "fuzz/fuzz_targets.h"

namespace wiresign::fuzz {

int fuzz_zone_file(const uint8_t* data, size_t size) {
  int fd = memfd_create("zone", 0);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  static const dns::Name origin = dns::Name::from_text("example.test.");
  try {
    dns::ZoneReader reader("/proc/self/fd/" + std::to_string(fd), origin);
    dns::ParsedRecord record;
    std::string text;
    for (int count = 0; count < 100000 && reader.next(record); ++count) {
      text.clear();
      dns::append_record_text(text, {record.owner, record.type, record.rclass, record.ttl, record.rdata});
    }
  } catch (const dns::ZoneFileError&) {
  }
  close(fd);
  return 0;
}

}  // namespace wiresign::fuzz

WIRESIGN_FUZZ_TARGET(fuzz_zone_file)
