// Reads a master file (RFC 1035 §5) record by record, parsing each through ldns,
// into wire form with names lower-cased (RFC 4034 §6.2). Nothing of the
// zone is kept here: the caller decides what to store.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/name.h"

namespace wiresign::dns {

// "FILE:LINE: what is wrong"; line is 0 when the problem is the whole file.
class ZoneFileError : public std::runtime_error {
 public:
  ZoneFileError(const std::string& file, int line, const std::string& what);
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

struct ParsedRecord {
  std::string owner;           // wire, lower case
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;  // wire, names in RFC 4034 §6.2 canonical case
  int line = 0;                // the line the record starts on
};

class ZoneReader {
 public:
  // Throws ZoneFileError if the file cannot be opened.
  ZoneReader(std::string path, const Name& origin);
  ~ZoneReader();
  ZoneReader(const ZoneReader&) = delete;
  ZoneReader& operator=(const ZoneReader&) = delete;

  // Reads the next record into `record`; false at the end of the file.
  // Throws ZoneFileError naming the file and line on a syntax error.
  bool next(ParsedRecord& record);

  const std::string& path() const { return path_; }

 private:
  struct State;
  std::string path_;
  std::unique_ptr<State> state_;
};

}  // namespace wiresign::dns
