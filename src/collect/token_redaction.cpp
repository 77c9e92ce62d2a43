#include "collect/token_redaction.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

namespace connsnoop {

namespace {

constexpr std::string_view kTokenHeader = "x-aws-ec2-metadata-token";

// ASCII only: the header name is ASCII, and a byte of a multi-byte UTF-8
// character never equals one of its letters in either case.
char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// Horspool's shift for the byte under the last position of a window that did
// not match, in either case: how far the next window may start. Text with
// none of the name's letters is passed 24 bytes at a time, not byte by byte.
constexpr auto kShift = [] {
    std::array<std::uint8_t, 256> shift{};
    shift.fill(static_cast<std::uint8_t>(kTokenHeader.size()));
    for (std::size_t i = 0; i + 1 < kTokenHeader.size(); ++i) {
        const auto letter = static_cast<unsigned char>(kTokenHeader[i]);
        const auto distance = static_cast<std::uint8_t>(kTokenHeader.size() - 1 - i);
        shift[letter] = distance;
        if (letter >= 'a' && letter <= 'z') shift[letter - ('a' - 'A')] = distance;
    }
    return shift;
}();

// Where the header name starts at or after `from`, in any case; npos if nowhere.
std::size_t find_token_header(std::string_view text, std::size_t from) {
    constexpr std::size_t kLength = kTokenHeader.size();
    for (std::size_t at = from; at + kLength <= text.size();) {
        const char last = text[at + kLength - 1];
        if (lower_ascii(last) == kTokenHeader.back()) {
            const auto candidate = text.substr(at, kLength);
            if (std::equal(candidate.begin(), candidate.end(), kTokenHeader.begin(),
                           [](char a, char b) { return lower_ascii(a) == b; })) {
                return at;
            }
        }
        at += kShift[static_cast<unsigned char>(last)];
    }
    return std::string_view::npos;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string redact_imds_tokens(std::string text) {
    std::size_t at = 0;
    while ((at = find_token_header(text, at)) != std::string_view::npos) {
        std::size_t colon = at + kTokenHeader.size();
        while (colon < text.size() && is_blank(text[colon])) ++colon;
        if (colon >= text.size() || text[colon] != ':') {  // e.g. ...-token-ttl-seconds
            at += kTokenHeader.size();
            continue;
        }
        std::size_t value = colon + 1;
        while (value < text.size() && is_blank(text[value])) ++value;
        std::size_t end = value;
        while (end < text.size() && text[end] != '\r' && text[end] != '\n') ++end;
        if (end > value) text.replace(value, end - value, kRedactedValue);
        at = value + (end > value ? std::string_view(kRedactedValue).size() : 0);
    }
    return text;
}

bool may_hold_imds_token(std::string_view text) { return find_token_header(text, 0) != std::string_view::npos; }

void redact_imds_tokens(std::vector<std::string>& argv) {
    for (auto& argument : argv) argument = redact_imds_tokens(std::move(argument));
}

}  // namespace connsnoop
