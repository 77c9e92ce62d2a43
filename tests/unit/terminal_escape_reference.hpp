// escape_for_terminal's text the simple way, one character at a time, with
// the set of characters a terminal acts on spelled out here on its own: the
// reference escape_test and escape_fuzzer compare every scan of the terminal
// escaper with.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "output/utf8.hpp"

namespace connsnoop::reference {

inline std::string terminal_one_character_at_a_time(std::string_view text) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t pos = 0; pos < text.size();) {
        const auto [c, length] = decode_utf8(text, pos);
        const bool dangerous = c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x200E || c == 0x200F ||
                               (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
        if (c == '\\') {
            out += "\\\\";
        } else if (c == kInvalidUtf8 || dangerous) {
            for (std::size_t i = pos; i < pos + length; ++i) {
                const auto byte = static_cast<unsigned char>(text[i]);
                out += "\\x";
                out += kHexDigits[byte >> 4];
                out += kHexDigits[byte & 0xF];
            }
        } else {
            out += text.substr(pos, length);
        }
        pos += length;
    }
    return out;
}

}  // namespace connsnoop::reference
