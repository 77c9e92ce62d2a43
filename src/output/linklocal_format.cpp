#include "output/linklocal_format.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

double rounded(double value) { return std::round(value * 1000) / 1000; }

// pid keys are numbers in JSON, as in top's records.
nlohmann::ordered_json key_json(GroupBy group_by, const std::string& key) {
    if (group_by == GroupBy::pid) {
        std::uint32_t number = 0;
        const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), number);
        if (error == std::errc{} && end == key.data() + key.size()) return number;
    }
    return make_valid_utf8(key);
}

// 1234 -> "1234", 12345 -> "12.3k", in at most 6 columns.
std::string short_number(double value) {
    if (value < 10000) return fmt::format("{:.0f}", value);
    if (value < 10'000'000) return fmt::format("{:.1f}k", value / 1000);
    return fmt::format("{:.1f}M", value / 1'000'000);
}

std::string service_name(const LinklocalReport& report, std::uint16_t index) {
    return index < report.services.size() ? report.services[index].name : fmt::format("service{}", index);
}

// What a row shows after its numbers: the key, and for a process its command line.
std::string row_label(const LinklocalReport& report, const LinklocalRow& row) {
    if (!row.owner_known) return "(unknown: socket opened before connsnoop started)";
    const std::string cmdline = command_line(row.process);
    switch (report.group_by) {
        case GroupBy::pid:
            return escape_for_terminal(row.key) + " " + escape_for_terminal(row.process.comm) + "  " +
                   escape_for_terminal(cmdline);
        case GroupBy::command:
            return escape_for_terminal(row.key);
        default:
            return escape_for_terminal(row.key) +
                   fmt::format("  ({} process{})", row.processes, row.processes == 1 ? "" : "es");
    }
}

std::string services_text(const LinklocalReport& report, const LinklocalRow& row) {
    std::vector<std::string> parts;
    for (const auto& flow : row.services) {
        parts.push_back(fmt::format("{}/{} {}", escape_for_terminal(service_name(report, flow.service)),
                                    protocol_name(flow.protocol), short_number(report.rate(flow.sent.packets))));
    }
    return fmt::format("{}", fmt::join(parts, ","));
}

std::string fit(const std::string& line, std::size_t width) { return std::string(fit_to_width(line, width)); }

double budget_percent(const LinklocalReport& report, std::uint64_t packets) {
    return report.budget_pps > 0 ? 100 * report.rate(packets) / report.budget_pps : 0;
}

std::string query_services_text(const LinklocalReport& report, const LinklocalQueryRow& row) {
    std::vector<std::string> parts;
    for (const auto& [service, queries] : row.services) {
        parts.push_back(fmt::format("{} {}", escape_for_terminal(service_name(report, service)),
                                    short_number(report.rate(queries))));
    }
    return fmt::format("{}", fmt::join(parts, ","));
}

// --by qname: one line per query name. The name is printed as it is: it is
// zone-file escaped already (dns_name_text gives printable ASCII only), and
// escaping it again would double its backslashes.
void append_query_rows(const LinklocalReport& report, std::size_t width, std::vector<std::string>& lines) {
    lines.push_back(fit(fmt::format("{:>9} {:>7} {:>5}  {:<22} QNAME ({:.1f} queries/s, {:.0f}% of the budget)",
                                    "QUERIES/s", "BUDGET%", "PROCS", "SERVICES (queries/s)",
                                    report.rate(report.query_total), budget_percent(report, report.query_total)),
                        width));
    for (const auto& row : report.queries) {
        lines.push_back(fit(fmt::format("{:>9} {:>6.1f}% {:>5}  {:<22} {}", short_number(report.rate(row.queries)),
                                        budget_percent(report, row.queries), row.processes,
                                        query_services_text(report, row), row.qname),
                            width));
    }
}

}  // namespace

std::vector<std::string> format_linklocal_block(const LinklocalReport& report, std::size_t width,
                                                const std::string& notice) {
    std::vector<std::string> lines;
    const double sent_pps = report.rate(report.sent.packets);
    const double share = report.budget_pps > 0 ? 100 * sent_pps / report.budget_pps : 0;
    constexpr int kBarWidth = 20;
    const int filled = std::clamp(static_cast<int>(std::lround(share / 100 * kBarWidth)), 0, kBarWidth);
    std::string status = fmt::format("link-local sent {:.1f} pkt/s of {:.0f} budget [{}{}] {:.0f}%", sent_pps,
                                     report.budget_pps, std::string(static_cast<std::size_t>(filled), '#'),
                                     std::string(static_cast<std::size_t>(kBarWidth - filled), '-'), share);
    if (report.alert_percent)
        status += fmt::format("  alert at {:g}%{}", *report.alert_percent, report.alert_firing ? ": FIRING" : "");
    lines.push_back(fit(status, width));
    lines.push_back(
        fit(fmt::format("received {:.1f} pkt/s; {:.0f} B/s sent, {:.0f} B/s received; by {}; "
                        "every {:.1f} s{}{}",
                        report.rate(report.received.packets), report.rate(report.sent.bytes),
                        report.rate(report.received.bytes), group_by_name(report.group_by), report.interval_seconds,
                        report.final ? "; final" : "",
                        report.uncounted_packets != 0
                            ? fmt::format("; {} packets uncounted (counter map full)", report.uncounted_packets)
                            : std::string()),
            width));
    lines.push_back(fit(notice, width));
    if (report.group_by == GroupBy::qname) {
        append_query_rows(report, width, lines);
        return lines;
    }
    lines.push_back(
        fit(fmt::format("{:>6} {:>7} {:>6} {:>7}  {:<22} {}", "SENT/s", "SENT B/s", "RECV/s", "RECV B/s",
                        "SERVICES (sent/s)",
                        group_by_name(report.group_by) == "pid" ? "PID COMM  COMMAND"
                                                                : std::string(group_by_name(report.group_by))),
            width));
    for (const auto& row : report.rows) {
        lines.push_back(
            fit(fmt::format("{:>6} {:>7} {:>6} {:>7}  {:<22} {}", short_number(report.rate(row.sent.packets)),
                            short_number(report.rate(row.sent.bytes)), short_number(report.rate(row.received.packets)),
                            short_number(report.rate(row.received.bytes)), services_text(report, row),
                            row_label(report, row)),
                width));
    }
    return lines;
}

std::string format_linklocal_alert(const LinklocalAlert& alert, const LinklocalReport& report) {
    const std::string line = fmt::format("{:.1f} pkt/s {} {:.1f} ({:g}% of the {:.0f} budget)", alert.total_pps,
                                         alert.firing ? ">" : "<=", alert.threshold_pps,
                                         report.alert_percent.value_or(0), report.budget_pps);
    if (!alert.firing) return "resolved: link-local traffic back to " + line;
    std::vector<std::string> names;
    for (const auto& key : alert.spenders) {
        // A query name is zone-file escaped already (printable ASCII).
        std::string name = report.group_by == GroupBy::qname ? key : escape_for_terminal(key);
        for (const auto& row : report.rows) {
            if (row.key == key && report.group_by == GroupBy::pid)
                name += " (" + escape_for_terminal(row.process.comm) + ")";
        }
        names.push_back(std::move(name));
    }
    return fmt::format("ALERT: link-local traffic {}: spent by {}", line, fmt::join(names, ", "));
}

nlohmann::ordered_json linklocal_to_json(const LinklocalReport& report) {
    const auto flow_json = [&](const LinklocalFlow& sent, const LinklocalFlow& received) {
        return nlohmann::ordered_json{
            {"sent_packets", sent.packets},
            {"sent_bytes", sent.bytes},
            {"received_packets", received.packets},
            {"received_bytes", received.bytes},
            {"sent_pps", rounded(report.rate(sent.packets))},
            {"received_pps", rounded(report.rate(received.packets))},
        };
    };
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : report.rows) {
        nlohmann::ordered_json services = nlohmann::ordered_json::array();
        for (const auto& flow : row.services) {
            nlohmann::ordered_json entry = {
                {"service", make_valid_utf8(service_name(report, flow.service))},
                {"protocol", protocol_name(flow.protocol)},
            };
            entry.update(flow_json(flow.sent, flow.received));
            services.push_back(std::move(entry));
        }
        nlohmann::ordered_json record = {
            {"key", row.owner_known ? key_json(report.group_by, row.key) : nlohmann::ordered_json(nullptr)},
            {"owner_known", row.owner_known},
            {"processes", row.processes},
        };
        const auto& process = row.process;
        const bool per_process = report.group_by == GroupBy::pid && row.owner_known;
        record["pid"] = per_process ? nlohmann::ordered_json(process.pid) : nlohmann::ordered_json(nullptr);
        record["comm"] = per_process ? nlohmann::ordered_json(make_valid_utf8(process.comm)) : nullptr;
        record["cmdline"] = per_process ? nlohmann::ordered_json(make_valid_utf8(command_line(process))) : nullptr;
        record["user"] = per_process ? nlohmann::ordered_json(make_valid_utf8(process.user)) : nullptr;
        record["container_id"] = per_process && !process.container_id.empty()
                                     ? nlohmann::ordered_json(make_valid_utf8(process.container_id))
                                     : nullptr;
        record["unit"] =
            per_process && !process.unit.empty() ? nlohmann::ordered_json(make_valid_utf8(process.unit)) : nullptr;
        record.update(flow_json(row.sent, row.received));
        record["services"] = std::move(services);
        rows.push_back(std::move(record));
    }
    nlohmann::ordered_json services = nlohmann::ordered_json::array();
    for (const auto& service : report.services) {
        services.push_back({{"name", make_valid_utf8(service.name)}, {"address", service.address.to_string()}});
    }
    nlohmann::ordered_json record = {
        {"type", "linklocal"},
        {"time", format_iso8601_utc(report.time)},
        {"interval_s", rounded(report.interval_seconds)},
        {"group_by", group_by_name(report.group_by)},
        {"budget_pps", report.budget_pps},
        {"total", flow_json(report.sent, report.received)},
        {"budget_share", report.budget_pps > 0 ? rounded(report.rate(report.sent.packets) / report.budget_pps) : 0.0},
        {"uncounted_packets", report.uncounted_packets},
    };
    if (report.alert_percent) {
        record["alert_percent"] = *report.alert_percent;
        record["alert_firing"] = report.alert_firing;
    }
    record["final"] = report.final;
    record["services"] = std::move(services);
    record["rows"] = std::move(rows);
    if (report.group_by == GroupBy::qname) {
        nlohmann::ordered_json queries = nlohmann::ordered_json::array();
        for (const auto& row : report.queries) {
            nlohmann::ordered_json by_service = nlohmann::ordered_json::array();
            for (const auto& [service, count] : row.services) {
                by_service.push_back({{"service", make_valid_utf8(service_name(report, service))}, {"queries", count}});
            }
            queries.push_back({
                {"qname", row.qname},  // zone-file escaped ASCII already: JSON escaping only
                {"queries", row.queries},
                {"queries_per_s", rounded(report.rate(row.queries))},
                {"budget_share", report.budget_pps > 0 ? rounded(report.rate(row.queries) / report.budget_pps) : 0.0},
                {"processes", row.processes},
                {"services", std::move(by_service)},
            });
        }
        record["query_total"] = report.query_total;
        record["queries"] = std::move(queries);
    }
    return record;
}

nlohmann::ordered_json linklocal_alert_to_json(const LinklocalAlert& alert, const LinklocalReport& report) {
    nlohmann::ordered_json spenders = nlohmann::ordered_json::array();
    for (const auto& key : alert.spenders) {
        nlohmann::ordered_json spender = {{"key", key_json(report.group_by, key)}};
        for (const auto& row : report.queries) {
            if (row.qname != key) continue;
            spender["queries"] = row.queries;
            spender["queries_per_s"] = rounded(report.rate(row.queries));
        }
        for (const auto& row : report.rows) {
            if (row.key != key) continue;
            spender["sent_packets"] = row.sent.packets;
            spender["sent_pps"] = rounded(report.rate(row.sent.packets));
            if (report.group_by == GroupBy::pid) {
                spender["comm"] = make_valid_utf8(row.process.comm);
                spender["cmdline"] = make_valid_utf8(command_line(row.process));
            }
        }
        spenders.push_back(std::move(spender));
    }
    return {
        {"type", "linklocal_alert"},
        {"time", format_iso8601_utc(report.time)},
        {"state", alert.firing ? "firing" : "resolved"},
        {"group_by", group_by_name(report.group_by)},
        {"total_pps", rounded(alert.total_pps)},
        {"threshold_pps", rounded(alert.threshold_pps)},
        {"alert_percent", report.alert_percent.value_or(0)},
        {"budget_pps", report.budget_pps},
        {"spenders", std::move(spenders)},
    };
}

}  // namespace connsnoop
