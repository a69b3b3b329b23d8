// Master-file reading through ldns_rr_new_frm_fp_l: $ORIGIN and $TTL are
// handled by ldns; $INCLUDE is refused (a signer input must be one file).
#include "dns/zone_reader.h"

#include <ldns/ldns.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wiresign::dns {

ZoneFileError::ZoneFileError(const std::string& file, int line, const std::string& what)
    : std::runtime_error(line > 0 ? file + ":" + std::to_string(line) + ": " + what
                                  : file + ": " + what),
      file_(file),
      line_(line) {}

struct ZoneReader::State {
  FILE* file = nullptr;
  ldns_rdf* origin = nullptr;
  ldns_rdf* previous_owner = nullptr;
  uint32_t default_ttl = 3600;
  int line = 0;
  ldns_buffer* buffer = nullptr;

  ~State() {
    if (file) std::fclose(file);
    if (origin) ldns_rdf_deep_free(origin);
    if (previous_owner) ldns_rdf_deep_free(previous_owner);
    if (buffer) ldns_buffer_free(buffer);
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
  for (;;) {
    if (std::feof(state_->file)) return false;
    ldns_rr* rr = nullptr;
    ldns_status status = ldns_rr_new_frm_fp_l(&rr, state_->file, &state_->default_ttl,
                                              &state_->origin, &state_->previous_owner,
                                              &state_->line);
    switch (status) {
      case LDNS_STATUS_OK:
        break;
      case LDNS_STATUS_SYNTAX_EMPTY:
      case LDNS_STATUS_SYNTAX_TTL:
      case LDNS_STATUS_SYNTAX_ORIGIN:
        continue;
      case LDNS_STATUS_SYNTAX_INCLUDE:
        throw ZoneFileError(path_, state_->line, "$INCLUDE is not supported; give the signer one file");
      default:
        if (std::feof(state_->file) && status == LDNS_STATUS_SYNTAX_ERR && rr == nullptr) {
          // ldns reports trailing white space or comments at EOF as a syntax error.
          return false;
        }
        throw ZoneFileError(path_, state_->line,
                            std::string("syntax error: ") + ldns_get_errorstr_by_id(status));
    }
    ldns_rr2canonical(rr);
    const ldns_rdf* owner = ldns_rr_owner(rr);
    record.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
    record.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
    record.rclass = static_cast<uint16_t>(ldns_rr_get_class(rr));
    record.ttl = ldns_rr_ttl(rr);
    ldns_buffer_clear(state_->buffer);
    status = ldns_rr_rdata2buffer_wire(state_->buffer, rr);
    ldns_rr_free(rr);
    if (status != LDNS_STATUS_OK)
      throw ZoneFileError(path_, state_->line, std::string("cannot encode record: ") + ldns_get_errorstr_by_id(status));
    const uint8_t* data = ldns_buffer_begin(state_->buffer);
    record.rdata.assign(data, data + ldns_buffer_position(state_->buffer));
    record.line = state_->line;
    return true;
  }
}

}  // namespace wiresign::dns
