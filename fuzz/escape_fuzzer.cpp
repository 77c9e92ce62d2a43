// libFuzzer target, differential: raw bytes -> both escapers (the JSON
// string contents and the terminal form), each with the scan in use (SSE2
// on x86-64) and the word-at-a-time one aarch64 builds. Invariants: every
// scan gives the same bytes as a reference that looks at one character at
// a time (for JSON: make_valid_utf8, a JSON encoder and
// escape_json_invisibles, the long way the one-pass writer replaced); no
// escaper writes past the room it asks for (an exactly sized buffer: ASan
// sees one byte more); and no result holds anything a terminal acts on.
// Every suffix of the first 16 bytes is escaped too, so each byte meets the
// 16-byte chunks at every offset.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "output/escape.hpp"
#include "output_checks.hpp"
#include "terminal_escape_reference.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

std::string json_the_long_way(std::string_view text) {
    using namespace connsnoop;
    const auto quoted = escape_json_invisibles(nlohmann::json(make_valid_utf8(text)).dump(-1, ' ', false));
    return quoted.substr(1, quoted.size() - 2);
}

std::string in_exact_room(char* (*write)(char*, std::string_view), std::size_t room, std::string_view text) {
    std::vector<char> buffer(room);
    const char* const end = write(buffer.data(), text);
    require(end >= buffer.data() && end <= buffer.data() + room);
    return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

void check(std::string_view text) {
    using namespace connsnoop;
    const std::string json = json_the_long_way(text);
    require(in_exact_room(write_json_string_contents, json_escaped_room(text.size()), text) == json);
    require(in_exact_room(detail::write_json_string_contents_portable, json_escaped_room(text.size()), text) == json);
    require(testing::terminal_hazard(json).empty());

    const std::string terminal = reference::terminal_one_character_at_a_time(text);
    const std::size_t room = terminal_escaped_room(text.size());
    require(in_exact_room(write_escaped_for_terminal, room, text) == terminal);
    require(in_exact_room(detail::write_escaped_for_terminal_portable, room, text) == terminal);
    require(escape_for_terminal(text) == terminal);
    require(testing::terminal_hazard(terminal).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (std::size_t skip = 0; skip < 16 && skip <= text.size(); ++skip) check(text.substr(skip));
    return 0;
}
