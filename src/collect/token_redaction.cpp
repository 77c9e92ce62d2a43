#include "collect/token_redaction.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace connsnoop {

namespace {

constexpr std::string_view kTokenHeader = "x-aws-ec2-metadata-token";

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
    return text.size() == lower.size() && std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string redact_imds_tokens(std::string text) {
    std::size_t at = 0;
    while (at + kTokenHeader.size() <= text.size()) {
        if (!equals_ignoring_case(std::string_view(text).substr(at, kTokenHeader.size()), kTokenHeader)) {
            ++at;
            continue;
        }
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

void redact_imds_tokens(std::vector<std::string>& argv) {
    for (auto& argument : argv) argument = redact_imds_tokens(std::move(argument));
}

}  // namespace connsnoop
