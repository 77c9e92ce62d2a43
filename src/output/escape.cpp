#include "output/escape.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "output/utf8.hpp"

namespace connsnoop {

namespace {

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

// Bytes that pass unchanged through both escapers: printable ASCII. The
// fast paths below copy whole runs of them with one append.
constexpr std::array<bool, 256> kPrintableAscii = [] {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x7F; ++c) table[static_cast<std::size_t>(c)] = true;
    return table;
}();

// Printable ASCII that is not a JSON or terminal escape character.
constexpr std::array<bool, 256> kPlainInJson = [] {
    auto table = kPrintableAscii;
    table['"'] = false;
    table['\\'] = false;
    return table;
}();

constexpr std::array<bool, 256> kPlainOnTerminal = [] {
    auto table = kPrintableAscii;
    table['\\'] = false;
    return table;
}();

// Whether none of the 8 bytes in `word` needs escaping: no byte >= 0x80, none
// below 0x20, no DEL, no backslash, and (for JSON) no '"'. Exact "any byte"
// tests of the classic has-zero-byte bit trick.
template <bool ForJson>
bool all_plain(std::uint64_t word) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const auto has_zero_byte = [](std::uint64_t value) { return (value - kOnes) & ~value & kHigh; };
    std::uint64_t special = word & kHigh;              // >= 0x80
    special |= (word - 0x20 * kOnes) & ~word & kHigh;  // < 0x20 (exact once no byte is >= 0x80)
    special |= has_zero_byte(word ^ (0x7F * kOnes));   // DEL
    special |= has_zero_byte(word ^ ('\\' * kOnes));   // backslash
    if constexpr (ForJson) special |= has_zero_byte(word ^ ('"' * kOnes));
    return special == 0;
}

// The end of the run of plain bytes that starts at `pos`: 8 bytes at a
// time while they are all plain, then byte by byte to the exact end.
template <bool ForJson>
std::size_t end_of_plain_run(std::string_view text, std::size_t pos) {
    const auto& plain = ForJson ? kPlainInJson : kPlainOnTerminal;
    for (std::uint64_t word = 0; pos + sizeof(word) <= text.size(); pos += sizeof(word)) {
        std::memcpy(&word, text.data() + pos, sizeof(word));
        if (!all_plain<ForJson>(word)) break;
    }
    while (pos < text.size() && plain[static_cast<std::uint8_t>(text[pos])]) ++pos;
    return pos;
}

// \uXXXX, lower-case hex as JSON encoders write it; returns the end.
char* put_unicode_escape(char* out, char32_t code_point) {
    *out++ = '\\';
    *out++ = 'u';
    for (int shift = 12; shift >= 0; shift -= 4) *out++ = kHex[(code_point >> shift) & 0xF];
    return out;
}

}  // namespace

void append_escaped_for_terminal(std::string& out, std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t run_end = end_of_plain_run<false>(text, pos);
        out.append(text.data() + pos, run_end - pos);
        pos = run_end;
        if (pos == text.size()) break;
        const auto [code_point, length] = decode_utf8(text, pos);
        const auto bytes = text.substr(pos, length);
        if (code_point == '\\') {
            out += "\\\\";
        } else if (code_point == kInvalidUtf8 || is_dangerous(code_point)) {
            append_hex_escapes(out, bytes);
        } else {
            out += bytes;
        }
        pos += length;
    }
}

std::string escape_for_terminal(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_escaped_for_terminal(out, text);
    return out;
}

char* write_json_string_contents(char* out, std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t run_end = end_of_plain_run<true>(text, pos);
        std::memcpy(out, text.data() + pos, run_end - pos);
        out += run_end - pos;
        pos = run_end;
        if (pos == text.size()) break;
        const auto byte = static_cast<std::uint8_t>(text[pos]);
        if (byte < 0x80) {  // a control character, DEL, '"' or '\\': JSON's own short forms where it has them
            char short_form = 0;
            switch (byte) {
                case '"':
                    short_form = '"';
                    break;
                case '\\':
                    short_form = '\\';
                    break;
                case '\b':
                    short_form = 'b';
                    break;
                case '\t':
                    short_form = 't';
                    break;
                case '\n':
                    short_form = 'n';
                    break;
                case '\f':
                    short_form = 'f';
                    break;
                case '\r':
                    short_form = 'r';
                    break;
                default:
                    break;
            }
            if (short_form != 0) {
                *out++ = '\\';
                *out++ = short_form;
            } else {
                out = put_unicode_escape(out, byte);
            }
            ++pos;
            continue;
        }
        const auto [code_point, length] = decode_utf8(text, pos);
        if (code_point == kInvalidUtf8) {
            // The text \xNN, its backslash escaped: what make_valid_utf8 and a JSON encoder make of it.
            *out++ = '\\';
            *out++ = '\\';
            *out++ = 'x';
            *out++ = kHex[byte >> 4];
            *out++ = kHex[byte & 0xF];
        } else if (is_dangerous(code_point)) {
            out = put_unicode_escape(out, code_point);
        } else {
            std::memcpy(out, text.data() + pos, length);
            out += length;
        }
        pos += length;
    }
    return out;
}

void append_json_string_contents(std::string& out, std::string_view text) {
    const std::size_t used = out.size();
    out.resize(used + kMaxJsonEscapedBytesPerByte * text.size());
    char* const end = write_json_string_contents(out.data() + used, text);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

std::string make_valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const auto [code_point, length] = decode_utf8(text, pos);
        if (code_point == kInvalidUtf8) {
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
        if (code_point != kInvalidUtf8 && is_dangerous(code_point)) {
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code_point >> shift) & 0xF];
        } else {
            out += json_text.substr(pos, length);
        }
        pos += length;
    }
    return out;
}

}  // namespace connsnoop
