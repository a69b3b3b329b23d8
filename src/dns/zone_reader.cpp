// Master-file reading: we split the file into logical records (so errors
// name the line a record starts on, and TTLs are checked strictly), handle
// $ORIGIN and $TTL, refuse $INCLUDE, and let ldns parse each record.
#include "dns/zone_reader.h"

#include <ldns/ldns.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace wiresign::dns {

ZoneFileError::ZoneFileError(const std::string& file, int line, const std::string& what)
    : std::runtime_error(line > 0 ? file + ":" + std::to_string(line) + ": " + what
                                  : file + ": " + what),
      file_(file),
      line_(line) {}

namespace {

// RFC 1035 §5.1 TTL, also in BIND's unit form ("1h30m"); ldns would read "36x0" as 36.
bool valid_ttl_token(std::string_view token) {
  if (token.empty()) return false;
  bool digits = false;
  for (char c : token) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (std::strchr("smhdwSMHDW", c) && digits) {
      digits = false;
    } else {
      return false;
    }
  }
  return true;
}

bool is_class_token(std::string_view token) {
  return token == "IN" || token == "in" || token == "In" || token == "iN" || token == "CH" || token == "ch" ||
         token == "HS" || token == "hs" || token.rfind("CLASS", 0) == 0;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

}  // namespace

struct ZoneReader::State {
  FILE* file = nullptr;
  ldns_rdf* origin = nullptr;
  ldns_rdf* previous_owner = nullptr;
  uint32_t default_ttl = 3600;
  int line = 0;  // lines read so far
  ldns_buffer* buffer = nullptr;
  std::string logical;  // one record, parentheses and comments removed
  std::vector<char> read_buffer = std::vector<char>(1 << 20);
  size_t read_pos = 0, read_end = 0;

  ~State() {
    if (file) std::fclose(file);
    if (origin) ldns_rdf_deep_free(origin);
    if (previous_owner) ldns_rdf_deep_free(previous_owner);
    if (buffer) ldns_buffer_free(buffer);
  }

  int get() {
    if (read_pos == read_end) {
      read_end = std::fread(read_buffer.data(), 1, read_buffer.size(), file);
      read_pos = 0;
      if (read_end == 0) return EOF;
    }
    return static_cast<unsigned char>(read_buffer[read_pos++]);
  }

  // Reads one logical record (RFC 1035 §5.1: parentheses continue it over
  // lines, ';' starts a comment, quotes and backslashes protect both).
  // Returns false at the end of the file; `first_line` is where it starts.
  bool next_logical(int& first_line, const std::string& path) {
    logical.clear();
    int depth = 0;
    bool quoted = false;
    bool any = false;
    int paren_line = 0;
    for (;;) {
      int c = get();
      if (c == EOF) {
        if (quoted) throw ZoneFileError(path, line + 1, "syntax error: unterminated quoted string");
        if (depth) throw ZoneFileError(path, paren_line, "syntax error: '(' is never closed");
        if (!logical.empty()) ++line;
        return any;
      }
      if (c == '\n') {
        ++line;
        if (quoted) throw ZoneFileError(path, line, "syntax error: unterminated quoted string");
        if (depth == 0) {
          if (any) return true;
          logical.clear();
          continue;
        }
        logical.push_back(' ');
        continue;
      }
      if (!any && c != ' ' && c != '\t' && c != '\r' && c != ';') {
        any = true;
        first_line = line + 1;
      }
      if (c == '\\') {
        logical.push_back('\\');
        int next = get();
        if (next == EOF) continue;
        if (next == '\n') ++line;
        logical.push_back(static_cast<char>(next));
        continue;
      }
      if (quoted) {
        if (c == '"') quoted = false;
        logical.push_back(static_cast<char>(c));
        continue;
      }
      switch (c) {
        case '"':
          quoted = true;
          logical.push_back('"');
          break;
        case ';':
          while ((c = get()) != EOF && c != '\n') {}
          ++line;
          if (depth == 0 && any) return true;
          if (depth == 0) logical.clear();
          else logical.push_back(' ');
          if (c == EOF) return any;
          break;
        case '(':
          if (depth++ == 0) paren_line = line + 1;
          logical.push_back(' ');
          break;
        case ')':
          if (depth-- == 0) throw ZoneFileError(path, line + 1, "syntax error: ')' without '('");
          logical.push_back(' ');
          break;
        case '\r':
          logical.push_back(' ');
          break;
        default:
          logical.push_back(static_cast<char>(c));
      }
    }
  }
};

ZoneReader::ZoneReader(std::string path, const Name& origin)
    : path_(std::move(path)), state_(std::make_unique<State>()) {
  state_->file = std::fopen(path_.c_str(), "r");
  if (!state_->file) throw ZoneFileError(path_, 0, std::string("cannot open: ") + std::strerror(errno));
  state_->origin = ldns_dname_new_frm_data(origin.wire().size(), origin.wire().data());
  state_->previous_owner = ldns_rdf_clone(state_->origin);
  state_->buffer = ldns_buffer_new(512);
}

ZoneReader::~ZoneReader() = default;

bool ZoneReader::next(ParsedRecord& record) {
  State& st = *state_;
  int first_line = 0;
  while (st.next_logical(first_line, path_)) {
    std::string& text = st.logical;
    auto fields = split_fields(text);
    if (fields.empty()) continue;
    if (text[0] == '$') {
      if (fields[0] == "$ORIGIN" && fields.size() == 2) {
        std::string name(fields[1]);
        if (name.back() != '.') throw ZoneFileError(path_, first_line, "$ORIGIN needs an absolute name");
        ldns_rdf* origin = ldns_dname_new_frm_str(name.c_str());
        if (!origin) throw ZoneFileError(path_, first_line, "syntax error: bad $ORIGIN '" + name + "'");
        ldns_rdf_deep_free(st.origin);
        st.origin = origin;
      } else if (fields[0] == "$TTL" && fields.size() == 2) {
        if (!valid_ttl_token(fields[1]))
          throw ZoneFileError(path_, first_line, "syntax error: bad TTL '" + std::string(fields[1]) + "'");
        std::string ttl(fields[1]);
        const char* end = nullptr;
        st.default_ttl = ldns_str2period(ttl.c_str(), &end);
      } else if (fields[0] == "$INCLUDE") {
        throw ZoneFileError(path_, first_line, "$INCLUDE is not supported; give the signer one file");
      } else {
        throw ZoneFileError(path_, first_line, "syntax error: unknown or malformed directive " + std::string(fields[0]));
      }
      continue;
    }
    // A record starting with blank space belongs to the previous owner (RFC 1035 §5.1).
    bool blank_owner = text[0] == ' ' || text[0] == '\t';
    for (size_t f = blank_owner ? 0 : 1, seen = 0; f < fields.size() && seen < 2; ++f, ++seen) {
      char c = fields[f][0];
      if (c >= '0' && c <= '9') {
        if (!valid_ttl_token(fields[f]))
          throw ZoneFileError(path_, first_line, "syntax error: bad TTL '" + std::string(fields[f]) + "'");
      } else if (!is_class_token(fields[f])) {
        break;
      }
    }
    if (blank_owner) {
      char* previous = ldns_rdf2str(st.previous_owner);
      text.insert(0, previous);
      std::free(previous);
    }
    ldns_rr* rr = nullptr;
    ldns_status status = ldns_rr_new_frm_str(&rr, text.c_str(), st.default_ttl, st.origin, &st.previous_owner);
    if (status != LDNS_STATUS_OK)
      throw ZoneFileError(path_, first_line, std::string("syntax error: ") + ldns_get_errorstr_by_id(status));
    ldns_rr2canonical(rr);
    const ldns_rdf* owner = ldns_rr_owner(rr);
    record.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
    record.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
    record.rclass = static_cast<uint16_t>(ldns_rr_get_class(rr));
    record.ttl = ldns_rr_ttl(rr);
    ldns_buffer_clear(st.buffer);
    status = ldns_rr_rdata2buffer_wire(st.buffer, rr);
    ldns_rr_free(rr);
    if (status != LDNS_STATUS_OK)
      throw ZoneFileError(path_, first_line, std::string("cannot encode record: ") + ldns_get_errorstr_by_id(status));
    const uint8_t* data = ldns_buffer_begin(st.buffer);
    record.rdata.assign(data, data + ldns_buffer_position(st.buffer));
    record.line = first_line;
    return true;
  }
  return false;
}

}  // namespace wiresign::dns
