// Terminal columns of text already escaped for a terminal (valid UTF-8, no
// control characters): wide characters (CJK, most emoji) take two columns,
// combining and other zero-width characters none. The one rule for the
// table, top and the top screen. Also the escaper the table's row writer
// calls, which writes at a pointer (escape.hpp has the string forms).
#pragma once

#include <cstddef>
#include <string_view>

namespace connsnoop {

std::size_t display_width(std::string_view escaped);
// The longest prefix that fits in `columns`: a wide character that would
// straddle the edge is left out (the prefix may be a column short), and a
// zero-width character stays with the character it follows.
std::string_view fit_to_width(std::string_view escaped, std::size_t columns);

// escape_for_terminal's text for `text` (see escape.hpp), written at `out`,
// which must have room for kMaxTerminalEscapedBytesPerByte * text.size()
// bytes; returns the end. The table's row writer uses it on its own buffer:
// runs of printable ASCII are copied 8 bytes at a time, with no string
// bookkeeping per run.
inline constexpr std::size_t kMaxTerminalEscapedBytesPerByte = 4;  // a byte as \xNN
char* write_escaped_for_terminal(char* out, std::string_view text);

// True when the locale (LC_ALL, else LC_CTYPE, else LANG) says the terminal
// takes UTF-8; otherwise the table uses ASCII for its own marks.
bool locale_is_utf8();

}  // namespace connsnoop
