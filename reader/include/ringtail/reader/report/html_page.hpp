// The HTML report's one file: the page (reader/src/report/report_page.html,
// .css and .js, compiled into the library) with a RunReport's data object
// inlined, so that it opens from disk, offline, with nothing else.
//
// The data goes into a <script type="application/json"> element: every '<',
// '>' and '&' in it is written as a \u escape (JSON allows that anywhere a
// string can hold them, and the JSON outside strings has none), so no text
// from the store can end the element or be read as markup. The page's script
// puts every text in with textContent, never as HTML.
#pragma once

#include <string>
#include <string_view>

namespace ringtail::reader {

// The whole file, for the data object `data_json` (RunReport::finish_json).
std::string html_report_page(std::string_view data_json);

}  // namespace ringtail::reader
