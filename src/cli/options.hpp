// The CLI's only product: one plain options struct (or help text, or a usage
// error). It never prints or exits by itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "aggregate/connect_metrics.hpp"
#include "aggregate/group_key.hpp"
#include "aggregate/talker_table.hpp"
#include "collect/trace_config.hpp"
#include "output/output_options.hpp"

namespace connsnoop {

struct MetricsOptions {
    std::optional<ListenAddress> listen;  // --metrics; nullopt: no metrics server
    MetricsKey key = MetricsKey::comm;
    std::size_t max_series = 1000;
};
// --outcome / --failed: one line per attempt once its fate is known.
enum class OutcomeMode { off, all, failed_only };
// `connsnoop top`: live aggregation instead of one line per event.
struct TopOptions {
    std::chrono::milliseconds interval{1000};  // --interval: refresh / summary period
    std::size_t rows = 20;                     // --rows: rows per summary block (0: all)
    bool rows_given = false;                   // on a terminal --rows has nothing to size: refused there
    SortColumn sort = SortColumn::rate_1s;     // --sort
};

enum class SessionMode { stream, top, linklocal };

// `connsnoop linklocal`: packets to the link-local services per process.
struct LinklocalOptions {
    double budget_pps = 1024;             // --budget: EC2's allowance per network interface
    std::optional<double> alert_percent;  // --alert PCT: share of the budget
};

struct Options {
    TracerConfig tracer;
    OutputFormat format = OutputFormat::table;
    TimeFormat time = TimeFormat::local;
    bool wide = false;                                  // never cut rows to the terminal width
    bool header = true;                                 // --no-header: no header line above the table
    std::vector<TableColumn> columns;                   // --columns: the table's columns; empty: the default set
    std::optional<std::uint64_t> max_events;            // --count
    std::optional<std::chrono::milliseconds> duration;  // --duration
    bool verbose = false;
    MetricsOptions metrics;
    int ancestry_depth = 4;       // --ancestry: parents to name, 0 for none
    bool ancestry_given = false;  // --ancestry was on the command line: the exec tracker is required
    AncestorDetail ancestor_detail = AncestorDetail::full;  // --ancestry short: pid and comm only in JSON
    std::string container_prefix;            // --container: only processes in containers whose ID starts so
    std::string unit;                        // --unit: only processes of this systemd unit
    bool quiet = false;                      // no event output (metrics only)
    std::string output_path;                 // --output: events to this file (reopened on SIGHUP) instead of stdout
    OutcomeMode outcome = OutcomeMode::off;  // tracer.track_outcomes follows it
    SessionMode mode = SessionMode::stream;
    TopOptions top;  // --interval and --rows also pace the linklocal view
    LinklocalOptions linklocal;
    GroupBy group_by = GroupBy::command;  // --by: groups for top and for --alert
    std::optional<double> alert_rate;     // --alert: attempts per second of one group
    // --imds-v1: only IMDSv1 requests (no connect records); implies --imds and HTTP capture.
    bool imds_v1_only = false;
};

// --help or --version: print `text` on stdout, exit 0.
struct InfoRequest {
    std::string text;
};

// A bad command line: print `message` on stderr, exit 2.
struct UsageError {
    std::string message;
};

using ParsedCommandLine = std::variant<Options, InfoRequest, UsageError>;

ParsedCommandLine parse_command_line(int argc, const char* const* argv);

// "connsnoop 0.1.0 (libbpf 1.1)"
std::string version_text();

}  // namespace connsnoop
