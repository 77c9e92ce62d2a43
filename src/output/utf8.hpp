// One UTF-8 decoder for the escapers and the display-width helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace connsnoop {

constexpr char32_t kInvalidUtf8 = 0xFFFFFFFF;

struct DecodedChar {
    char32_t code_point;  // kInvalidUtf8 when the bytes are not well-formed UTF-8
    std::size_t length;   // bytes consumed (1 for an invalid byte)
};

// Decodes one well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
inline DecodedChar decode_utf8(std::string_view text, std::size_t pos) {
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
        return {kInvalidUtf8, 1};
    }
    if (pos + length > text.size()) return {kInvalidUtf8, 1};
    for (std::size_t i = 1; i < length; ++i) {
        const std::uint8_t next = byte(i);
        const std::uint8_t low = i == 1 ? min_second : 0x80;
        const std::uint8_t high = i == 1 ? max_second : 0xBF;
        if (next < low || next > high) return {kInvalidUtf8, 1};
        code_point = (code_point << 6) | (next & 0x3F);
    }
    return {code_point, length};
}

}  // namespace connsnoop
