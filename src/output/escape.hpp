// Untrusted text (command lines, process names, user names) made safe to show.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace connsnoop {

// What the terminal and JSON escapers below make inert (make_valid_utf8
// only mends UTF-8): the characters a terminal acts on or that reorder or
// split what it shows. The one definition of that set.
constexpr bool is_terminal_control(char32_t c) {
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) ||  // C0, DEL, C1 (0x9B is CSI)
           (c >= 0x200E && c <= 0x200F) ||                       // LRM, RLM
           (c >= 0x2028 && c <= 0x202E) ||                       // line/paragraph separators, bidi embeddings
           (c >= 0x2066 && c <= 0x2069);                         // bidi isolates
}

// The escapers that write at a pointer find plain runs 16 bytes at a time
// and store whole 16-byte chunks: the room they ask for has this much more.
inline constexpr std::size_t kEscapeSlack = 16;

// For terminals and plain-text logs. Printable ASCII and printable UTF-8 pass;
// every control character (C0, DEL, C1), ESC, CR/LF, tab, invalid UTF-8 byte and
// Unicode direction/line-separator control becomes \xNN per byte, and a
// backslash becomes \\ so that an escape sequence cannot be forged.
std::string escape_for_terminal(std::string_view text);
// The same, appended to `out` (no temporary string on a hot path).
void append_escaped_for_terminal(std::string& out, std::string_view text);
// The same, written at `out`, which must have room for
// terminal_escaped_room(text.size()) bytes; returns the end. The bytes
// between the end and that room may be overwritten. The table's row writer
// uses it on its own buffer, with no string bookkeeping per cell.
inline constexpr std::size_t kMaxTerminalEscapedBytesPerByte = 4;  // a byte as \xNN
constexpr std::size_t terminal_escaped_room(std::size_t text_size) {
    return kMaxTerminalEscapedBytesPerByte * text_size + kEscapeSlack;
}
char* write_escaped_for_terminal(char* out, std::string_view text);

// For a terminal whose locale is not UTF-8, after escape_for_terminal: every
// byte from 0x80 up becomes \xNN too. There a lone 0x9B is a CSI, so the
// second byte of a printable UTF-8 character (U+011B is C4 9B) would start
// an escape sequence. ASCII passes unchanged.
bool has_non_ascii(std::string_view text);
std::string escape_non_ascii(std::string_view text);

// For JSON strings: valid UTF-8 passes unchanged (the JSON encoder escapes
// control characters itself); each invalid byte becomes the text \xNN, so the
// result is always valid UTF-8.
std::string make_valid_utf8(std::string_view text);

// For a serialized JSON text: DEL, C1 controls (U+0080..U+009F, where U+009B
// is a CSI) and Unicode direction/line-separator controls become \uXXXX, so a
// JSON line printed on a terminal cannot act on it or reorder what it shows.
// JSON encoders escape only U+0000..U+001F; these may appear only inside
// strings, so the result is the same JSON value.
std::string escape_json_invisibles(std::string_view json_text);

// The inside of a JSON string for `text`, appended to `out` in one pass:
// exactly what make_valid_utf8, a JSON encoder (short escapes for \b \t \n
// \f \r \" \\, \u00XX for the other C0 controls) and escape_json_invisibles
// make of it together. Runs of printable ASCII are found 16 bytes at a time
// (SSE2 on x86-64, words elsewhere) and copied at once.
void append_json_string_contents(std::string& out, std::string_view text);
// The same, written at `out`, which must have room for
// json_escaped_room(text.size()) bytes; returns the end. The bytes between
// the end and that room may be overwritten.
inline constexpr std::size_t kMaxJsonEscapedBytesPerByte = 6;  // a control byte as \u00XX
constexpr std::size_t json_escaped_room(std::size_t text_size) {
    return kMaxJsonEscapedBytesPerByte * text_size + kEscapeSlack;
}
char* write_json_string_contents(char* out, std::string_view text);

namespace detail {
// What the escapers are made of, for tests: both escapers with the
// word-at-a-time scan that builds without SSE2 (aarch64), so that x86-64
// tests it too.
char* write_escaped_for_terminal_portable(char* out, std::string_view text);
char* write_json_string_contents_portable(char* out, std::string_view text);
}  // namespace detail

}  // namespace connsnoop
