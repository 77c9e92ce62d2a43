#include "output/display_width.hpp"

#include <locale.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <string>

#include "output/utf8.hpp"

namespace connsnoop {

namespace {

// glibc's wcwidth tables, read through the built-in C.UTF-8 locale (the one
// terminals and tmux follow here, whatever the user's locale) for this
// thread only: the process locale is left alone.
class Utf8Scope {
public:
    Utf8Scope() : previous_(utf8_locale() ? uselocale(utf8_locale()) : nullptr) {}
    ~Utf8Scope() {
        if (previous_ != nullptr) uselocale(previous_);
    }
    Utf8Scope(const Utf8Scope&) = delete;
    Utf8Scope& operator=(const Utf8Scope&) = delete;

private:
    static locale_t utf8_locale() {
        static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
        return kUtf8;
    }
    locale_t previous_;
};

struct Glyph {
    std::size_t bytes;
    std::size_t columns;
};

// glibc's wcwidth: 2 for East Asian wide and most emoji, 0 for combining
// marks and zero-width characters; a column a byte where the text is not
// UTF-8, and one for a character glibc does not know (terminals draw one cell).
Glyph next_glyph(std::string_view text, std::size_t pos) {
    const auto decoded = decode_utf8(text, pos);
    if (decoded.code_point < 0x7F) return {decoded.length, 1};
    if (decoded.code_point == kInvalidUtf8) return {decoded.length, 1};
    const int columns = ::wcwidth(static_cast<wchar_t>(decoded.code_point));
    return {decoded.length, columns < 0 ? 1U : static_cast<std::size_t>(columns)};
}

// The fast paths below test 8 bytes at once as one word, and the last 1-7
// bytes of a text as one word too, loaded with two overlapping reads (no
// byte loop, nothing read past the text). Byte i of memory is bits 8i..8i+7.
static_assert(std::endian::native == std::endian::little, "word loads assume a little-endian host");
constexpr std::size_t kWordBytes = sizeof(std::uint64_t);
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

std::uint64_t load_word(const char* in) {
    std::uint64_t word = 0;
    std::memcpy(&word, in, sizeof(word));
    return word;
}

// `left` (1-7) bytes at `in`; the byte positions past them hold zeros.
std::uint64_t load_tail(const char* in, std::size_t left) {
    std::uint64_t word = 0;
    if (left >= 4) {
        std::uint32_t first = 0;
        std::uint32_t last = 0;
        std::memcpy(&first, in, sizeof(first));
        std::memcpy(&last, in + left - sizeof(last), sizeof(last));
        word = first | (static_cast<std::uint64_t>(last) << (8 * (left - sizeof(last))));
    } else if (left >= 2) {
        std::uint16_t first = 0;
        std::uint16_t last = 0;
        std::memcpy(&first, in, sizeof(first));
        std::memcpy(&last, in + left - sizeof(last), sizeof(last));
        word = first | (static_cast<std::uint64_t>(last) << (8 * (left - sizeof(last))));
    } else {
        word = static_cast<std::uint8_t>(*in);
    }
    return word;
}

// How many bytes `text` starts with that are ASCII. Each takes one column,
// as next_glyph counts them, so ASCII text needs neither the decoder nor
// the locale switch.
std::size_t ascii_prefix_length(std::string_view text) {
    std::size_t pos = 0;
    while (text.size() - pos >= kWordBytes && (load_word(text.data() + pos) & kHighBits) == 0) pos += kWordBytes;
    const std::size_t left = std::min(text.size() - pos, kWordBytes);
    if (left == 0) return pos;
    const std::uint64_t high =
        (left == kWordBytes ? load_word(text.data() + pos) : load_tail(text.data() + pos, left)) & kHighBits;
    if (high == 0) return pos + left;
    return pos + static_cast<std::size_t>(std::countr_zero(high)) / 8;  // the first byte with its high bit set
}

}  // namespace

std::size_t display_width(std::string_view escaped) {
    const std::size_t ascii = ascii_prefix_length(escaped);
    if (ascii == escaped.size()) return ascii;
    const Utf8Scope utf8;
    std::size_t columns = ascii;
    for (std::size_t pos = ascii; pos < escaped.size();) {
        const auto glyph = next_glyph(escaped, pos);
        columns += glyph.columns;
        pos += glyph.bytes;
    }
    return columns;
}

namespace {

// The bytes an escape takes from its backslash: \xNN (escape_for_terminal,
// escape_non_ascii) and \DDD (a zone-file name) four, \\ and \. two.
std::size_t escape_length(std::string_view escaped, std::size_t backslash) {
    if (backslash + 1 >= escaped.size()) return 1;
    const char next = escaped[backslash + 1];
    return next == 'x' || (next >= '0' && next <= '9') ? 4 : 2;
}

// `cut`, or the start of the escape it would split. Only a scan from the
// start tells whether a backslash opens an escape or ends one (\\).
std::size_t escape_boundary(std::string_view escaped, std::size_t cut) {
    std::size_t pos = 0;
    while (pos < cut) {
        const void* found = std::memchr(escaped.data() + pos, '\\', cut - pos);
        if (found == nullptr) return cut;
        const auto backslash = static_cast<std::size_t>(static_cast<const char*>(found) - escaped.data());
        const std::size_t end = backslash + escape_length(escaped, backslash);
        if (end > cut) return backslash;
        pos = end;
    }
    return cut;
}

}  // namespace

std::string_view fit_to_width(std::string_view escaped, std::size_t columns) {
    // An ASCII prefix fits a byte a column; past it, or where a (zero-width)
    // non-ASCII character may follow the last column, the glyph loop decides.
    std::size_t pos = ascii_prefix_length(escaped.substr(0, columns));
    std::size_t used = pos;
    if (pos == escaped.size()) return escaped;
    if (used != columns || static_cast<std::uint8_t>(escaped[pos]) >= 0x80) {
        const Utf8Scope utf8;
        while (pos < escaped.size()) {
            const auto glyph = next_glyph(escaped, pos);
            if (used + glyph.columns > columns) break;
            used += glyph.columns;
            pos += glyph.bytes;
        }
        if (pos == escaped.size()) return escaped;
    }
    return escaped.substr(0, escape_boundary(escaped, pos));
}

std::string_view fit_end_to_width(std::string_view escaped, std::size_t columns) {
    const std::size_t total = display_width(escaped);
    if (total <= columns) return escaped;
    std::size_t excess = total - columns;  // columns to leave out from the start
    std::size_t pos = 0;
    const Utf8Scope utf8;
    while (pos < escaped.size() && excess > 0) {
        const auto glyph = next_glyph(escaped, pos);
        excess -= std::min(excess, glyph.columns);  // a wide character may leave one column more out
        pos += glyph.bytes;
    }
    const std::size_t escape_start = escape_boundary(escaped, pos);
    if (escape_start != pos) pos = escape_start + escape_length(escaped, escape_start);
    // A zero-width character goes with the character (or escape) it follows.
    while (pos < escaped.size()) {
        const auto glyph = next_glyph(escaped, pos);
        if (glyph.columns != 0) break;
        pos += glyph.bytes;
    }
    return escaped.substr(pos);
}

bool locale_is_utf8() {
    std::string name;
    for (const char* variable : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(variable);
        if (value != nullptr && *value != '\0') {
            name = value;
            break;
        }
    }
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name.find("utf-8") != std::string::npos || name.find("utf8") != std::string::npos;
}

}  // namespace connsnoop
