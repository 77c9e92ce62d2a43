// libFuzzer target: raw ring-buffer bytes -> decode_connect_record -> table
// row and JSON line. Invariants: nothing crashes; a malformed record is an
// error, never an event; a row holds no raw control byte, invalid UTF-8 or
// direction control and no newline; a JSON line parses (strict UTF-8) to one
// object, with the same argv count and no character a terminal acts on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>

#include "collect/record_decoder.hpp"
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
    auto event = decode_connect_record(std::span(reinterpret_cast<const std::byte*>(data), size), clock);
    if (!event) {
        require(!event.error().message.empty());
        return 0;
    }
    // The user name is untrusted too (any bytes in /etc/passwd): take it from the comm.
    event->user = event->comm;

    for (const auto& layout : {TableLayout{TimeFormat::iso, std::nullopt}, TableLayout{TimeFormat::local, 80}}) {
        const auto row = format_table_row(*event, layout);
        require(testing::terminal_hazard(row).empty());
    }

    const auto line = to_json_line(connect_to_json(*event));
    require(testing::terminal_hazard(line).empty());
    const auto record = nlohmann::json::parse(line, nullptr, false);
    require(!record.is_discarded() && record.is_object());
    require(record["argv"].size() == event->argv.size());
    require(record["pid"] == event->pid);
    return 0;
}
