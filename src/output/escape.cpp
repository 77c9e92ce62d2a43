#include "output/escape.hpp"

#include <locale.h>
#include <wchar.h>

#include <array>
#include <cstdint>

namespace connsnoop {

namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

struct DecodedChar {
    char32_t code_point;  // kInvalid when the bytes are not well-formed UTF-8
    std::size_t length;   // bytes consumed (1 for an invalid byte)
};

// Decodes one well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
DecodedChar decode_utf8(std::string_view text, std::size_t pos) {
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[pos + i]); };
    const std::uint8_t lead = byte(0);
    if (lead < 0x80) return {lead, 1};

    std::size_t length = 0;
    char32_t code_point = 0;
    std::uint8_t min_second = 0x80;
    std::uint8_t max_second = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        code_point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        code_point = lead & 0x0F;
        if (lead == 0xE0) min_second = 0xA0;  // overlong
        if (lead == 0xED) max_second = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        code_point = lead & 0x07;
        if (lead == 0xF0) min_second = 0x90;  // overlong
        if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
    } else {
        return {kInvalid, 1};
    }
    if (pos + length > text.size()) return {kInvalid, 1};
    for (std::size_t i = 1; i < length; ++i) {
        const std::uint8_t next = byte(i);
        const std::uint8_t low = i == 1 ? min_second : 0x80;
        const std::uint8_t high = i == 1 ? max_second : 0xBF;
        if (next < low || next > high) return {kInvalid, 1};
        code_point = (code_point << 6) | (next & 0x3F);
    }
    return {code_point, length};
}

// Characters a terminal acts on or that reorder/split what is shown.
bool is_dangerous(char32_t c) {
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) ||  // C0, DEL, C1 (0x9B is CSI)
           (c >= 0x200E && c <= 0x200F) ||                       // LRM, RLM
           (c >= 0x2028 && c <= 0x202E) ||                       // line/paragraph separators, bidi embeddings
           (c >= 0x2066 && c <= 0x2069);                         // bidi isolates
}

constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

void append_hex_escapes(std::string& out, std::string_view bytes) {
    for (const char c : bytes) {
        const auto value = static_cast<std::uint8_t>(c);
        out += "\\x";
        out += kHex[value >> 4];
        out += kHex[value & 0xF];
    }
}

}  // namespace

std::string escape_for_terminal(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const auto [code_point, length] = decode_utf8(text, pos);
        const auto bytes = text.substr(pos, length);
        if (code_point == '\\') {
            out += "\\\\";
        } else if (code_point == kInvalid || is_dangerous(code_point)) {
            append_hex_escapes(out, bytes);
        } else {
            out += bytes;
        }
        pos += length;
    }
    return out;
}

std::string make_valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const auto [code_point, length] = decode_utf8(text, pos);
        if (code_point == kInvalid) {
            append_hex_escapes(out, text.substr(pos, length));
        } else {
            out += text.substr(pos, length);
        }
        pos += length;
    }
    return out;
}

std::string escape_json_invisibles(std::string_view json_text) {
    std::string out;
    out.reserve(json_text.size());
    for (std::size_t pos = 0; pos < json_text.size();) {
        const auto [code_point, length] = decode_utf8(json_text, pos);
        if (code_point != kInvalid && is_dangerous(code_point)) {
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code_point >> shift) & 0xF];
        } else {
            out += json_text.substr(pos, length);
        }
        pos += length;
    }
    return out;
}

namespace {

// Columns a terminal gives a code point: 2 for East Asian wide and most
// emoji, 0 for combining marks and zero-width characters. glibc's table in
// the built-in C.UTF-8 locale (the one terminals and tmux follow here), so it
// does not depend on the user's locale; 1 each if that locale is missing.
int column_width(char32_t c) {
    if (c < 0x7F) return 1;
    static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
    if (utf8 == nullptr) return 1;
    const locale_t previous = uselocale(utf8);
    const int width = wcwidth(static_cast<wchar_t>(c));
    uselocale(previous);
    return width < 0 ? 1 : width;  // unassigned: terminals draw one cell
}

}  // namespace

std::size_t display_width(std::string_view escaped) {
    std::size_t columns = 0;
    for (std::size_t pos = 0; pos < escaped.size();) {
        const auto decoded = decode_utf8(escaped, pos);
        columns += decoded.code_point == kInvalid ? 1 : static_cast<std::size_t>(column_width(decoded.code_point));
        pos += decoded.length;
    }
    return columns;
}

std::string_view fit_to_width(std::string_view escaped, std::size_t columns) {
    // A wide character that would straddle the edge is left out; zero-width
    // marks after the last character that fits stay with it.
    std::size_t pos = 0;
    std::size_t used = 0;
    while (pos < escaped.size()) {
        const auto decoded = decode_utf8(escaped, pos);
        const auto width =
            decoded.code_point == kInvalid ? 1 : static_cast<std::size_t>(column_width(decoded.code_point));
        if (used + width > columns) break;
        used += width;
        pos += decoded.length;
    }
    return escaped.substr(0, pos);
}

}  // namespace connsnoop
