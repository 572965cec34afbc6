#include "ringtail/reader/report/html_page.hpp"

#include <algorithm>
#include <vector>

#include "report/report_assets.hpp"

namespace ringtail::reader {
namespace {

std::string script_safe(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  for (const char c : json) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string html_report_page(std::string_view data_json) {
  // Each placeholder is found in the skeleton alone, so that no text put in
  // (the data least of all) is searched for placeholders.
  const std::string data = script_safe(data_json);
  struct Piece {
    size_t at;
    std::string_view placeholder;
    std::string_view value;
  };
  std::vector<Piece> pieces = {{0, "/*RINGTAIL_STYLE*/", report_assets::kStyle},
                               {0, "/*RINGTAIL_SCRIPT*/", report_assets::kScript},
                               {0, "/*RINGTAIL_DATA*/", data}};
  const std::string_view page = report_assets::kPage;
  for (Piece& piece : pieces) piece.at = page.find(piece.placeholder);
  std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.at < b.at; });
  std::string out;
  out.reserve(page.size() + report_assets::kStyle.size() + report_assets::kScript.size() + data.size());
  size_t from = 0;
  for (const Piece& piece : pieces) {
    if (piece.at == std::string_view::npos) continue;  // a skeleton without it: a build check fails first
    out.append(page.substr(from, piece.at - from));
    out.append(piece.value);
    from = piece.at + piece.placeholder.size();
  }
  out.append(page.substr(from));
  return out;
}

}  // namespace ringtail::reader
