#include "output_checks.hpp"

namespace connsnoop::testing {

namespace {

// Length of the UTF-8 sequence starting at `pos`, 0 when it is not well formed.
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos, char32_t& code_point) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2, code_point = lead & 0x1F;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3, code_point = lead & 0x0F;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4, code_point = lead & 0x07;
    else
        return 0;
    if (pos + length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) return 0;
        code_point = (code_point << 6) | (byte(i) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if ((length == 3 && code_point < 0x800) || (length == 4 && (code_point < 0x10000 || code_point > 0x10FFFF)) ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
        return 0;
    }
    return length;
}

std::string hex_byte(unsigned char byte) {
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("0x") + kHex[byte >> 4] + kHex[byte & 0xF];
}

}  // namespace

std::string terminal_hazard(std::string_view line) {
    for (std::size_t pos = 0; pos < line.size();) {
        char32_t code_point = 0;
        const std::size_t length = utf8_sequence_length(line, pos, code_point);
        if (length == 0)
            return "invalid UTF-8 byte " + hex_byte(static_cast<unsigned char>(line[pos])) + " at " +
                   std::to_string(pos);
        if (code_point < 0x20 || code_point == 0x7F || (code_point >= 0x80 && code_point <= 0x9F) ||
            code_point == 0x200E || code_point == 0x200F || (code_point >= 0x2028 && code_point <= 0x202E) ||
            (code_point >= 0x2066 && code_point <= 0x2069)) {
            return "control U+" + std::to_string(static_cast<unsigned>(code_point)) + " at " + std::to_string(pos);
        }
        pos += length;
    }
    return {};
}

}  // namespace connsnoop::testing
