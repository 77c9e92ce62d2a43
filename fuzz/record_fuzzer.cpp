// libFuzzer target: raw ring-buffer bytes -> decode_connect_record -> table
// row and JSON line. Invariants: nothing crashes; a malformed record is an
// error, never an event; decoding into an event reused from the last input
// gives the same event; a row holds no raw control byte, invalid UTF-8 or
// direction control and no newline; a JSON line parses (strict UTF-8) to one
// object, with the same argv count and no character a terminal acts on, and
// its strings are escaped byte for byte as make_valid_utf8 + nlohmann +
// escape_json_invisibles did before the one-pass writer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "collect/record_decoder.hpp"
#include "output/escape.hpp"
#include "output/json_format.hpp"
#include "output/table_format.hpp"
#include "output_checks.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace connsnoop;
    // A realistic realtime-minus-monotonic offset (2026, a host up for a day).
    static const ClockConverter clock(1'795'900'000'000'000'000 - 86'400'000'000'000);
    const auto bytes = std::span(reinterpret_cast<const std::byte*>(data), size);
    auto event = decode_connect_record(bytes, clock);
    // The reader decodes into one event it keeps: what the last input (and
    // the enrichment after it) left there must not show in this one.
    static ConnectEvent reused;
    const bool reused_ok = decode_connect_record_into(bytes, clock, reused).ok();
    require(reused_ok == event.ok());
    if (!event) {
        require(!event.error().message.empty());
        return 0;
    }
    require(connect_json_line(reused) == connect_json_line(*event));
    require(reused.argv == event->argv && reused.parents == event->parents);
    // The reader also keeps the last argv split: decoding with it, this
    // record's area after the last one's, gives the same arguments.
    static ArgvMemo memo;
    static ConnectEvent memoized;
    require(decode_connect_record_into(bytes, clock, memoized, &memo).ok());
    require(memoized.argv == event->argv);
    require(decode_connect_record_into(bytes, clock, memoized, &memo).ok());  // a hit now
    require(memoized.argv == event->argv);
    reused.user = reused.group = reused.exe = reused.cgroup_path = reused.unit = reused.comm + "-enriched";
    reused.ancestry = {AncestorProcess{1, reused.comm, reused.argv, false}};
    // The user name is untrusted too (any bytes in /etc/passwd): take it from the comm.
    event->user = event->comm;

    for (const auto& layout : {TableLayout{TimeFormat::iso, std::nullopt}, TableLayout{TimeFormat::local, 80}}) {
        const auto row = format_table_row(*event, layout);
        require(testing::terminal_hazard(row).empty());
    }

    const auto line = connect_json_line(*event);
    require(testing::terminal_hazard(line).empty());
    // The one-pass writer gives the bytes the long way gave: valid UTF-8 first,
    // then a JSON encoder, then the invisibles escaped.
    std::vector<std::string> texts = event->argv;
    texts.push_back(event->comm);
    for (const auto& text : texts) {
        std::string one_pass = "\"";
        append_json_string_contents(one_pass, text);
        one_pass += '"';
        require(one_pass == escape_json_invisibles(nlohmann::json(make_valid_utf8(text)).dump(-1, ' ', false)));
    }
    const auto record = nlohmann::json::parse(line, nullptr, false);
    require(!record.is_discarded() && record.is_object());
    require(record["argv"].size() == event->argv.size());
    require(record["pid"] == event->pid);
    return 0;
}
