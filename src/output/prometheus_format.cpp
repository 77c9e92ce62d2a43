#include "output/prometheus_format.hpp"

#include <fmt/format.h>

#include "output/escape.hpp"

namespace connsnoop {

// The table's rule first (no control character, ESC or invalid byte reaches
// a terminal that shows a scrape: they become the text \xNN), then the
// exposition's own escaping of that text.
std::string escape_label_value(std::string_view value) {
    std::string out;
    for (const char c : escape_for_terminal(value)) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    return out;
}

namespace {
void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}
// One counter family: KEY, daddr and dport labels, plus `extra_label` (named
// here, valued by SeriesLabels::result) when the family has one.
void append_series(std::string& out, const MetricsSnapshot& snapshot,
                   const std::map<SeriesLabels, std::uint64_t>& series, std::string_view name, std::string_view help,
                   std::string_view extra_label) {
    append_header(out, name, "counter", help);
    for (const auto& [labels, count] : series) {
        out += fmt::format("{}{{{}=\"{}\",daddr=\"{}\",dport=\"{}\"", name, snapshot.key_name,
                           escape_label_value(labels.key), escape_label_value(labels.daddr),
                           escape_label_value(labels.dport));
        if (!extra_label.empty()) out += fmt::format(",{}=\"{}\"", extra_label, escape_label_value(labels.result));
        out += fmt::format("}} {}\n", count);
    }
}
}  // namespace

// connsnoop linklocal: packets and bytes per service, way, protocol and key, and the budget.
void append_linklocal(std::string& out, const MetricsSnapshot& snapshot) {
    const auto append_counts = [&](std::string_view name, std::string_view help, bool packets) {
        append_header(out, name, "counter", help);
        for (const auto& [labels, counts] : snapshot.linklocal_traffic) {
            out += fmt::format("{}{{service=\"{}\",direction=\"{}\",protocol=\"{}\",{}=\"{}\"}} {}\n", name,
                               escape_label_value(labels.service), escape_label_value(labels.direction),
                               escape_label_value(labels.protocol), snapshot.key_name, escape_label_value(labels.key),
                               packets ? counts.packets : counts.bytes);
        }
    };
    append_counts("connsnoop_linklocal_packets_total",
                  "Packets to (sent) and from (received) the link-local services, by owning process.", true);
    append_counts("connsnoop_linklocal_bytes_total", "IP bytes of those packets.", false);
    append_header(out, "connsnoop_linklocal_budget_pps", "gauge",
                  "Packets per second the host may send to the link-local services (--budget).");
    out += fmt::format("connsnoop_linklocal_budget_pps {:g}\n", snapshot.linklocal_budget_pps);
    append_header(out, "connsnoop_linklocal_sent_pps", "gauge",
                  "Packets per second the host sent to the link-local services in the last interval.");
    out += fmt::format("connsnoop_linklocal_sent_pps {:.3f}\n", snapshot.linklocal_sent_pps);
}

std::string format_prometheus(const MetricsSnapshot& snapshot, std::string_view version) {
    std::string out;
    append_series(out, snapshot, snapshot.attempts, "connsnoop_connect_attempts_total",
                  "TCP connection attempts (CLOSE to SYN_SENT) that matched the filters.", "");
    append_series(out, snapshot, snapshot.results, "connsnoop_connect_results_total",
                  "Attempts by their fate (with --outcome or --failed): established, refused, timeout, ...", "result");
    append_series(out, snapshot, snapshot.imds_requests, "connsnoop_imds_requests_total",
                  "Metadata-service HTTP requests (with --http) by IMDS version: imdsv1, imdsv2, imdsv2-token.",
                  "version");
    if (snapshot.linklocal) append_linklocal(out, snapshot);
    append_header(out, "connsnoop_series_folded_total", "counter",
                  "Attempts counted under the catch-all series because --metrics-max-series was reached.");
    out += fmt::format("connsnoop_series_folded_total {}\n", snapshot.folded_attempts);

    const auto& health = snapshot.health;
    append_header(out, "connsnoop_events_received_total", "counter", "Events read from the kernel ring buffer.");
    out += fmt::format("connsnoop_events_received_total {}\n", health.events_received);
    append_header(out, "connsnoop_events_lost_total", "counter",
                  "Events the kernel dropped because the ring buffer was full.");
    out += fmt::format("connsnoop_events_lost_total {}\n", health.events_lost);
    append_header(out, "connsnoop_malformed_records_total", "counter",
                  "Ring buffer records that could not be decoded.");
    out += fmt::format("connsnoop_malformed_records_total {}\n", health.malformed_records);
    append_header(out, "connsnoop_output_lines_lost_total", "counter",
                  "Lines dropped because --output could not take them (disk full); writing resumes when it can.");
    out += fmt::format("connsnoop_output_lines_lost_total {}\n", health.output_lines_lost);
    append_header(out, "connsnoop_ringbuf_size_bytes", "gauge", "Size of the kernel ring buffer.");
    out += fmt::format("connsnoop_ringbuf_size_bytes {}\n", health.ringbuf_bytes);
    append_header(out, "connsnoop_programs_attached", "gauge", "BPF programs attached.");
    out += fmt::format("connsnoop_programs_attached {}\n", health.programs_attached);
    append_header(out, "connsnoop_build_info", "gauge", "Version and attachment of this connsnoop.");
    out += fmt::format("connsnoop_build_info{{version=\"{}\",hook=\"{}\"}} 1\n", escape_label_value(version),
                       escape_label_value(health.hook));
    append_header(out, "connsnoop_start_time_seconds", "gauge", "Start time of connsnoop, seconds since the epoch.");
    out += fmt::format("connsnoop_start_time_seconds {:.3f}\n", snapshot.start_time_seconds);
    return out;
}

}  // namespace connsnoop
