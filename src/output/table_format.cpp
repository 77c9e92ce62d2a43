#include "output/table_format.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/kept_renderings.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

std::string_view cut_marker(const TableLayout& layout) { return layout.utf8 ? "…" : "..."; }
std::string_view parent_marker(const TableLayout& layout) { return layout.utf8 ? " ← " : " <- "; }

struct ColumnName {
    std::string_view name;
    TableColumn column;
};

// Every name --columns takes, aliases after the name they stand for.
constexpr ColumnName kColumnNames[] = {
    {"time", TableColumn::time},        {"pid", TableColumn::pid},
    {"ppid", TableColumn::ppid},        {"parent", TableColumn::parent},
    {"user", TableColumn::user},        {"uid", TableColumn::uid},
    {"comm", TableColumn::comm},        {"cmdline", TableColumn::cmdline},
    {"args", TableColumn::cmdline},     {"command", TableColumn::command},
    {"proto", TableColumn::protocol},   {"dst", TableColumn::destination},
    {"dest", TableColumn::destination}, {"destination", TableColumn::destination},
    {"port", TableColumn::port},        {"result", TableColumn::result},
    {"latency", TableColumn::latency},  {"request", TableColumn::request},
    {"cgroup", TableColumn::cgroup},    {"container", TableColumn::container},
    {"unit", TableColumn::unit},        {"exe", TableColumn::exe},
    {"ns_pid", TableColumn::ns_pid},
};

}  // namespace

TableColumnSpec table_column_spec(TableColumn column, const TableLayout& layout) {
    switch (column) {
        case TableColumn::time:
            return layout.time == TimeFormat::iso ? TableColumnSpec{"TIME (UTC)", 27, false, true}
                                                  : TableColumnSpec{"TIME", 8, false, true};
        case TableColumn::pid:
            return {"PID", 7, true, false};  // up to PID_MAX_LIMIT, 4194304
        case TableColumn::ppid:
            return {"PPID", 7, true, false};
        case TableColumn::parent:
            return {"PARENT", 15, false, true};
        case TableColumn::user:
            return {"USER", 10, false, true};
        case TableColumn::uid:
            return {"UID", 10, true, false};  // up to 4294967295
        case TableColumn::comm:
            return {"COMM", 15, false, true};
        case TableColumn::cmdline:
            return {"CMDLINE", 40, false, true};
        case TableColumn::command:
            return {"COMMAND", 40, false, true};
        case TableColumn::protocol:
            return {"PROTO", 5, false, true};
        case TableColumn::destination:
            return {"DESTINATION", 21, false, true};
        case TableColumn::port:
            return {"PORT", 5, true, false};
        case TableColumn::result:
            return {"RESULT", 13, false, true};
        case TableColumn::latency:
            return {"LATENCY", 8, true, true};
        case TableColumn::request:
            return {"REQUEST", 44, false, true};
        case TableColumn::cgroup:
            return {"CGROUP", 30, false, true};
        case TableColumn::container:
            return {"CONTAINER", 12, false, true};
        case TableColumn::unit:
            return {"UNIT", 24, false, true};
        case TableColumn::exe:
            return {"EXE", 30, false, true};
        case TableColumn::ns_pid:
            return {"NS_PID", 7, true, false};
    }
    return {"", 0, false, false};
}

std::string format_request(const HttpRequestEvent& request, bool utf8) {
    std::string text = escape_for_terminal(request.method) + " " + escape_for_terminal(request.path);
    if (request.path_truncated) text += utf8 ? "…" : "...";
    const auto imds = classify_imds(request);
    if (imds != ImdsVersion::none) text += fmt::format(" ({})", imds_version_name(imds));
    return text;
}

std::string format_latency(std::uint64_t nanoseconds) {
    if (nanoseconds < 1'000'000) return fmt::format("{}us", nanoseconds / 1000);
    if (nanoseconds < 1'000'000'000) return fmt::format("{:.1f}ms", static_cast<double>(nanoseconds) / 1e6);
    // Whole seconds from what would print as 10000.00 s on: LATENCY's 8
    // columns then hold 115 days, where a connect gives up long before.
    if (nanoseconds < 9'999'995'000'000) return fmt::format("{:.2f}s", static_cast<double>(nanoseconds) / 1e9);
    return fmt::format("{}s", nanoseconds / 1'000'000'000);
}

std::string format_result(const ConnectOutcome& outcome) {
    if ((outcome.result == ConnectResult::failed || outcome.result == ConnectResult::error) && outcome.error != 0) {
        return errno_name(outcome.error);
    }
    return std::string(result_name(outcome.result));
}

namespace {

// The default columns without an allocation per row: at most nine.
struct DefaultColumns {
    std::array<TableColumn, 9> columns{};
    std::size_t count = 0;

    void add(TableColumn column) { columns[count++] = column; }
};

// `request_column`: the layout's, or true for a request or query row.
DefaultColumns default_columns(const TableLayout& layout, bool request_column) {
    DefaultColumns set;
    if (layout.time != TimeFormat::none) set.add(TableColumn::time);
    set.add(TableColumn::pid);
    set.add(TableColumn::user);
    if (layout.protocol_column) set.add(TableColumn::protocol);
    set.add(TableColumn::destination);
    if (layout.outcome_columns) {
        set.add(TableColumn::result);
        set.add(TableColumn::latency);
    }
    if (request_column) set.add(TableColumn::request);
    set.add(TableColumn::command);
    return set;
}

std::span<const TableColumn> columns_of(const TableLayout& layout, bool request_column, DefaultColumns& defaults) {
    if (!layout.columns.empty()) return layout.columns;
    defaults = default_columns(layout, request_column);
    return {defaults.columns.data(), defaults.count};
}

}  // namespace

std::vector<TableColumn> default_table_columns(const TableLayout& layout) {
    const auto set = default_columns(layout, layout.request_column);
    return {set.columns.begin(), set.columns.begin() + static_cast<std::ptrdiff_t>(set.count)};
}

std::optional<TableColumn> table_column_named(std::string_view name) {
    for (const auto& entry : kColumnNames) {
        if (entry.name == name) return entry.column;
    }
    return std::nullopt;
}

std::string_view table_column_name(TableColumn column) {
    for (const auto& entry : kColumnNames) {
        if (entry.column == column) return entry.name;
    }
    return "?";
}

std::string table_column_names() {
    std::string names;
    for (const auto& entry : kColumnNames) {
        if (!names.empty()) names += ", ";
        names += entry.name;
    }
    return names;
}

namespace {

// A row's text as it is written: a buffer kept from row to row (one a
// thread), filled through raw pointers. Every write first makes room for
// the most it can put there (escaping: terminal_escaped_room); then cells
// are measured, padded or cut in place, and the row is appended to the
// output at once.
// No string is made per cell or per row, and no append keeps a terminator.
class RowText {
public:
    void clear() { used_ = 0; }
    [[nodiscard]] std::size_t size() const { return used_; }
    [[nodiscard]] std::string_view from(std::size_t start) const { return {buffer_.data() + start, used_ - start}; }
    void truncate(std::size_t size) { used_ = size; }

    // Where up to `bytes` more may be written; done(end) takes them.
    char* room(std::size_t bytes) {
        if (used_ + bytes > buffer_.size()) [[unlikely]]
            grow(used_ + bytes);
        return buffer_.data() + used_;
    }
    void done(const char* end) { used_ = static_cast<std::size_t>(end - buffer_.data()); }

    void put(char c) {
        *room(1) = c;
        ++used_;
    }
    void put(std::string_view text) {
        std::memcpy(room(text.size()), text.data(), text.size());
        used_ += text.size();
    }
    void put_blanks(std::size_t count) {
        std::memset(room(count), ' ', count);
        used_ += count;
    }
    void put_escaped(std::string_view text) {
        done(write_escaped_for_terminal(room(terminal_escaped_room(text.size())), text));
    }
    // escape_non_ascii on what was written since `start` (a terminal that is not UTF-8).
    void escape_non_ascii_from(std::size_t start) {
        if (!has_non_ascii(from(start))) return;
        const std::string escaped = escape_non_ascii(from(start));
        truncate(start);
        put(escaped);
    }
    // Puts `text` in place of the bytes from `start` to `end` (a cut's marker).
    void replace(std::size_t start, std::size_t end, std::string_view text) {
        const std::size_t after = used_ - end;
        room(text.size());
        std::memmove(buffer_.data() + start + text.size(), buffer_.data() + end, after);
        std::memcpy(buffer_.data() + start, text.data(), text.size());
        used_ = start + text.size() + after;
    }
    void put_number(std::uint64_t value) {
        constexpr std::size_t kMaxDigits = 20;
        char* at = room(kMaxDigits);
        done(std::to_chars(at, at + kMaxDigits, value).ptr);
    }
    // Blanks before the text written since `start` (right alignment).
    void shift_right(std::size_t start, std::size_t blanks) {
        char* const at = room(blanks) - (used_ - start);
        std::memmove(at + blanks, at, used_ - start);
        std::memset(at, ' ', blanks);
        used_ += blanks;
    }

private:
    // Rare (the buffer is kept from row to row), so out of the inlined path.
    [[gnu::noinline]] void grow(std::size_t bytes) { buffer_.resize(std::max(bytes, 2 * buffer_.size())); }

    std::string buffer_;  // its whole size is usable; used_ bytes hold the row
    std::size_t used_ = 0;
};

// HH:MM:SS in the local time zone: localtime_r once a second, not once a row.
void put_local_time(RowText& row, std::chrono::system_clock::time_point time) {
    thread_local bool cached = false;
    thread_local std::time_t cached_second = 0;
    thread_local std::string cached_text;
    const std::time_t second = std::chrono::system_clock::to_time_t(time);
    if (!cached || second != cached_second) {
        cached_text = format_local_time(time);
        cached_second = second;
        cached = true;
    }
    row.put(cached_text);
}

void put_iso_time(RowText& row, std::chrono::system_clock::time_point time) {
    char* at = row.room(kIso8601Length);
    if (write_iso8601_utc(at, time)) {
        row.done(at + kIso8601Length);
    } else {
        row.put(format_iso8601_utc(time));  // past the year 9999
    }
}

// "1.2.3.4:80" or "[fd00::1]:80", as format_endpoint writes them. Returns
// the bytes that a cut keeps: "]:80" or ":80" (the port says the most).
std::size_t put_endpoint(RowText& row, const IpAddress& address, std::uint16_t port) {
    std::size_t kept_from = 0;
    if (address.family == AddressFamily::ipv4) {
        for (std::size_t i = 0; i < 4; ++i) {
            if (i != 0) row.put('.');
            row.put_number(address.bytes[i]);
        }
        kept_from = row.size();
    } else {
        std::array<char, INET6_ADDRSTRLEN> text{};
        inet_ntop(AF_INET6, address.bytes.data(), text.data(), text.size());
        row.put('[');
        row.put(std::string_view(text.data()));
        kept_from = row.size();
        row.put(']');
    }
    row.put(':');
    row.put_number(port);
    return row.size() - kept_from;
}

// format_result's text, with no string unless it is an errno name.
void put_result(RowText& row, const ConnectOutcome& outcome) {
    if ((outcome.result == ConnectResult::failed || outcome.result == ConnectResult::error) && outcome.error != 0) {
        row.put(errno_name(outcome.error));
    } else {
        row.put(result_name(outcome.result));
    }
}

// The latency column exists only with --outcome: format_latency (fmt) is
// fast enough there, and std::to_chars of a double would link libstdc++'s
// floating-point tables (over 100 KiB) into the static binary.
void put_latency(RowText& row, std::uint64_t nanoseconds) { row.put(format_latency(nanoseconds)); }

// An empty cell shows "-".
void put_escaped_or_dash(RowText& row, std::string_view text) {
    if (text.empty()) {
        row.put('-');
    } else {
        row.put_escaped(text);  // never empty: every byte is written as at least one
    }
}

// The command line, escaped, marked where the capture was cut: the
// arguments joined as join_arguments joins them (a space before each one
// once the line is not empty), or comm in brackets when argv is unknown.
// Escaping each argument alone equals escaping the joined line: a space
// ends any UTF-8 sequence an argument leaves open.
void put_command_line(RowText& row, const ConnectEvent& event, const TableLayout& layout) {
    if (event.argv.empty()) {
        row.put('[');
        row.put_escaped(event.comm);
        row.put(']');
    } else {
        bool started = false;
        for (const auto& argument : event.argv) {
            if (started) row.put(' ');
            row.put_escaped(argument);
            started = started || !argument.empty();
        }
    }
    if (event.argv_truncated) row.put(cut_marker(layout));
}

// The default last column: the command line, where it runs, then who
// started it: names only, JSON has the full lines.
void put_command(RowText& row, const ConnectEvent& event, const TableLayout& layout) {
    put_command_line(row, event, layout);
    if (!event.container_id.empty()) {
        row.put("  [container ");
        row.put(std::string_view(event.container_id).substr(0, 12));
        row.put(']');
    } else if (!event.unit.empty()) {
        row.put("  [");
        row.put_escaped(event.unit);
        row.put(']');
    }
    for (const auto& ancestor : event.ancestry) {
        row.put(parent_marker(layout));
        row.put_escaped(ancestor.comm);
    }
}

// What the command cell is rendered from. The ancestry by the chain's
// identity (held, immutable); the rest by value.
struct CommandFields {
    bool utf8 = false;  // the markers
    bool argv_truncated = false;
    std::vector<std::string> argv;
    std::string comm;  // shown when argv is unknown
    std::string container_id;
    std::string unit;
    std::shared_ptr<const Ancestry::Levels> chain;

    // Sizes first, then the arguments from the last, where two runs of one
    // program differ most often: a miss costs this for every entry.
    [[nodiscard]] bool matches(const ConnectEvent& event, const TableLayout& layout) const {
        if (utf8 != layout.utf8 || argv_truncated != event.argv_truncated || chain != event.ancestry.shared() ||
            argv.size() != event.argv.size() || comm.size() != event.comm.size() ||
            container_id.size() != event.container_id.size() || unit.size() != event.unit.size()) {
            return false;
        }
        for (std::size_t i = argv.size(); i-- > 0;) {
            if (argv[i] != event.argv[i]) return false;
        }
        return comm == event.comm && unit == event.unit && container_id == event.container_id;
    }
    void assign(const ConnectEvent& event, const TableLayout& layout) {
        utf8 = layout.utf8;
        argv_truncated = event.argv_truncated;
        argv = event.argv;
        comm = event.comm;
        container_id = event.container_id;
        unit = event.unit;
        chain = event.ancestry.shared();
    }
    static std::uint64_t fingerprint(const ConnectEvent& event, const TableLayout& /*layout*/) {
        std::uint64_t hash =
            fingerprint_mix(reinterpret_cast<std::uintptr_t>(event.ancestry.shared().get()), event.argv.size());
        if (!event.argv.empty()) hash = fingerprint_mix(hash, fingerprint_tail(event.argv.back()));
        return fingerprint_mix(hash, fingerprint_tail(event.comm));
    }
};

// The same from event to event of a process, and most of a row's escaping.
void put_command_kept(RowText& row, const ConnectEvent& event, const TableLayout& layout) {
    thread_local KeptRenderings<CommandFields> rendered_commands;
    if (const std::string* rendered = rendered_commands.find(event, layout)) {
        row.put(*rendered);
        return;
    }
    const std::size_t start = row.size();
    put_command(row, event, layout);
    rendered_commands.missed(row.from(start), event, layout);
}

// What a cut keeps of a cell too wide for its column, besides the marker:
// as much of its start as fits, then its last `kept_end_bytes` (a port);
// or, for a request, its first word (the method, the DNS type), then as much
// of its end as fits: a path's last segments and the IMDS version tell
// requests apart, its start (/latest/meta-data/) does not.
struct CellCut {
    std::size_t kept_end_bytes = 0;
    bool keeps_end = false;
};

// Writes a cell; returns how a cut treats it.
CellCut put_cell(RowText& row, TableColumn column, const ConnectEvent& event, const TableLayout& layout,
                 std::string_view request, bool is_request) {
    switch (column) {
        case TableColumn::time:
            if (layout.time == TimeFormat::iso) {
                put_iso_time(row, event.wall_time);
            } else {
                put_local_time(row, event.wall_time);
            }
            break;
        case TableColumn::pid:
            row.put_number(event.pid);
            break;
        case TableColumn::ppid:
            row.put_number(event.ppid);
            break;
        case TableColumn::parent:
            put_escaped_or_dash(row, event.ancestry.empty() ? std::string_view() : event.ancestry.front().comm);
            break;
        case TableColumn::user:
            row.put_escaped(event.user);
            break;
        case TableColumn::uid:
            row.put_number(event.uid);
            break;
        case TableColumn::comm:
            put_escaped_or_dash(row, event.comm);
            break;
        case TableColumn::cmdline:
            put_command_line(row, event, layout);
            break;
        case TableColumn::command:
            put_command_kept(row, event, layout);
            break;
        case TableColumn::protocol:
            row.put(protocol_name(event.protocol));
            break;
        case TableColumn::destination:
            return {.kept_end_bytes = put_endpoint(row, event.destination, event.destination_port)};
        case TableColumn::port:
            row.put_number(event.destination_port);
            break;
        case TableColumn::result:
            if (is_request) {
                row.put('-');
            } else {
                put_result(row, event.outcome.value_or(ConnectOutcome{}));
            }
            break;
        case TableColumn::latency:
            if (is_request || !event.outcome || !event.outcome->latency_ns) {
                row.put('-');
            } else {
                put_latency(row, *event.outcome->latency_ns);
            }
            break;
        case TableColumn::request:
            row.put(request);
            return {.keeps_end = true};
        case TableColumn::cgroup:
            put_escaped_or_dash(row, event.cgroup_path);
            break;
        case TableColumn::container:
            if (event.container_id.empty()) {
                row.put('-');
            } else {
                row.put(std::string_view(event.container_id).substr(0, 12));
            }
            break;
        case TableColumn::unit:
            put_escaped_or_dash(row, event.unit);
            break;
        case TableColumn::exe:
            put_escaped_or_dash(row, event.exe);
            break;
        case TableColumn::ns_pid:
            row.put_number(event.ns_pid);
            break;
    }
    return {};
}

// The cell written since `cell_start`, cut to `columns` by display width as
// `cut` says; the kept parts must leave room for some of the rest, or the
// cut keeps only the start. Escapes and UTF-8 sequences stay whole
// (fit_to_width, fit_end_to_width).
void cut_cell(RowText& row, std::size_t cell_start, std::size_t columns, const CellCut& cut, std::string_view marker,
              std::size_t marker_columns) {
    const std::string_view cell = row.from(cell_start);
    if (cut.keeps_end) {
        const std::size_t space = cell.find(' ');
        const std::string_view word = space == std::string_view::npos ? cell : cell.substr(0, space + 1);
        const std::size_t word_columns = display_width(word);
        if (word.size() < cell.size() && word_columns + marker_columns < columns) {
            const std::string_view end =
                fit_end_to_width(cell.substr(word.size()), columns - word_columns - marker_columns);
            row.replace(cell_start + word.size(), row.size() - end.size(), marker);
            return;
        }
    }
    std::size_t kept_bytes = cut.kept_end_bytes;
    std::size_t kept_columns = kept_bytes == 0 ? 0 : display_width(cell.substr(cell.size() - kept_bytes));
    if (kept_columns + marker_columns >= columns) kept_bytes = kept_columns = 0;
    const std::size_t room = columns > kept_columns + marker_columns ? columns - kept_columns - marker_columns : 0;
    const std::string_view head = fit_to_width(cell.substr(0, cell.size() - kept_bytes), room);
    row.replace(cell_start + head.size(), row.size() - kept_bytes, marker);
}

// A row of `columns`, each cell written by `put_cell_of(column)` (which
// returns what a cut keeps of it): one space between
// columns, each cell padded (by display width) to its column's width and,
// where another column follows, cut to it (ending in the marker) unless
// layout.fit_cells is off; the last cell padded only if it is right-aligned
// (a number stays under its header, no trailing blanks). Then the whole row
// is cut to `max_width` when that is set, and appended to `out`.
template <typename PutCell>
void append_row(std::string& out, std::span<const TableColumn> columns, const TableLayout& layout,
                std::optional<std::size_t> max_width, PutCell&& put_cell_of) {
    thread_local RowText row;
    row.clear();
    const auto marker = cut_marker(layout);
    const std::size_t marker_columns = layout.utf8 ? 1 : marker.size();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto spec = table_column_spec(columns[i], layout);
        const bool last = i + 1 == columns.size();
        const std::size_t cell_start = row.size();
        const CellCut cut = put_cell_of(row, columns[i]);
        // Our own text is ASCII there ("<-", "..."): a byte above 0x7F is the process's.
        if (!layout.utf8) row.escape_non_ascii_from(cell_start);
        if (last && !spec.right_aligned) break;  // neither cut nor padded
        std::size_t width = display_width(row.from(cell_start));
        if (!last && spec.cut && layout.fit_cells && width > spec.width) {
            cut_cell(row, cell_start, spec.width, cut, marker, marker_columns);
            width = display_width(row.from(cell_start));
        }
        const std::size_t padding = width >= spec.width ? 0 : spec.width - width;
        if (spec.right_aligned) {
            row.shift_right(cell_start, padding);
        } else {
            row.put_blanks(padding);
        }
        if (!last) row.put(' ');
    }
    // By terminal columns, not characters: a wide (CJK) title takes two a character.
    if (max_width && display_width(row.from(0)) > *max_width) {
        const std::size_t keep = *max_width > marker_columns ? *max_width - marker_columns : 0;
        row.truncate(fit_to_width(row.from(0), keep).size());
        row.put(marker);
    }
    out += row.from(0);
}

// A connect row (request "-") or a request row (no result of its own).
void append_process_row(std::string& out, const ConnectEvent& event, const TableLayout& layout,
                        std::string_view request, bool is_request) {
    DefaultColumns defaults;
    append_row(
        out, columns_of(layout, layout.request_column || is_request, defaults), layout, layout.max_width,
        [&](RowText& row, TableColumn column) { return put_cell(row, column, event, layout, request, is_request); });
}

}  // namespace

std::string format_table_header(const TableLayout& layout) {
    std::string header;
    DefaultColumns defaults;
    // Only rows are cut to layout.max_width, not the header.
    append_row(header, columns_of(layout, layout.request_column, defaults), layout, std::nullopt,
               [&](RowText& row, TableColumn column) {
                   row.put(table_column_spec(column, layout).header);
                   return CellCut{};
               });
    return header;
}

void append_table_row(std::string& out, const ConnectEvent& event, const TableLayout& layout) {
    append_process_row(out, event, layout, "-", false);
}

std::string format_table_row(const ConnectEvent& event, const TableLayout& layout) {
    std::string row;
    append_table_row(row, event, layout);
    return row;
}

void append_dns_row(std::string& out, const DnsQueryEvent& query, const TableLayout& layout) {
    // The name is escaped already (dns_name_text: printable ASCII only, a
    // backslash written \\); escaping it again would double its backslashes.
    append_process_row(out, query.sender, layout, dns_type_name(query.qtype) + " " + query.name, true);
}

std::string format_dns_row(const DnsQueryEvent& query, const TableLayout& layout) {
    std::string row;
    append_dns_row(row, query, layout);
    return row;
}

void append_http_row(std::string& out, const HttpRequestEvent& request, const TableLayout& layout) {
    append_process_row(out, request.connection, layout, format_request(request, layout.utf8), true);
}

std::string format_http_row(const HttpRequestEvent& request, const TableLayout& layout) {
    std::string row;
    append_http_row(row, request, layout);
    return row;
}

}  // namespace connsnoop
