// libFuzzer target: arbitrary bytes -> the fields of an event (argv, comm,
// user, unit, exe, cgroup, ancestors' names; a hex container id) and a layout -> a
// table row, its header, a DNS and an HTTP row. Invariants: each is byte for
// byte what the reference formatter (the one before rows were written in
// place, tests/unit/table_format_reference.hpp) makes of it; no row holds a
// byte a terminal acts on. (The escaper the rows are written with is
// escape_fuzzer's.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "output/table_format.hpp"
#include "output_checks.hpp"
#include "table_format_reference.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

// Reads the input front to back; past its end every read gives zeros.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

    std::uint8_t byte() {
        if (rest_.empty()) return 0;
        const auto value = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return value;
    }
    std::uint32_t number() {
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) value = (value << 8) | byte();
        return value;
    }
    // Up to the next 0xFF byte (which is then skipped): texts may hold NULs.
    std::string text() {
        const auto end = rest_.find('\xff');
        std::string text(rest_.substr(0, end));
        rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
        return text;
    }

private:
    std::string_view rest_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace connsnoop;
    Input input(data, size);

    TableLayout layout;
    const std::uint8_t flags = input.byte();
    layout.time = static_cast<TimeFormat>(flags % 3);
    layout.outcome_columns = (flags & 0x04) != 0;
    layout.request_column = (flags & 0x08) != 0;
    layout.utf8 = (flags & 0x10) == 0;
    layout.protocol_column = (flags & 0x20) != 0;
    if ((flags & 0x40) != 0) layout.max_width = input.byte();
    layout.fit_cells = (flags & 0x80) == 0;         // --wide
    const std::size_t columns = input.byte() % 10;  // 0: the default set
    for (std::size_t i = 0; i < columns; ++i) {
        layout.columns.push_back(static_cast<TableColumn>(input.byte() % (static_cast<int>(TableColumn::ns_pid) + 1)));
    }

    ConnectEvent event;
    event.pid = input.number();
    event.ppid = input.number();
    event.uid = input.number();
    event.ns_pid = input.number();
    event.destination_port = static_cast<std::uint16_t>(input.number());
    event.protocol = (flags & 0x80) != 0 ? Protocol::udp : Protocol::tcp;
    if (input.byte() % 2 != 0) event.destination.family = AddressFamily::ipv6;
    for (auto& byte : event.destination.bytes) byte = input.byte();
    if (event.destination.family == AddressFamily::ipv4)
        std::fill(event.destination.bytes.begin() + 4, event.destination.bytes.end(), 0);
    event.wall_time = std::chrono::system_clock::time_point(
        std::chrono::microseconds((static_cast<std::int64_t>(input.number()) << 20) | input.number() % (1 << 20)));
    const std::uint8_t outcome = input.byte();
    if (outcome % 2 != 0) {
        event.outcome = ConnectOutcome{
            static_cast<ConnectResult>(outcome / 2 % kConnectResultCount), static_cast<int>(input.byte()),
            outcome >= 128 ? std::optional<std::uint64_t>(input.number() * 1000ULL) : std::nullopt};
    }
    event.argv_truncated = (input.byte() % 2) != 0;
    event.comm = input.text();
    event.user = input.text();
    event.unit = input.text();
    event.exe = input.text();
    event.cgroup_path = input.text();
    // A container id is hex only (cgroup_identity takes no other name): the
    // table shows it unescaped.
    for (const char c : input.text().substr(0, 32)) {
        constexpr char kHex[] = "0123456789abcdef";
        event.container_id += kHex[static_cast<std::uint8_t>(c) >> 4];
        event.container_id += kHex[static_cast<std::uint8_t>(c) & 0xF];
    }
    const std::size_t ancestors = input.byte() % 4;
    Ancestry::Levels levels;
    for (std::size_t i = 0; i < ancestors; ++i)
        levels.push_back({static_cast<std::uint32_t>(i + 1), input.text(), {}, false});
    event.ancestry = Ancestry(std::move(levels));
    for (std::size_t arguments = input.byte() % 16; arguments > 0; --arguments) event.argv.push_back(input.text());

    const auto row = format_table_row(event, layout);
    require(row == reference::format_table_row(event, layout));
    require(testing::terminal_hazard(row).empty());
    require(format_table_header(layout) == reference::format_table_header(layout));

    DnsQueryEvent query;
    query.sender = event;
    query.qtype = static_cast<std::uint16_t>(event.uid);
    query.name = "example.com";
    require(format_dns_row(query, layout) == reference::format_dns_row(query, layout));
    HttpRequestEvent request;
    request.connection = event;
    request.method = event.comm;
    request.path = event.exe;
    request.path_truncated = event.argv_truncated;
    require(format_http_row(request, layout) == reference::format_http_row(request, layout));
    return 0;
}
