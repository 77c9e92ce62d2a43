#include <bpf/libbpf.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>

#include "cli/options.hpp"
#include "cli/value_parsers.hpp"
#include "connsnoop_version.hpp"
#include "output/escape.hpp"
#include "output/table_format.hpp"
#include "util/metadata_endpoints.hpp"

namespace connsnoop {

namespace {

constexpr const char* kExamples = R"(
Examples:
  connsnoop --imds                      who connects to the cloud metadata service (IPv4 and IPv6)
  connsnoop --imds -o json              the same as JSON Lines, one object per connection
  connsnoop --imds | grep curl          lines reach grep at once, no stdbuf needed
  connsnoop --dst 10.0.0.0/8 --port 443 connections to 10.0.0.0/8 port 443
  connsnoop --uid www-data --time iso   connections made by www-data, UTC time stamps
  connsnoop --cgroup system.slice/nginx.service --count 10
  connsnoop --imds --outcome            each attempt with its result (established, refused, timeout, ...) and latency
  connsnoop --imds --failed             only attempts that did not establish, with the errno
  connsnoop top --imds                  who hammers the metadata service: live ranking by attempts/s
  connsnoop --imds --alert 50           one line when a command line exceeds 50 attempts/s, one when it calms
  connsnoop --imds --http               every request to the metadata service: method, path, IMDS version
  connsnoop --imds-v1                   only IMDSv1 requests (no token): the callers to fix before requiring IMDSv2
  connsnoop linklocal --alert 50        who spends the 1024 packets/s link-local budget (metadata, DNS, time)
)";

constexpr const char* kTopFooter = R"(
Also takes every filter of connsnoop (--imds, --dst, --port, --pid, --uid, --cgroup, --netns, --comm)
and -o json, --alert RATE, --by KEY, --count, --duration; see connsnoop --help.
On a terminal: a full-screen view; keys: arrows, PgUp/PgDn select, Enter details, / filter,
s sort column, r reverse, g grouping, p pause, ? help, q quit (the last ranking stays printed).
Otherwise: a summary block (or with -o json one "interval" object) every interval.
)";

constexpr const char* kLinklocalFooter = R"(
Services (defaults): metadata 169.254.169.254 fd00:ec2::254, dns 169.254.169.253 fd00:ec2::253,
time 169.254.169.123 fd00:ec2::123. --service NAME=ADDR (repeatable) replaces them; every --dst adds one.
Also takes --pid, --uid, --comm, --not-comm, --netns, --container, --unit, --by pid|comm|command|user|cgroup|
container|unit (default pid) or qname (DNS queries to the services per name), -o json, --output, --metrics, --metrics-key, --duration, -q.
On a terminal: a full-screen view (g grouping, q quit). Otherwise a block (or with -o json one
"linklocal" object) every interval.
)";

// The link-local services of EC2, counted by `connsnoop linklocal` unless --service is given.
const std::array<std::pair<const char*, const char*>, 6> kDefaultLinklocalServices{{
    {"metadata", "169.254.169.254"},
    {"metadata", "fd00:ec2::254"},
    {"dns", "169.254.169.253"},
    {"dns", "fd00:ec2::253"},
    {"time", "169.254.169.123"},
    {"time", "fd00:ec2::123"},
}};

// --imds: every metadata and credential endpoint of util/metadata_endpoints.hpp, port 80.
void add_metadata_endpoints(TraceFilters& filters) {
    for (const auto& endpoint : kMetadataEndpoints) filters.destinations.push_back(*parse_cidr(endpoint.address));
    filters.destination_ports.push_back({kMetadataPort, kMetadataPort});
}

struct RawArguments {
    std::vector<std::string> destinations, ports, pids, uids, netns, cgroups, comms, not_destinations, not_comms;
    std::string format = "table", time = "local", count, duration, argv_max, ringbuf_size, btf, hook;
    std::string metrics, metrics_key = "comm", metrics_max_series, output, ancestry, container, unit, columns;
    bool no_header = false;
    bool imds = false, wide = false, verbose = false, version = false, quiet = false, format_given = false;
    bool outcome = false, failed = false, time_given = false, by_given = false, metrics_key_given = false;
    std::string max_in_flight;
    // top and --alert
    std::string alert, by = "command", interval, rows, sort;
    bool top = false;
    // linklocal
    bool linklocal = false;
    std::string budget;
    std::vector<std::string> services;
    // HTTP capture
    bool http = false, imds_v1 = false;
    // UDP
    bool udp = false, dns = false;
    std::vector<std::string> http_ports;
};

void define_options(CLI::App& app, RawArguments& raw) {
    app.add_option("--dst", raw.destinations, "Only connections to this address or CIDR (repeatable)")
        ->type_name("CIDR");
    app.add_option("--port", raw.ports,
                   "Only connections to this destination port or range, e.g. 8000-8999 (repeatable)")
        ->type_name("PORT");
    app.add_option("--pid", raw.pids, "Only connections made by this process (repeatable)")->type_name("PID");
    app.add_option("--uid", raw.uids, "Only connections made by this user, ID or name (repeatable)")->type_name("USER");
    app.add_option("--cgroup", raw.cgroups, "Only processes in this cgroup v2 directory or below it (repeatable)")
        ->type_name("PATH");
    app.add_option("--netns", raw.netns,
                   "Only sockets of this network namespace: inode number or `ip netns` name (repeatable)")
        ->type_name("NETNS");
    app.add_option("--comm", raw.comms, "Only processes with this exact task name (comm) (repeatable)")
        ->type_name("NAME");
    app.add_option("--not-dst", raw.not_destinations, "Not connections to this address or CIDR (repeatable)")
        ->type_name("CIDR");
    app.add_option("--not-comm", raw.not_comms, "Not processes with this exact task name (repeatable)")
        ->type_name("NAME");
    app.add_option("--container", raw.container, "Only processes in the container with this ID (prefix)")
        ->type_name("ID");
    app.add_option("--unit", raw.unit, "Only processes of this systemd unit or scope, e.g. nginx (.service) or x.scope")
        ->type_name("NAME");
    app.add_flag("--imds", raw.imds,
                 "Only the metadata and credential endpoints, port 80: EC2 IMDS (169.254.169.254, fd00:ec2::254), "
                 "ECS task credentials (169.254.170.2), EKS Pod Identity (169.254.170.23, fd00:ec2::23), "
                 "Alibaba Cloud (100.100.100.200)");
    app.add_option("-o,--format", raw.format, "Output: table (default) or json (JSON Lines)")->type_name("FORMAT");
    app.add_option("--time", raw.time, "Time stamps in the table: local (default), iso (UTC) or none")
        ->type_name("WHEN");
    app.add_flag("--wide", raw.wide, "Cut nothing: no cell to its column, no row to the terminal width");
    app.add_flag("--no-header", raw.no_header, "No header line above the table (for scripts)");
    app.add_option("--columns", raw.columns,
                   "Table columns, comma-separated, from: " + table_column_names() +
                       " (default: time,pid,user,dst[,result,latency][,request],command)")
        ->type_name("LIST");
    app.add_option("--count", raw.count, "Stop after N connection events")->type_name("N");
    app.add_option("--duration", raw.duration, "Stop after this long (seconds, or 30s, 5m, 1h, 1h30m)")
        ->type_name("TIME");
    app.add_option("--argv-max", raw.argv_max, "Bytes of each command line to capture (default and most: 8192)")
        ->type_name("BYTES");
    app.add_option("--ringbuf-size", raw.ringbuf_size, "Kernel ring buffer size, a power of two (default 4M)")
        ->type_name("BYTES");
    app.add_option("--btf", raw.btf, "Kernel BTF file, for kernels without /sys/kernel/btf/vmlinux")->type_name("FILE");
    app.add_option("--hook", raw.hook,
                   "Tracepoint programs to load: tp_btf, raw_tp, or auto (default: tp_btf where the kernel takes it)")
        ->type_name("auto|tp_btf|raw_tp");
    app.add_option("--ancestry", raw.ancestry,
                   "Name this many parents of each process (default 4, 0: none); short: in JSON each as pid and comm "
                   "only (N,short: both)")
        ->type_name("N|short");
    app.add_flag("-v,--verbose", raw.verbose, "Show libbpf's log and the hook chosen");
    app.add_option("--metrics", raw.metrics, "Serve Prometheus metrics on http://ADDR:PORT/metrics")
        ->type_name("ADDR:PORT");
    app.add_option("--metrics-key", raw.metrics_key, "Label attempts by comm (default), exe, unit or container")
        ->type_name("KEY");
    app.add_option("--metrics-max-series", raw.metrics_max_series, "Most label sets before folding into 'other' (1000)")
        ->type_name("N");
    app.add_flag("-q,--quiet", raw.quiet, "No event output (with --metrics: metrics only)");
    app.add_option("--output", raw.output, "Write events to FILE (JSON unless -o says otherwise); reopened on SIGHUP")
        ->type_name("FILE");
    app.add_flag("--version", raw.version, "Print the version and exit");
    app.add_flag("--outcome", raw.outcome,
                 "One line per attempt once its fate is known: result, errno, latency; "
                 "also connect() calls that failed before any SYN");
    app.add_flag("--failed", raw.failed, "Like --outcome, but only attempts that did not establish");
    app.add_option("--max-in-flight", raw.max_in_flight,
                   "Attempts --outcome follows at once (default 16384); beyond, counted as not followed")
        ->type_name("N");
    app.add_option("--alert", raw.alert, "Print an alert when a group exceeds RATE attempts/s, and when it calms")
        ->type_name("RATE");
    app.add_option("--by", raw.by,
                   "Group (top, --alert) by: command (default), pid, comm, user, cgroup, container, unit, dest, port; "
                   "HTTP requests by path or imds (implies --http); DNS queries by qname (implies --dns)")
        ->type_name("KEY");
    app.add_flag("--http", raw.http,
                 "Also report each HTTP request sent on the connections traced to port 80 (and --http-port): "
                 "method, path, headers present, IMDS version");
    app.add_option("--http-port", raw.http_ports,
                   "Also parse HTTP on this destination port (repeatable; implies --http)")
        ->type_name("PORT");
    app.add_flag("--imds-v1", raw.imds_v1, "Only IMDSv1 requests (GET without a token) to the metadata service");
    app.add_flag("--udp", raw.udp,
                 "Also report each process's first send to each UDP destination (address and port), "
                 "through the same filters");
    app.add_flag("--dns", raw.dns,
                 "Also report each DNS query sent to UDP port 53 (name and type), through the same filters "
                 "(e.g. --dst 169.254.169.253)");
}

CLI::App* define_top_command(CLI::App& app, RawArguments& raw) {
    auto* top = app.add_subcommand("top", "Live ranking of who opens the most connections (like top)");
    top->fallthrough();  // the filters and output options of the main command work after `top`
    top->footer(kTopFooter);
    top->add_option("--interval", raw.interval, "Seconds between refreshes / summaries (default 1)")
        ->type_name("SECONDS");
    top->add_option("--rows", raw.rows, "Rows per summary when not on a terminal (default 20, 0: all)")->type_name("N");
    top->add_option("--sort", raw.sort,
                    "Sort column: 1s (default), 10s, 60s, total, failed, mean, p99, last, key (failed, mean, p99: with "
                    "--outcome)")
        ->type_name("COLUMN");
    top->parse_complete_callback([&raw] { raw.top = true; });
    return top;
}

CLI::App* define_linklocal_command(CLI::App& app, RawArguments& raw) {
    auto* linklocal = app.add_subcommand(
        "linklocal", "Who spends the link-local budget: packets/s per process to metadata, DNS and time services");
    linklocal->fallthrough();
    linklocal->footer(kLinklocalFooter);
    linklocal->add_option("--interval", raw.interval, "Seconds between refreshes / records (default 1)")
        ->type_name("SECONDS");
    linklocal
        ->add_option("--rows", raw.rows,
                     "Rows per text block when not on a terminal (default 20, 0: all; JSON has every row)")
        ->type_name("N");
    linklocal->add_option("--budget", raw.budget, "Packets per second the host may send to the services (default 1024)")
        ->type_name("PPS");
    linklocal
        ->add_option("--service", raw.services,
                     "A service to count, NAME=ADDR (repeatable; replaces the defaults; --dst adds one)")
        ->type_name("NAME=ADDR");
    linklocal->parse_complete_callback([&raw] { raw.linklocal = true; });
    return linklocal;
}

// Converts one repeatable option; the first bad value ends parsing.
template <typename T, typename Parser>
std::optional<UsageError> convert_all(const std::vector<std::string>& texts, std::vector<T>& out, Parser parse) {
    for (const auto& text : texts) {
        auto value = parse(text);
        if (!value) return UsageError{value.error().message};
        out.push_back(std::move(value).value());
    }
    return std::nullopt;
}

template <typename T, typename Parser>
std::optional<UsageError> convert_one(const std::string& text, T& out, Parser parse) {
    if (text.empty()) return std::nullopt;
    auto value = parse(text);
    if (!value) return UsageError{value.error().message};
    out = std::move(value).value();
    return std::nullopt;
}

// Options that mean nothing to top are refused, never silently ignored.
std::optional<UsageError> reject_in_top(const RawArguments& raw, const Options& options) {
    if (raw.wide) return UsageError{"top does not take --wide: its columns follow the terminal width"};
    if (raw.failed)
        return UsageError{"top does not take --failed: with --outcome its FAILED column counts the failures"};
    if (raw.time_given)
        return UsageError{"top does not take --time: its reports carry local time, and UTC with -o json"};
    if ((raw.http || raw.imds_v1 || !raw.http_ports.empty()) && !is_request_grouping(options.group_by))
        return UsageError{"top ranks HTTP requests only with --by path or --by imds"};
    if (raw.dns && !is_query_grouping(options.group_by))
        return UsageError{"top ranks DNS queries only with --by qname"};
    if (raw.udp && !groups_connections(options.group_by)) {
        return UsageError{"top --by " + std::string(group_by_name(options.group_by)) +
                          " ranks requests or queries, not UDP sends: drop --udp"};
    }
    return std::nullopt;
}

// --columns: names known, each once, and each meaning something with the
// other options (RESULT needs outcomes, REQUEST requests, TIME a format).
std::optional<UsageError> table_columns(const RawArguments& raw, Options& options) {
    if (raw.columns.empty()) return std::nullopt;
    if (raw.top) return UsageError{"top does not take --columns: its columns follow the terminal width and --sort"};
    if (options.format != OutputFormat::table)
        return UsageError{"--columns applies to the table only (a JSON record has every field)"};
    if (raw.quiet) return UsageError{"--columns applies to the table, and -q writes none"};
    std::string_view rest = raw.columns;
    while (true) {
        const auto comma = rest.find(',');
        const auto name = rest.substr(0, comma);
        const auto column = table_column_named(name);
        if (!column) {
            return UsageError{"invalid --columns '" + escape_for_terminal(raw.columns) + "': unknown column '" +
                              escape_for_terminal(name) + "'; expected some of " + table_column_names()};
        }
        if (std::find(options.columns.begin(), options.columns.end(), *column) != options.columns.end()) {
            return UsageError{"invalid --columns '" + escape_for_terminal(raw.columns) +
                              "': " + std::string(table_column_name(*column)) + " is named twice"};
        }
        options.columns.push_back(*column);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    const auto has = [&options](TableColumn column) {
        return std::find(options.columns.begin(), options.columns.end(), column) != options.columns.end();
    };
    if ((has(TableColumn::result) || has(TableColumn::latency)) && options.outcome == OutcomeMode::off)
        return UsageError{"--columns result and latency need --outcome or --failed"};
    if (has(TableColumn::request) && !options.tracer.http_capture && !options.tracer.dns_capture)
        return UsageError{"--columns request needs --http (or --http-port, --imds-v1) or --dns"};
    if (has(TableColumn::time) && options.time == TimeFormat::none)
        return UsageError{"--columns time and --time none contradict each other"};
    if (!has(TableColumn::time) && raw.time_given && options.time != TimeFormat::none)
        return UsageError{"--time formats the time column: add time to --columns"};
    return std::nullopt;
}

// Options that shape an output or a part this run does not have are
// refused, in every mode; top and linklocal have refused their own above.
std::optional<UsageError> reject_unused(const RawArguments& raw, const Options& options) {
    const bool writes_table = options.format == OutputFormat::table && !options.quiet;
    if (!raw.top && !raw.linklocal) {
        if (raw.wide && !writes_table) {
            return UsageError{options.quiet ? "--wide applies to the table, and -q writes none"
                                            : "--wide applies to the table; JSON lines are never cut"};
        }
        if (raw.no_header && options.quiet) return UsageError{"--no-header applies to the table, and -q writes none"};
        if (raw.time_given && !writes_table) {
            return UsageError{options.quiet
                                  ? "--time formats the table's time column, and -q writes none"
                                  : "--time formats the table's time column; JSON records carry UTC (ISO 8601)"};
        }
        if (raw.by_given && !options.alert_rate)
            return UsageError{"--by groups `connsnoop top` and --alert: add --alert RATE, or run connsnoop top"};
        if (raw.imds_v1 && options.outcome != OutcomeMode::off) {
            return UsageError{std::string("--imds-v1 reports requests, not connection attempts: ") +
                              (raw.failed ? "--failed" : "--outcome") + " has nothing to follow"};
        }
    }
    if (!raw.rows.empty() && options.quiet) return UsageError{"--rows sizes the text blocks, and -q writes none"};
    if (!raw.rows.empty() && raw.linklocal && options.format == OutputFormat::json)
        return UsageError{"linklocal --rows cuts its text blocks; its JSON records have every row"};
    if (!options.metrics.listen) {
        if (raw.metrics_key_given)
            return UsageError{"--metrics-key labels the --metrics series: add --metrics ADDR:PORT"};
        if (!raw.metrics_max_series.empty())
            return UsageError{"--metrics-max-series bounds the --metrics series: add --metrics ADDR:PORT"};
    }
    if (!raw.max_in_flight.empty() && options.outcome == OutcomeMode::off)
        return UsageError{"--max-in-flight bounds the attempts --outcome follows: add --outcome or --failed"};
    return std::nullopt;
}

// Options that mean nothing to the linklocal view are refused.
std::optional<UsageError> reject_in_linklocal(const RawArguments& raw) {
    const std::pair<bool, const char*> refused[] = {
        {!raw.ports.empty(), "--port: every packet to a service counts, whatever its port"},
        {!raw.not_destinations.empty(), "--not-dst: the services are what is counted; list them with --service"},
        {!raw.cgroups.empty(), "--cgroup: use --unit or --container"},
        {raw.imds || raw.imds_v1, "--imds/--imds-v1: the metadata service is counted by default"},
        {raw.http || !raw.http_ports.empty(), "--http: it counts packets, not requests"},
        {raw.outcome || raw.failed, "--outcome/--failed: it counts packets, not connection attempts"},
        {!raw.max_in_flight.empty(), "--max-in-flight: no attempts are followed"},
        {raw.wide, "--wide: its columns follow the terminal width"},
        {!raw.columns.empty(), "--columns: its columns follow the terminal width"},
        {raw.time_given, "--time: its records carry UTC time"},
        {raw.no_header, "--no-header: it has no event table"},
        {!raw.count.empty(), "--count: it writes intervals, not events; use --duration"},
        {!raw.argv_max.empty(), "--argv-max: command lines are read from /proc"},
        {!raw.ringbuf_size.empty(), "--ringbuf-size: counters are read from a map, not a ring buffer"},
        {!raw.sort.empty(), "--sort: rows are sorted by packets sent"},
        {raw.udp, "--udp: UDP packets are counted already"},
        {raw.dns, "--dns: use --by qname for the queries to the services"},
    };
    for (const auto& [given, reason] : refused) {
        if (given) return UsageError{std::string("linklocal does not take ") + reason};
    }
    return std::nullopt;
}

// The services counted: --service (or the defaults), then each --dst.
std::optional<UsageError> linklocal_services(const RawArguments& raw, Options& options) {
    auto& services = options.tracer.linklocal_services;
    for (const auto& text : raw.services) {
        const auto equals = text.find('=');
        const auto name = text.substr(0, equals == std::string::npos ? 0 : equals);
        const auto address = equals == std::string::npos ? std::string() : text.substr(equals + 1);
        auto cidr = parse_cidr(address);
        if (name.empty() || !cidr)
            return UsageError{"invalid --service '" + escape_for_terminal(text) +
                              "': expected NAME=ADDR, e.g. dns=169.254.169.253 or dns=10.0.0.2/32"};
        services.push_back({name, *cidr});
    }
    if (raw.services.empty()) {
        for (const auto& [name, address] : kDefaultLinklocalServices) services.push_back({name, *parse_cidr(address)});
    }
    for (const auto& cidr : options.tracer.filters.destinations) services.push_back({cidr.to_string(), cidr});
    options.tracer.filters.destinations.clear();  // services, not a filter on connects
    if (services.size() > kMaxLinklocalServices) {
        return UsageError{"too many link-local services (" + std::to_string(services.size()) + "): at most " +
                          std::to_string(kMaxLinklocalServices)};
    }
    return std::nullopt;
}

std::optional<UsageError> linklocal_options(const RawArguments& raw, Options& options) {
    if (auto e = reject_in_linklocal(raw)) return e;
    options.mode = SessionMode::linklocal;
    options.tracer.trace_connects = false;
    // Counters are read from a map; only --by qname's queries come through the ring buffer.
    if (!options.tracer.dns_capture) options.tracer.ringbuf_bytes = 64U << 10;
    if (auto e = linklocal_services(raw, options)) return e;
    if (!raw.budget.empty()) {
        auto budget = parse_alert_rate(raw.budget);
        if (!budget)
            return UsageError{"invalid --budget '" + escape_for_terminal(raw.budget) +
                              "': expected packets per second, more than 0"};
        options.linklocal.budget_pps = *budget;
    }
    if (options.alert_rate) {
        options.linklocal.alert_percent = *options.alert_rate;  // --alert PCT here: a share of the budget
        options.alert_rate.reset();
    }
    if (raw.by_given) {
        const auto by = options.group_by;
        if (by == GroupBy::dest || by == GroupBy::port || is_request_grouping(by))
            return UsageError{"linklocal groups by pid, comm, command, user, cgroup, container, unit or qname"};
    } else {
        options.group_by = GroupBy::pid;  // rows are per process unless --by says otherwise
    }
    return std::nullopt;
}

ParsedCommandLine to_options(const RawArguments& raw) {
    Options options;
    auto& filters = options.tracer.filters;
    if (auto e = convert_all(raw.destinations, filters.destinations, [](auto text) { return parse_destination(text); }))
        return *e;
    if (auto e = convert_all(raw.ports, filters.destination_ports, parse_port_range)) return *e;
    if (auto e = convert_all(raw.pids, filters.pids, parse_pid)) return *e;
    if (auto e = convert_all(raw.uids, filters.uids, parse_uid)) return *e;
    const auto netns = [](std::string_view text) { return parse_netns(text); };
    if (auto e = convert_all(raw.netns, filters.netns_inodes, netns)) return *e;
    if (raw.imds || raw.imds_v1) add_metadata_endpoints(filters);
    options.imds_v1_only = raw.imds_v1;
    options.tracer.http_capture = raw.http || raw.imds_v1 || !raw.http_ports.empty();
    if (options.tracer.http_capture) options.tracer.http_ports.push_back(kDefaultHttpPort);
    for (const auto& text : raw.http_ports) {
        auto port = parse_port(text, "--http-port");
        if (!port) return UsageError{port.error().message};
        if (std::find(options.tracer.http_ports.begin(), options.tracer.http_ports.end(), *port) ==
            options.tracer.http_ports.end()) {
            options.tracer.http_ports.push_back(*port);
        }
    }
    filters.cgroup_paths = raw.cgroups;
    if (filters.cgroup_paths.size() > kMaxCgroupFilters) {
        return UsageError{"too many --cgroup directories (" + std::to_string(filters.cgroup_paths.size()) +
                          "): at most " + std::to_string(kMaxCgroupFilters)};
    }
    if (auto e = convert_all(raw.comms, filters.comms, [](auto text) { return parse_comm(text); })) return *e;
    const auto excluded_destination = [](std::string_view text) { return parse_destination(text, "--not-dst"); };
    if (auto e = convert_all(raw.not_destinations, filters.excluded_destinations, excluded_destination)) return *e;
    const auto excluded_comm = [](std::string_view text) { return parse_comm(text, "--not-comm"); };
    if (auto e = convert_all(raw.not_comms, filters.excluded_comms, excluded_comm)) return *e;

    // --output without -o: JSON, a file for log shippers.
    if (raw.format == "json" || (!raw.format_given && !raw.output.empty()))
        options.format = OutputFormat::json;
    else if (raw.format == "table")
        options.format = OutputFormat::table;
    else
        return UsageError{"invalid --format '" + escape_for_terminal(raw.format) + "': expected table or json"};

    if (raw.time == "local")
        options.time = TimeFormat::local;
    else if (raw.time == "iso")
        options.time = TimeFormat::iso;
    else if (raw.time == "none")
        options.time = TimeFormat::none;
    else
        return UsageError{"invalid --time '" + escape_for_terminal(raw.time) + "': expected local, iso or none"};

    std::uint64_t count = 0;
    if (auto e = convert_one(raw.count, count, parse_count)) return *e;
    if (count != 0) options.max_events = count;
    std::chrono::milliseconds duration{0};
    if (auto e = convert_one(raw.duration, duration, parse_duration)) return *e;
    if (duration.count() != 0) options.duration = duration;
    if (auto e = convert_one(raw.argv_max, options.tracer.argv_max, parse_argv_max)) return *e;
    if (auto e = convert_one(raw.ringbuf_size, options.tracer.ringbuf_bytes, parse_ringbuf_size)) return *e;

    if (!raw.metrics.empty()) {
        auto listen = parse_listen_address(raw.metrics);
        if (!listen) return UsageError{listen.error().message};
        options.metrics.listen = *listen;
    }
    if (raw.metrics_key == "comm")
        options.metrics.key = MetricsKey::comm;
    else if (raw.metrics_key == "exe")
        options.metrics.key = MetricsKey::exe;
    else if (raw.metrics_key == "unit")
        options.metrics.key = MetricsKey::unit;
    else if (raw.metrics_key == "container")
        options.metrics.key = MetricsKey::container;
    else
        return UsageError{"invalid --metrics-key '" + escape_for_terminal(raw.metrics_key) +
                          "': expected comm, exe, unit or container"};
    if (auto e = convert_one(raw.metrics_max_series, options.metrics.max_series, parse_max_series)) return *e;
    if (!raw.ancestry.empty()) {
        auto ancestry = parse_ancestry(raw.ancestry);
        if (!ancestry) return UsageError{ancestry.error().message};
        if (ancestry->depth) options.ancestry_depth = *ancestry->depth;
        options.ancestor_detail = ancestry->detail;
    }
    options.ancestry_given = !raw.ancestry.empty();
    if (auto e = convert_one(raw.container, options.container_prefix, parse_container_prefix)) return *e;
    if (auto e = convert_one(raw.unit, options.unit, parse_unit_name)) return *e;
    options.quiet = raw.quiet;
    options.output_path = raw.output;
    options.tracer.btf_path = raw.btf;
    if (raw.hook == "tp_btf") {
        options.tracer.hook = HookChoice::tp_btf;
    } else if (raw.hook == "raw_tp") {
        options.tracer.hook = HookChoice::raw_tp;
    } else if (!raw.hook.empty() && raw.hook != "auto") {
        return UsageError{"invalid --hook '" + escape_for_terminal(raw.hook) + "': expected auto, tp_btf or raw_tp"};
    }
    if (raw.linklocal && !raw.hook.empty() && options.ancestry_depth == 0) {
        return UsageError{"linklocal with --ancestry 0 loads no tracepoint program: --hook has nothing to choose"};
    }
    options.wide = raw.wide;
    if (raw.no_header && (options.format != OutputFormat::table || raw.top)) {
        return UsageError{"--no-header applies to the event table only (JSON and top have no header line to drop)"};
    }
    options.header = !raw.no_header;
    options.verbose = raw.verbose;
    options.tracer.verbose = raw.verbose;
    options.outcome = raw.failed ? OutcomeMode::failed_only : raw.outcome ? OutcomeMode::all : OutcomeMode::off;
    options.tracer.track_outcomes = options.outcome != OutcomeMode::off;
    if (auto e = convert_one(raw.max_in_flight, options.tracer.max_in_flight, parse_max_in_flight)) return *e;

    options.tracer.udp_sends = raw.udp;
    options.tracer.dns_capture = raw.dns;
    if (raw.dns && raw.imds_v1) return UsageError{"--dns does not take --imds-v1: that reports HTTP requests only"};
    if (raw.udp && options.outcome != OutcomeMode::off) {
        return UsageError{std::string("--udp does not take ") + (raw.failed ? "--failed" : "--outcome") +
                          ": a UDP send has no handshake whose outcome could be followed"};
    }
    if (raw.udp && !raw.metrics.empty()) {
        return UsageError{"--metrics does not take --udp: its counters are TCP connect attempts and HTTP requests"};
    }
    if (raw.udp && raw.imds_v1) return UsageError{"--udp does not take --imds-v1: that reports HTTP requests only"};

    if (raw.top) options.mode = SessionMode::top;
    if (auto e = convert_one(raw.by, options.group_by, parse_grouping)) return *e;
    if (is_query_grouping(options.group_by)) options.tracer.dns_capture = true;  // queries are what is grouped
    if (raw.linklocal && is_query_grouping(options.group_by) && !raw.metrics.empty()) {
        return UsageError{
            "linklocal --metrics does not take --by qname: query names are untrusted and unbounded, no metric "
            "label; use -o json"};
    }
    if (options.tracer.dns_capture && !raw.metrics.empty()) {
        return UsageError{
            "--metrics does not take --dns (or --by qname): its counters are TCP connect attempts and "
            "HTTP requests"};
    }
    if (is_request_grouping(options.group_by) && !options.tracer.http_capture) {
        options.tracer.http_capture = true;  // requests are what is grouped
        options.tracer.http_ports.insert(options.tracer.http_ports.begin(), kDefaultHttpPort);
    }
    double alert_rate = 0;
    if (auto e = convert_one(raw.alert, alert_rate, parse_alert_rate)) return *e;
    if (!raw.alert.empty()) options.alert_rate = alert_rate;
    if (auto e = convert_one(raw.interval, options.top.interval, parse_interval)) return *e;
    if (auto e = convert_one(raw.rows, options.top.rows, parse_rows)) return *e;
    options.top.rows_given = !raw.rows.empty();
    if (auto e = convert_one(raw.sort, options.top.sort, parse_sort_column)) return *e;
    if (needs_outcomes(options.top.sort) && options.outcome == OutcomeMode::off) {
        return UsageError{"--sort " + raw.sort +
                          " needs --outcome: failures and latencies are known only when "
                          "connection outcomes are traced"};
    }
    if (auto e = table_columns(raw, options)) return *e;
    if (options.ancestor_detail == AncestorDetail::pid_and_comm) {
        if (raw.top) return UsageError{"top does not take --ancestry short: it names parents by pid and comm already"};
        if (options.format != OutputFormat::json || options.quiet)
            return UsageError{
                "--ancestry short shapes JSON records (-o json, --output); the table names parents by "
                "comm already"};
        if (options.ancestry_depth == 0) return UsageError{"--ancestry 0,short: no parents to write short"};
    }
    if (raw.top) {
        if (auto e = reject_in_top(raw, options)) return *e;
    }
    if (raw.linklocal) {
        if (auto e = linklocal_options(raw, options)) return *e;
    }
    if (auto e = reject_unused(raw, options)) return *e;
    return options;
}

// "--comm ''" (an unset shell variable, say) must not quietly mean "no filter".
std::optional<UsageError> reject_empty_values(const CLI::App& app) {
    for (const CLI::Option* option : app.get_options()) {
        if (option->get_type_size() == 0) continue;  // a flag
        for (const auto& value : option->results()) {
            if (value.empty())
                return UsageError{"invalid " + option->get_name() + " '': expected a value (see connsnoop --help)"};
        }
    }
    return std::nullopt;
}

// Edits between two words, a swap of neighbours counting as one ("dts" -> "dst").
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

// The long option closest to a mistyped one ("--dts" -> "--dst"), if one is close.
std::string closest_option(std::string_view typed, const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* command : std::array<const CLI::App*, 3>{&app, app.get_subcommand_ptr("top").get(),
                                                                  app.get_subcommand_ptr("linklocal").get()}) {
        for (const CLI::Option* option : command->get_options()) {
            for (const auto& name : option->get_lnames()) names.push_back("--" + name);
        }
    }
    std::string best;
    std::size_t best_distance = typed.size() <= 5 ? 1 : 2;
    for (const auto& name : names) {
        const auto distance = edit_distance(typed, name);
        if (distance < best_distance || (distance == best_distance && best.empty())) {
            best = name;
            best_distance = distance;
        }
    }
    if (best.empty()) {
        for (const auto& name : names) {  // an abbreviation: "--dur" for "--duration"
            if (typed.size() >= 4 && name.starts_with(typed)) return name;
        }
    }
    return best;
}

// The subcommands that define `typed` ("--rows"): an option of top or
// linklocal left over was given outside them, and is no typo to correct.
std::vector<std::string> subcommands_defining(std::string_view typed, const CLI::App& app) {
    std::vector<std::string> owners;
    for (const char* name : {"top", "linklocal"}) {
        for (const CLI::Option* option : app.get_subcommand_ptr(name)->get_options()) {
            const auto& names = option->get_lnames();
            if (std::find(names.begin(), names.end(), typed.substr(2)) != names.end()) {
                owners.push_back(std::string("`connsnoop ") + name + "`");
            }
        }
    }
    return owners;
}

// What was left over, in command-line order (CLI11 keeps it reversed): the
// first unknown option, with a suggestion, or the first stray argument.
UsageError describe_leftover(const CLI::App& app, int argc, const char* const* argv) {
    const auto leftover = app.remaining(true);
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (std::find(leftover.begin(), leftover.end(), arg) == leftover.end()) continue;
        if (arg.size() > 1 && arg.front() == '-') {
            const auto name = arg.substr(0, arg.find('='));
            if (const auto owners =
                    name.starts_with("--") ? subcommands_defining(name, app) : std::vector<std::string>();
                !owners.empty()) {
                std::string where = owners.front();
                for (std::size_t o = 1; o < owners.size(); ++o) where += " and " + owners[o];
                return UsageError{std::string(name) + " belongs to " + where + "; see connsnoop --help"};
            }
            const auto hint = name.starts_with("--") ? closest_option(name, app) : std::string();
            return UsageError{"unknown option " + escape_for_terminal(name) +
                              (hint.empty() ? "; see connsnoop --help" : "; did you mean " + hint + "?")};
        }
        return UsageError{"unexpected argument '" + escape_for_terminal(arg) + "'; see connsnoop --help"};
    }
    return UsageError{"unexpected arguments; see connsnoop --help"};
}

// CLI11's own messages, said the way the rest of connsnoop says things.
UsageError describe_parse_error(const CLI::ParseError& error) {
    const std::string what = error.what();
    const auto colon = what.find(": ");
    const std::string name = colon == std::string::npos ? std::string() : what.substr(0, colon);
    const std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    if (!name.empty() && detail.starts_with("At Most 1 required but received ")) {
        return UsageError{escape_for_terminal(name) + " given " + detail.substr(32) +
                          " times; it takes one value; see connsnoop --help"};
    }
    if (!name.empty() && detail.ends_with(" missing")) {
        return UsageError{escape_for_terminal(name) + " needs a value; see connsnoop --help"};
    }
    // CLI11 quotes what it did not expect: escaped, it stays one line whatever its bytes.
    return UsageError{escape_for_terminal(what) + "; see connsnoop --help"};
}

}  // namespace

std::string version_text() {
    return std::string("connsnoop ") + kConnsnoopVersion + " (libbpf " + std::to_string(libbpf_major_version()) + "." +
           std::to_string(libbpf_minor_version()) + ")";
}

ParsedCommandLine parse_command_line(int argc, const char* const* argv) {
    CLI::App app{
        "connsnoop: which process opens TCP connections to where, with its full command line.\n"
        "Captured in the kernel at connect time (IPv4 and IPv6), filtered there, streamed at once.",
        "connsnoop"};
    app.footer(kExamples);
    app.get_formatter()->column_width(34);
    RawArguments raw;
    define_options(app, raw);
    define_top_command(app, raw);
    define_linklocal_command(app, raw);
    app.require_subcommand(0, 1);
    app.allow_extras();  // leftovers are reported below, in order and with a suggestion
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return InfoRequest{app.help()};
    } catch (const CLI::ParseError& error) {
        return describe_parse_error(error);
    }
    if (!app.remaining(true).empty()) return describe_leftover(app, argc, argv);
    if (raw.version) return InfoRequest{version_text() + "\n"};
    raw.format_given = app.count("--format") > 0;
    raw.time_given = app.count("--time") > 0;
    raw.by_given = app.count("--by") > 0;
    raw.metrics_key_given = app.count("--metrics-key") > 0;
    if (auto empty = reject_empty_values(app)) return *empty;
    return to_options(raw);
}

}  // namespace connsnoop
