// Terminal columns of text already escaped for a terminal (valid UTF-8, no
// control characters): wide characters (CJK, most emoji) take two columns,
// combining and other zero-width characters none. The one rule for the
// table, top and the top screen.
#pragma once

#include <cstddef>
#include <string_view>

namespace connsnoop {

std::size_t display_width(std::string_view escaped);
// The longest prefix that fits in `columns`: a wide character that would
// straddle the edge is left out (the prefix may be a column short), a
// zero-width character stays with the character it follows, and an escape
// (\xNN, \\, a zone-file \DDD or \.) is kept whole or left out whole.
std::string_view fit_to_width(std::string_view escaped, std::size_t columns);
// The longest suffix that fits in `columns`, by the same rules: it starts
// at a character that takes a column, never inside an escape.
std::string_view fit_end_to_width(std::string_view escaped, std::size_t columns);

// True when the locale (LC_ALL, else LC_CTYPE, else LANG) says the terminal
// takes UTF-8; otherwise the table uses ASCII for its own marks.
bool locale_is_utf8();

}  // namespace connsnoop
