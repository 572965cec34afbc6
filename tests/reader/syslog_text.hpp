// An RFC 5424 reader for tests of the syslog sink, written from the RFC
// rather than from the sink: the header's fields, the SD-PARAMs of one
// SD-ELEMENT with their escapes undone ('\"', '\\', '\]', and the sink's
// '\u00XX' for a control character), and MSG. Test only.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringtail::reader::testing {

using SdParams = std::vector<std::pair<std::string, std::string>>;

// The SD-PARAMs of "[ID name="value" ...]" (the whole STRUCTURED-DATA of one
// element); false with `error` set when it does not follow the grammar.
inline bool parse_sd_element(std::string_view sd, std::string* id, SdParams* params, std::string* error) {
  if (sd.size() < 2 || sd.front() != '[' || sd.back() != ']') {
    *error = "not one [...] element: " + std::string(sd);
    return false;
  }
  size_t at = 1;
  const size_t id_end = sd.find_first_of(" ]", at);
  *id = std::string(sd.substr(at, id_end - at));
  at = id_end;
  while (sd[at] == ' ') {
    ++at;
    const size_t eq = sd.find('=', at);
    if (eq == std::string_view::npos || eq + 1 >= sd.size() || sd[eq + 1] != '"') {
      *error = "a parameter without =\"";
      return false;
    }
    std::string name(sd.substr(at, eq - at));
    std::string value;
    at = eq + 2;
    for (;;) {
      if (at >= sd.size()) {
        *error = "an unterminated value";
        return false;
      }
      const char c = sd[at];
      if (c == '"') break;
      if (c == ']') {
        *error = "an unescaped ']' in a value";
        return false;
      }
      if (c == '\\' && at + 1 < sd.size()) {
        const char next = sd[at + 1];
        if (next == '"' || next == '\\' || next == ']') {
          value.push_back(next);
          at += 2;
          continue;
        }
        if (next == 'u' && at + 5 < sd.size() && sd.substr(at + 2, 2) == "00") {
          value.push_back(static_cast<char>(std::strtol(std::string(sd.substr(at + 4, 2)).c_str(), nullptr, 16)));
          at += 6;
          continue;
        }
      }
      value.push_back(c);
      ++at;
    }
    ++at;  // the closing quote
    params->emplace_back(std::move(name), std::move(value));
  }
  if (at != sd.size() - 1) {
    *error = "text after the parameters";
    return false;
  }
  return true;
}

struct ParsedSyslog {
  bool ok = false;
  std::string error;
  int pri = -1;
  std::string timestamp, hostname, app_name, procid, msgid, sd_id;
  SdParams params;
  std::string msg;
};

// "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG" with one SD element.
inline ParsedSyslog parse_syslog(std::string_view message) {
  ParsedSyslog out;
  const size_t close = message.find('>');
  if (message.empty() || message[0] != '<' || close == std::string_view::npos || message.substr(close + 1, 2) != "1 ") {
    out.error = "no <PRI>1 head: " + std::string(message.substr(0, 40));
    return out;
  }
  out.pri = std::atoi(std::string(message.substr(1, close - 1)).c_str());
  std::string_view rest = message.substr(close + 3);
  std::string* fields[] = {&out.timestamp, &out.hostname, &out.app_name, &out.procid, &out.msgid};
  for (std::string* field : fields) {
    const size_t space = rest.find(' ');
    if (space == std::string_view::npos || space == 0) {
      out.error = "a header field is missing";
      return out;
    }
    *field = std::string(rest.substr(0, space));
    rest.remove_prefix(space + 1);
  }
  // The element ends at the first ']' not escaped by a backslash.
  size_t end = 0;
  for (size_t i = 1; i < rest.size(); ++i) {
    if (rest[i] == '\\') {
      ++i;
      continue;
    }
    if (rest[i] == ']') {
      end = i;
      break;
    }
  }
  if (end == 0 || !parse_sd_element(rest.substr(0, end + 1), &out.sd_id, &out.params, &out.error)) {
    if (out.error.empty()) out.error = "no structured data";
    return out;
  }
  rest.remove_prefix(end + 1);
  if (!rest.empty()) {
    if (rest[0] != ' ') {
      out.error = "no space before MSG";
      return out;
    }
    out.msg = std::string(rest.substr(1));
  }
  out.ok = true;
  return out;
}

}  // namespace ringtail::reader::testing
