// libFuzzer target: raw bytes as a DNS name in wire form -> dns_name_text
// (what --dns writes for every query name). Invariants: nothing crashes; the
// text is never empty and holds printable ASCII only (no byte a terminal or
// a log line acts on); and it is reversible: unescaped (\DDD, \c) and split
// at unescaped dots it gives back exactly the labels of the wire form, as an
// independent walk finds them (stopping at the root label, a compression
// pointer or reserved label type, or the end of the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "collect/dns_query_event.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

std::vector<std::string> wire_labels(std::span<const std::uint8_t> wire) {
    std::vector<std::string> labels;
    std::size_t at = 0;
    while (at < wire.size() && wire[at] != 0 && (wire[at] & 0xc0) == 0) {
        const std::size_t length = wire[at++];
        const std::size_t end = at + length < wire.size() ? at + length : wire.size();
        labels.emplace_back(reinterpret_cast<const char*>(wire.data() + at), end - at);
        at = end;
    }
    return labels;
}

std::vector<std::string> text_labels(const std::string& text) {
    std::vector<std::string> labels;
    if (text == ".") return labels;
    std::string label;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.') {
            labels.push_back(label);
            label.clear();
        } else if (c == '\\') {
            require(i + 1 < text.size());
            const char next = text[i + 1];
            if (next >= '0' && next <= '9') {
                require(i + 3 < text.size());
                const int value = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
                require(value <= 255);
                label += static_cast<char>(value);
                i += 3;
            } else {
                require(next == '.' || next == '\\');
                label += next;
                i += 1;
            }
        } else {
            label += c;
        }
    }
    labels.push_back(label);
    return labels;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> wire(data, size);
    const std::string text = connsnoop::dns_name_text(wire);
    require(!text.empty());
    for (const char c : text) require(c > ' ' && c < 0x7f);
    const auto expected = wire_labels(wire);
    // An empty label can only come from a label cut at the input's end.
    if (!expected.empty() && !(expected.size() == 1 && expected[0].empty())) require(text_labels(text) == expected);
    return 0;
}
