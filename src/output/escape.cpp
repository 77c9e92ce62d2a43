#include "output/escape.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "output/utf8.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace connsnoop {

namespace {

constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

void append_hex_escapes(std::string& out, std::string_view bytes) {
    for (const char c : bytes) {
        const auto value = static_cast<std::uint8_t>(c);
        out += "\\x";
        out += kHex[value >> 4];
        out += kHex[value & 0xF];
    }
}

char* put_hex_escapes(char* out, const char* bytes, std::size_t length) {
    for (std::size_t i = 0; i < length; ++i) {
        const auto value = static_cast<std::uint8_t>(bytes[i]);
        *out++ = '\\';
        *out++ = 'x';
        *out++ = kHex[value >> 4];
        *out++ = kHex[value & 0xF];
    }
    return out;
}

// JSON's two-character escapes (\b \t \n \f \r \" \\); 0 where a byte has none.
constexpr std::array<char, 128> kJsonShortEscape = [] {
    std::array<char, 128> table{};
    table['"'] = '"';
    table['\\'] = '\\';
    table['\b'] = 'b';
    table['\t'] = 't';
    table['\n'] = 'n';
    table['\f'] = 'f';
    table['\r'] = 'r';
    return table;
}();

// \uXXXX, lower-case hex as JSON encoders write it; returns the end.
char* put_unicode_escape(char* out, char32_t code_point) {
    *out++ = '\\';
    *out++ = 'u';
    for (int shift = 12; shift >= 0; shift -= 4) *out++ = kHex[(code_point >> shift) & 0xF];
    return out;
}

// ---- Finding the bytes that need attention, 16 at a time ----------------
//
// A byte passes both escapers unchanged when it is printable ASCII
// (0x20..0x7E) other than '\\' and, in JSON, '"'. Everything else (C0, DEL,
// any byte >= 0x80, the two escape characters) stops a plain run; only
// there is a byte looked at on its own. The scan loads 16 bytes, stores
// them at the output whether or not they are plain (the caller's room has
// kEscapeSlack bytes for that), and advances by the plain ones.

constexpr std::size_t kChunk = 16;

// The scan runs for every few bytes of a line: its pieces must be inlined
// into one loop, which GCC's size heuristics at -O2 would not all do.
#define CONNSNOOP_INLINE [[gnu::always_inline]] inline
static_assert(kEscapeSlack >= kChunk);

CONNSNOOP_INLINE std::uint64_t load_u64(const char* bytes) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes, sizeof(word));
    return word;
}

CONNSNOOP_INLINE std::uint32_t load_u32(const char* bytes) {
    std::uint32_t word = 0;
    std::memcpy(&word, bytes, sizeof(word));
    return word;
}

// The first `size` (1..15) bytes at `bytes` as the low bytes of two words,
// without reading past them: overlapping loads, shifted into place. Bytes
// past `size` are left as garbage the callers mask off.
struct TwoWords {
    std::uint64_t low;
    std::uint64_t high;
};
static_assert(std::endian::native == std::endian::little, "the shifts below place bytes little-endian");

CONNSNOOP_INLINE TwoWords load_partial(const char* bytes, std::size_t size) {
    if (size >= 8) {
        const std::uint64_t high = size == 8 ? 0 : load_u64(bytes + size - 8) >> (8 * (16 - size));
        return {load_u64(bytes), high};
    }
    if (size >= 4) {
        return {load_u32(bytes) | (std::uint64_t{load_u32(bytes + size - 4)} << (8 * (size - 4))), 0};
    }
    const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<std::uint8_t>(bytes[i])} << (8 * i); };
    return {byte(0) | byte(size / 2) | byte(size - 1), 0};
}

// The word-at-a-time scan that any CPU runs (and aarch64 does): 0x80 in
// each byte of `word` that is not plain. Only the lowest flag is exact (a
// borrow or carry can flag a byte above a true one), and only it is used.
template <bool ForJson>
CONNSNOOP_INLINE std::uint64_t special_bytes(std::uint64_t word) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const auto zero_bytes = [](std::uint64_t value) { return (value - kOnes) & ~value; };
    std::uint64_t special = word | (word + kOnes);  // >= 0x7F: DEL and above (a carry only leaves an 0xFF)
    special |= (word - 0x20 * kOnes) & ~word;       // < 0x20
    special |= zero_bytes(word ^ ('\\' * kOnes));
    if constexpr (ForJson) special |= zero_bytes(word ^ ('"' * kOnes));
    return special & kHigh;
}

struct PortableScan {
    using Chunk = TwoWords;
    CONNSNOOP_INLINE static Chunk load(const char* bytes) { return {load_u64(bytes), load_u64(bytes + 8)}; }
    CONNSNOOP_INLINE static Chunk load_partial(const char* bytes, std::size_t size) {
        return connsnoop::load_partial(bytes, size);
    }
    CONNSNOOP_INLINE static void store(char* out, const Chunk& chunk) {
        std::memcpy(out, &chunk.low, 8);
        std::memcpy(out + 8, &chunk.high, 8);
    }
    // How many bytes from the chunk's start are plain, at most `limit`.
    template <bool ForJson>
    CONNSNOOP_INLINE static std::size_t plain_prefix(const Chunk& chunk, std::size_t limit) {
        const std::uint64_t low = special_bytes<ForJson>(chunk.low);
        const std::uint64_t high = special_bytes<ForJson>(chunk.high);
        const std::size_t first = low != 0    ? static_cast<std::size_t>(std::countr_zero(low)) / 8
                                  : high != 0 ? 8 + static_cast<std::size_t>(std::countr_zero(high)) / 8
                                              : kChunk;
        return first < limit ? first : limit;
    }
};

#if defined(__SSE2__)
// x86-64's baseline: sixteen bytes classified by four compares.
struct Sse2Scan {
    using Chunk = __m128i;
    CONNSNOOP_INLINE static Chunk load(const char* bytes) {
        return _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
    }
    CONNSNOOP_INLINE static Chunk load_partial(const char* bytes, std::size_t size) {
        const TwoWords words = connsnoop::load_partial(bytes, size);
        return _mm_set_epi64x(static_cast<long long>(words.high), static_cast<long long>(words.low));
    }
    CONNSNOOP_INLINE static void store(char* out, Chunk chunk) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), chunk);
    }
    template <bool ForJson>
    CONNSNOOP_INLINE static std::size_t plain_prefix(Chunk chunk, std::size_t limit) {
        // Signed compares: bytes >= 0x80 are negative, so "< 0x20" takes them too.
        __m128i special = _mm_cmplt_epi8(chunk, _mm_set1_epi8(0x20));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(chunk, _mm_set1_epi8(0x7F)));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\')));
        if constexpr (ForJson) special = _mm_or_si128(special, _mm_cmpeq_epi8(chunk, _mm_set1_epi8('"')));
        // Bits from `limit` on stop the run there (limit <= 16).
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special)) | (~0U << limit);
        return static_cast<std::size_t>(std::countr_zero(mask));
    }
};
using FastScan = Sse2Scan;
#else
using FastScan = PortableScan;
#endif

// Copies the plain bytes that start `text` to `out` and returns how many
// there were; may write up to kChunk bytes past them.
template <class Scan, bool ForJson>
CONNSNOOP_INLINE std::size_t copy_plain_run(char* out, const char* text, std::size_t size) {
    std::size_t done = 0;
    for (; size - done >= kChunk; done += kChunk) {
        const auto chunk = Scan::load(text + done);
        Scan::store(out + done, chunk);
        const std::size_t plain = Scan::template plain_prefix<ForJson>(chunk, kChunk);
        if (plain != kChunk) return done + plain;
    }
    if (done == size) return size;
    const auto chunk = Scan::load_partial(text + done, size - done);
    Scan::store(out + done, chunk);
    const std::size_t plain = Scan::template plain_prefix<ForJson>(chunk, size - done);
    // Most texts are plain to the end. A branch, not arithmetic, gives
    // their size: the caller's next write waits on the size, not on the scan.
    if (plain == size - done) [[likely]]
        return size;
    return done + plain;
}

template <class Scan>
char* write_json_string_contents_with(char* out, std::string_view text) {
    const char* in = text.data();
    std::size_t left = text.size();
    while (true) {
        const std::size_t run = copy_plain_run<Scan, true>(out, in, left);
        if (run == left) [[likely]]
            return out + left;
        out += run;
        in += run;
        left -= run;
        const auto byte = static_cast<std::uint8_t>(*in);
        if (byte < 0x80) {  // a control character, DEL, '"' or '\\': JSON's own short forms where it has them
            const char short_form = kJsonShortEscape[byte];
            if (short_form != 0) {
                *out++ = '\\';
                *out++ = short_form;
            } else {
                out = put_unicode_escape(out, byte);
            }
            ++in;
            --left;
            continue;
        }
        const auto [code_point, length] = decode_utf8(std::string_view(in, left), 0);
        if (code_point == kInvalidUtf8) {
            // The text \xNN, its backslash escaped: what make_valid_utf8 and a JSON encoder make of it.
            *out++ = '\\';
            *out++ = '\\';
            *out++ = 'x';
            *out++ = kHex[byte >> 4];
            *out++ = kHex[byte & 0xF];
        } else if (is_terminal_control(code_point)) {
            out = put_unicode_escape(out, code_point);
        } else {
            std::memcpy(out, in, length);
            out += length;
        }
        in += length;
        left -= length;
    }
}

template <class Scan>
char* write_escaped_for_terminal_with(char* out, std::string_view text) {
    const char* in = text.data();
    std::size_t left = text.size();
    while (true) {
        const std::size_t run = copy_plain_run<Scan, false>(out, in, left);
        if (run == left) [[likely]]
            return out + left;
        out += run;
        in += run;
        left -= run;
        const auto [code_point, length] = decode_utf8(std::string_view(in, left), 0);
        if (code_point == '\\') {
            *out++ = '\\';
            *out++ = '\\';
        } else if (code_point == kInvalidUtf8 || is_terminal_control(code_point)) {
            out = put_hex_escapes(out, in, length);
        } else {
            std::memcpy(out, in, length);
            out += length;
        }
        in += length;
        left -= length;
    }
}

template <auto Write>
void append_with(std::string& out, std::string_view text, std::size_t room) {
    const std::size_t used = out.size();
    out.resize(used + room);
    char* const end = Write(out.data() + used, text);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace

char* write_escaped_for_terminal(char* out, std::string_view text) {
    return write_escaped_for_terminal_with<FastScan>(out, text);
}

void append_escaped_for_terminal(std::string& out, std::string_view text) {
    append_with<write_escaped_for_terminal_with<FastScan>>(out, text, terminal_escaped_room(text.size()));
}

std::string escape_for_terminal(std::string_view text) {
    std::string out;
    append_escaped_for_terminal(out, text);
    return out;
}

char* write_json_string_contents(char* out, std::string_view text) {
    return write_json_string_contents_with<FastScan>(out, text);
}

void append_json_string_contents(std::string& out, std::string_view text) {
    append_with<write_json_string_contents>(out, text, json_escaped_room(text.size()));
}

namespace detail {

char* write_escaped_for_terminal_portable(char* out, std::string_view text) {
    return write_escaped_for_terminal_with<PortableScan>(out, text);
}

char* write_json_string_contents_portable(char* out, std::string_view text) {
    return write_json_string_contents_with<PortableScan>(out, text);
}

}  // namespace detail

bool has_non_ascii(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<std::uint8_t>(c) >= 0x80; });
}

std::string escape_non_ascii(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (static_cast<std::uint8_t>(c) >= 0x80) {
            append_hex_escapes(out, std::string_view(&c, 1));
        } else {
            out += c;
        }
    }
    return out;
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
        if (code_point != kInvalidUtf8 && is_terminal_control(code_point)) {
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
