#include <gtest/gtest.h>

#include <vector>

#include "app/trace_loop.hpp"
#include "cli/options.hpp"
#include "command_line_helpers.hpp"

namespace connsnoop {
namespace {

using namespace cli_testing;

TEST(CommandLine, DefaultsTraceEverythingAsATable) {
    const auto options = parse_ok({});
    EXPECT_EQ(options.format, OutputFormat::table);
    EXPECT_EQ(options.time, TimeFormat::local);
    EXPECT_TRUE(options.tracer.filters.destinations.empty());
    EXPECT_TRUE(options.tracer.filters.destination_ports.empty());
    EXPECT_FALSE(options.max_events);
    EXPECT_FALSE(options.duration);
    EXPECT_EQ(options.tracer.argv_max, 8192U);
    EXPECT_EQ(options.tracer.ringbuf_bytes, 4U << 20);
}

TEST(CommandLine, HookNamesTheTracepointVariantInEveryModeThatLoadsOne) {
    EXPECT_EQ(parse_ok({}).tracer.hook, HookChoice::automatic);
    EXPECT_EQ(parse_ok({"--hook", "auto"}).tracer.hook, HookChoice::automatic);
    EXPECT_EQ(parse_ok({"--hook", "tp_btf"}).tracer.hook, HookChoice::tp_btf);
    EXPECT_EQ(parse_ok({"--hook", "raw_tp", "-o", "json"}).tracer.hook, HookChoice::raw_tp);
    EXPECT_EQ(parse_ok({"top", "--hook", "raw_tp"}).tracer.hook, HookChoice::raw_tp);
    EXPECT_EQ(parse_ok({"linklocal", "--hook", "raw_tp"}).tracer.hook, HookChoice::raw_tp);  // the exec tracker's
    EXPECT_EQ(usage_error({"--hook", "kprobe"}), "invalid --hook 'kprobe': expected auto, tp_btf or raw_tp");
    EXPECT_EQ(usage_error({"linklocal", "--ancestry", "0", "--hook", "tp_btf"}),
              "linklocal with --ancestry 0 loads no tracepoint program: --hook has nothing to choose");
}

TEST(CommandLine, ImdsMeansEveryMetadataEndpointOnPort80) {
    const auto options = parse_ok({"--imds"});
    std::vector<std::string> destinations;
    for (const auto& cidr : options.tracer.filters.destinations) destinations.push_back(cidr.to_string());
    EXPECT_EQ(destinations, (std::vector<std::string>{"169.254.169.254/32", "fd00:ec2::254/128", "169.254.170.2/32",
                                                      "169.254.170.23/32", "fd00:ec2::23/128", "100.100.100.200/32"}));
    EXPECT_EQ(options.tracer.filters.destination_ports, (std::vector<PortRange>{{80, 80}}));
}

TEST(CommandLine, RepeatableFiltersAccumulate) {
    const auto options = parse_ok(
        {"--dst",    "10.0.0.0/8",   "--dst",    "fd00::/8", "--port",  "443",        "--port",  "80",        "--pid",
         "12",       "--pid",        "34",       "--uid",    "0",       "--comm",     "curl",    "--comm",    "perl",
         "--cgroup", "system.slice", "--cgroup", "x",        "--netns", "4026531840", "--netns", "4026532000"});
    const auto& filters = options.tracer.filters;
    EXPECT_EQ(filters.destinations.size(), 2U);
    EXPECT_EQ(filters.destination_ports, (std::vector<PortRange>{{443, 443}, {80, 80}}));
    EXPECT_EQ(filters.pids, (std::vector<std::uint32_t>{12, 34}));
    EXPECT_EQ(filters.uids, (std::vector<std::uint32_t>{0}));
    EXPECT_EQ(filters.comms, (std::vector<std::string>{"curl", "perl"}));
    EXPECT_EQ(filters.cgroup_paths, (std::vector<std::string>{"system.slice", "x"}));
    EXPECT_EQ(filters.netns_inodes, (std::vector<std::uint32_t>{4026531840U, 4026532000U}));
}

// Connects to ::ffff:a.b.c.d are reported (and matched in the kernel) as IPv4.
TEST(CommandLine, V4MappedDestinationIsMatchedAsIpv4) {
    const auto options = parse_ok({"--dst", "::ffff:127.0.0.1", "--dst", "::ffff:10.0.0.0/104"});
    ASSERT_EQ(options.tracer.filters.destinations.size(), 2U);
    EXPECT_EQ(options.tracer.filters.destinations[0].to_string(), "127.0.0.1/32");
    EXPECT_EQ(options.tracer.filters.destinations[1].to_string(), "10.0.0.0/8");
}

TEST(CommandLine, NoHeaderOnlyForTheTable) {
    EXPECT_FALSE(parse_ok({"--no-header"}).header);
    EXPECT_TRUE(parse_ok({}).header);
    EXPECT_EQ(usage_error({"--no-header", "-o", "json"}),
              "--no-header applies to the event table only (JSON and top have no header line to drop)");
    EXPECT_EQ(usage_error({"top", "--no-header"}),
              "--no-header applies to the event table only (JSON and top have no header line to drop)");
}

TEST(CommandLine, ColumnsChooseTheTable) {
    EXPECT_TRUE(parse_ok({}).columns.empty());  // the default set
    EXPECT_EQ(parse_ok({"--columns", "pid,args,dest", "--no-header"}).columns,
              (std::vector<TableColumn>{TableColumn::pid, TableColumn::cmdline, TableColumn::destination}));
    EXPECT_EQ(parse_ok({"--outcome", "--columns", "time,result,latency", "--time", "iso"}).columns.size(), 3U);
    EXPECT_EQ(parse_ok({"--http", "--columns", "request,comm"}).columns.size(), 2U);
}

TEST(CommandLine, ColumnsAreRefusedWhereTheyMeanNothing) {
    EXPECT_EQ(
        usage_error({"--columns", "pid,bogus"}),
        "invalid --columns 'pid,bogus': unknown column 'bogus'; expected some of time, pid, ppid, parent, user, "
        "uid, comm, cmdline, args, command, proto, dst, dest, destination, port, result, latency, request, cgroup, "
        "container, unit, exe, ns_pid");
    EXPECT_EQ(usage_error({"--columns", "pid,"}).substr(0, 46), "invalid --columns 'pid,': unknown column ''; e");
    EXPECT_EQ(usage_error({"--columns", "pid,comm,pid"}), "invalid --columns 'pid,comm,pid': pid is named twice");
    EXPECT_EQ(usage_error({"--columns", "pid", "-o", "json"}),
              "--columns applies to the table only (a JSON record has every field)");
    EXPECT_EQ(usage_error({"--columns", "pid", "--output", "/tmp/x"}),
              "--columns applies to the table only (a JSON record has every field)");
    EXPECT_EQ(usage_error({"--columns", "pid", "-q"}), "--columns applies to the table, and -q writes none");
    EXPECT_EQ(usage_error({"top", "--columns", "pid"}),
              "top does not take --columns: its columns follow the terminal width and --sort");
    EXPECT_EQ(usage_error({"--columns", "pid,latency"}), "--columns result and latency need --outcome or --failed");
    EXPECT_EQ(usage_error({"--columns", "request"}),
              "--columns request needs --http (or --http-port, --imds-v1) or --dns");
    EXPECT_EQ(usage_error({"--columns", "time", "--time", "none"}),
              "--columns time and --time none contradict each other");
    EXPECT_EQ(usage_error({"--columns", "pid", "--time", "iso"}),
              "--time formats the time column: add time to --columns");
}

TEST(CommandLine, AncestryTakesADepthShortOrBoth) {
    EXPECT_EQ(parse_ok({}).ancestor_detail, AncestorDetail::full);
    const auto short_only = parse_ok({"-o", "json", "--ancestry", "short"});
    EXPECT_EQ(short_only.ancestry_depth, 4);
    EXPECT_EQ(short_only.ancestor_detail, AncestorDetail::pid_and_comm);
    const auto both = parse_ok({"--output", "/tmp/x.jsonl", "--ancestry", "2,short"});
    EXPECT_EQ(both.ancestry_depth, 2);
    EXPECT_EQ(both.ancestor_detail, AncestorDetail::pid_and_comm);
    EXPECT_EQ(parse_ok({"--ancestry", "short,3", "-o", "json"}).ancestry_depth, 3);
    EXPECT_EQ(parse_ok({"--ancestry", "3"}).ancestor_detail, AncestorDetail::full);
    EXPECT_EQ(parse_ok({"--ancestry", "full"}).ancestry_depth, 4);
    for (const char* bad : {"brief", "2,short,3", "short,short", "17", "2,", "-1"}) {
        EXPECT_EQ(usage_error({"--ancestry", bad, "-o", "json"}),
                  std::string("invalid --ancestry '") + bad +
                      "': expected a number of levels from 0 to 16, short, or both (4,short)");
    }
    EXPECT_EQ(usage_error({"--ancestry", "short"}),
              "--ancestry short shapes JSON records (-o json, --output); the table names parents by comm already");
    EXPECT_EQ(usage_error({"--ancestry", "short", "-o", "json", "-q"}),
              "--ancestry short shapes JSON records (-o json, --output); the table names parents by comm already");
    EXPECT_EQ(usage_error({"top", "--ancestry", "short", "-o", "json"}),
              "top does not take --ancestry short: it names parents by pid and comm already");
    EXPECT_EQ(usage_error({"--ancestry", "0,short", "-o", "json"}), "--ancestry 0,short: no parents to write short");
}

// Issue 15: "(filters: all)" with --container or --unit, and "Ctrl-C to end."
// with --duration.
TEST(StartBanner, NamesEveryFilterAndHowTheRunEnds) {
    EXPECT_EQ(start_banner(parse_ok({}), "tp_btf"),
              "connsnoop: tracing TCP connects via tp_btf (filters: all). Ctrl-C to end.");
    EXPECT_EQ(start_banner(parse_ok({"--container", "abc123", "--unit", "web", "--duration", "1h30m"}), "tp_btf"),
              "connsnoop: tracing TCP connects via tp_btf (filters: container abc123, unit web.service). "
              "Ends after 5400 s.");
    EXPECT_EQ(
        start_banner(parse_ok({"--imds", "--not-comm", "curl", "--outcome", "--http", "--duration", "2.5"}), "raw_tp"),
        "connsnoop: tracing TCP connects via raw_tp (filters: dst 169.254.169.254/32, dst fd00:ec2::254/128, "
        "dst 169.254.170.2/32, dst 169.254.170.23/32, dst fd00:ec2::23/128, dst 100.100.100.200/32, port 80, "
        "not comm curl; following outcomes; HTTP requests on port 80). Ends after 2.5 s.");
}

TEST(CommandLine, ExclusionsAreKernelFilters) {
    const auto options = parse_ok({"--not-dst", "10.0.0.0/8", "--not-dst", "::ffff:127.0.0.1", "--not-comm", "curl"});
    const auto& filters = options.tracer.filters;
    ASSERT_EQ(filters.excluded_destinations.size(), 2U);
    EXPECT_EQ(filters.excluded_destinations[1].to_string(), "127.0.0.1/32");
    EXPECT_EQ(filters.excluded_comms, std::vector<std::string>{"curl"});
    EXPECT_TRUE(filters.destinations.empty());
    EXPECT_EQ(usage_error({"--not-dst", "300.0.0.1"}).find("invalid --not-dst '300.0.0.1'"), 0U);
    EXPECT_EQ(usage_error({"--not-comm", "sixteen-bytes-xx"}).find("invalid --not-comm 'sixteen-bytes-xx'"), 0U);
}

TEST(CommandLine, PortRangesAndSinglePortsMix) {
    const auto options = parse_ok({"--port", "8000-8999", "--port", "443"});
    EXPECT_EQ(options.tracer.filters.destination_ports, (std::vector<PortRange>{{8000, 8999}, {443, 443}}));
    EXPECT_EQ(usage_error({"--port", "9000-8000"}),
              "invalid --port '9000-8000': expected a port from 1 to 65535 or a range FIRST-LAST, e.g. 443 or "
              "8000-8999");
}

TEST(CommandLine, TooManyCgroupsIsRefused) {
    std::vector<const char*> args;
    for (int i = 0; i < 9; ++i) args.insert(args.end(), {"--cgroup", "a"});
    EXPECT_EQ(usage_error(args), "too many --cgroup directories (9): at most 8");
}

TEST(CommandLine, UnitWithoutTypeMeansService) {
    EXPECT_EQ(parse_ok({"--unit", "web"}).unit, "web.service");
    EXPECT_EQ(parse_ok({"--unit", "web.service"}).unit, "web.service");
    EXPECT_EQ(parse_ok({"--unit", "session-2.scope"}).unit, "session-2.scope");
    EXPECT_EQ(parse_ok({"--unit", "my.app"}).unit, "my.app.service");
}

TEST(CommandLine, DurationCombinesUnits) {
    EXPECT_EQ(*parse_ok({"--duration", "1h30m"}).duration, std::chrono::minutes(90));
}

TEST(CommandLine, TypoSuggestsTheOptionMeant) {
    EXPECT_EQ(usage_error({"--dts", "10.0.0.0/8"}), "unknown option --dts; did you mean --dst?");
    EXPECT_EQ(usage_error({"--imds", "--outcom"}), "unknown option --outcom; did you mean --outcome?");
    EXPECT_EQ(usage_error({"--durat", "5"}), "unknown option --durat; did you mean --duration?");
    EXPECT_EQ(usage_error({"--frobnicate"}), "unknown option --frobnicate; see connsnoop --help");
    EXPECT_EQ(usage_error({"--imds", "stray", "--dts"}), "unexpected argument 'stray'; see connsnoop --help");
    EXPECT_EQ(usage_error({"top", "--intervl", "2"}), "unknown option --intervl; did you mean --interval?");
}

// An option of top or linklocal given where it does not exist is named with
// where it belongs, never "did you mean" itself.
TEST(CommandLine, SubcommandOptionsElsewhereSayWhereTheyBelong) {
    EXPECT_EQ(usage_error({"--rows", "3"}),
              "--rows belongs to `connsnoop top` and `connsnoop linklocal`; see connsnoop --help");
    EXPECT_EQ(usage_error({"--interval", "2"}),
              "--interval belongs to `connsnoop top` and `connsnoop linklocal`; see connsnoop --help");
    EXPECT_EQ(usage_error({"--sort", "key"}), "--sort belongs to `connsnoop top`; see connsnoop --help");
    EXPECT_EQ(usage_error({"linklocal", "--sort", "key"}), "--sort belongs to `connsnoop top`; see connsnoop --help");
    EXPECT_EQ(usage_error({"--budget", "5"}), "--budget belongs to `connsnoop linklocal`; see connsnoop --help");
    EXPECT_EQ(usage_error({"top", "--service", "dns=10.0.0.2"}),
              "--service belongs to `connsnoop linklocal`; see connsnoop --help");
    EXPECT_EQ(usage_error({"--rows=3"}),
              "--rows belongs to `connsnoop top` and `connsnoop linklocal`; see connsnoop --help");
}

TEST(CommandLine, MessagesNameTheOptionInOneLine) {
    EXPECT_EQ(usage_error({"--http-port", "99999"}),
              "invalid --http-port '99999': expected a port number from 1 to 65535");
    EXPECT_EQ(usage_error({"--count", "1", "--count", "2"}),
              "--count given 2 times; it takes one value; see connsnoop --help");
    EXPECT_EQ(usage_error({"--count"}), "--count needs a value; see connsnoop --help");
}

TEST(CommandLine, OutputStopAndCaptureOptions) {
    const auto options = parse_ok({"-o", "table", "--time", "iso", "--wide", "--count", "5", "--duration", "1.5",
                                   "--argv-max", "512", "--ringbuf-size", "256K", "-v"});
    EXPECT_EQ(options.format, OutputFormat::table);
    EXPECT_EQ(options.time, TimeFormat::iso);
    EXPECT_TRUE(options.wide);
    EXPECT_EQ(*options.max_events, 5U);
    EXPECT_EQ(*options.duration, std::chrono::milliseconds(1500));
    EXPECT_EQ(options.tracer.argv_max, 512U);
    EXPECT_EQ(options.tracer.ringbuf_bytes, 256U << 10);
    EXPECT_TRUE(options.verbose);
    EXPECT_TRUE(options.tracer.verbose);
}

// Options that shape something this run does not make are refused with
// the reason, never taken and ignored.
TEST(CommandLine, OptionsForAnOutputNotWrittenAreRefused) {
    EXPECT_EQ(usage_error({"-o", "json", "--wide"}), "--wide applies to the table; JSON lines are never cut");
    EXPECT_EQ(usage_error({"--output", "events.json", "--wide"}),
              "--wide applies to the table; JSON lines are never cut");
    EXPECT_EQ(usage_error({"-q", "--wide"}), "--wide applies to the table, and -q writes none");
    EXPECT_EQ(usage_error({"-q", "--no-header"}), "--no-header applies to the table, and -q writes none");
    EXPECT_EQ(usage_error({"-o", "json", "--time", "iso"}),
              "--time formats the table's time column; JSON records carry UTC (ISO 8601)");
    EXPECT_EQ(usage_error({"-q", "--time", "none"}), "--time formats the table's time column, and -q writes none");
    EXPECT_EQ(usage_error({"--metrics-key", "exe"}),
              "--metrics-key labels the --metrics series: add --metrics ADDR:PORT");
    EXPECT_EQ(usage_error({"top", "--metrics-max-series", "5"}),
              "--metrics-max-series bounds the --metrics series: add --metrics ADDR:PORT");
    EXPECT_EQ(usage_error({"--max-in-flight", "100"}),
              "--max-in-flight bounds the attempts --outcome follows: add --outcome or --failed");
    EXPECT_EQ(usage_error({"--by", "pid"}),
              "--by groups `connsnoop top` and --alert: add --alert RATE, or run connsnoop top");
    EXPECT_EQ(usage_error({"--imds-v1", "--outcome"}),
              "--imds-v1 reports requests, not connection attempts: --outcome has nothing to follow");
    EXPECT_EQ(usage_error({"--imds-v1", "--failed"}),
              "--imds-v1 reports requests, not connection attempts: --failed has nothing to follow");
    EXPECT_EQ(usage_error({"top", "--imds-v1"}), "top ranks HTTP requests only with --by path or --by imds");
    EXPECT_EQ(usage_error({"top", "-q", "--metrics", ":9464", "--rows", "5"}),
              "--rows sizes the text blocks, and -q writes none");
    EXPECT_EQ(usage_error({"linklocal", "-o", "json", "--rows", "5"}),
              "linklocal --rows cuts its text blocks; its JSON records have every row");
    EXPECT_TRUE(parse_ok({"top", "-o", "json", "--rows", "5"}).top.rows_given);  // top's JSON rows are cut to it
    EXPECT_FALSE(parse_ok({"top"}).top.rows_given);
    // Where they mean something they still work.
    // Cells are cut to their columns in a file too: --wide keeps them whole there.
    EXPECT_TRUE(parse_ok({"--output", "events.log", "-o", "table", "--wide"}).wide);
    EXPECT_EQ(parse_ok({"--output", "events.log", "-o", "table", "--time", "iso"}).time, TimeFormat::iso);
    EXPECT_EQ(parse_ok({"--metrics", ":9464", "--metrics-key", "exe"}).metrics.key, MetricsKey::exe);
    EXPECT_EQ(parse_ok({"linklocal", "--metrics", ":9464", "--metrics-key", "unit"}).metrics.key, MetricsKey::unit);
    EXPECT_EQ(parse_ok({"--failed", "--max-in-flight", "10"}).tracer.max_in_flight, 10U);
    EXPECT_EQ(parse_ok({"--alert", "5", "--by", "pid"}).group_by, GroupBy::pid);
    EXPECT_EQ(parse_ok({"top", "--imds-v1", "--by", "imds"}).group_by, GroupBy::imds);
    EXPECT_TRUE(parse_ok({"--imds-v1"}).imds_v1_only);
}

TEST(CommandLine, FleetOptions) {
    const auto options = parse_ok({"--metrics", "127.0.0.1:9464", "--metrics-key", "unit", "--metrics-max-series", "50",
                                   "--quiet", "--output", "/var/log/connsnoop.json"});
    ASSERT_TRUE(options.metrics.listen);
    EXPECT_EQ(options.metrics.listen->port, 9464);
    EXPECT_EQ(options.metrics.key, MetricsKey::unit);
    EXPECT_EQ(options.metrics.max_series, 50U);
    EXPECT_TRUE(options.quiet);
    EXPECT_EQ(options.output_path, "/var/log/connsnoop.json");
    EXPECT_EQ(options.format, OutputFormat::json);  // --output alone means JSON Lines
    EXPECT_EQ(parse_ok({"--output", "x.log", "-o", "table"}).format, OutputFormat::table);
    EXPECT_EQ(usage_error({"--metrics-key", "pod"}),
              "invalid --metrics-key 'pod': expected comm, exe, unit or container");
    EXPECT_EQ(usage_error({"--metrics", "9464"}).find("invalid --metrics '9464'"), 0U);
}

TEST(CommandLine, BadValuesNameTheValue) {
    EXPECT_EQ(usage_error({"--dst", "300.1.1.1/33"}).find("invalid --dst '300.1.1.1/33'"), 0U);
    EXPECT_EQ(usage_error({"--port", "70000"}).find("invalid --port '70000'"), 0U);
    EXPECT_EQ(usage_error({"--pid", "abc"}).find("invalid --pid 'abc'"), 0U);
    EXPECT_EQ(usage_error({"--uid", "nobody-here-xyz"}).find("invalid --uid 'nobody-here-xyz'"), 0U);
    EXPECT_EQ(usage_error({"-o", "yaml"}), "invalid --format 'yaml': expected table or json");
    EXPECT_EQ(usage_error({"--time", "utc"}), "invalid --time 'utc': expected local, iso or none");
    EXPECT_EQ(usage_error({"--count", "0"}).find("invalid --count '0'"), 0U);
    EXPECT_EQ(usage_error({"--duration", "soon"}).find("invalid --duration 'soon'"), 0U);
    EXPECT_EQ(usage_error({"--comm", "a-name-longer-than-15"}).find("invalid --comm"), 0U);
    EXPECT_EQ(usage_error({"--netns", "no-such-namespace-xyz"}).find("invalid --netns 'no-such-namespace-xyz'"), 0U);
}

TEST(CommandLine, UnknownOptionsAndMissingValuesAreUsageErrors) {
    EXPECT_NE(usage_error({"--frobnicate"}).find("--frobnicate"), std::string::npos);
    EXPECT_NE(usage_error({"--port"}), "");
    EXPECT_NE(usage_error({"stray"}), "");
}

TEST(CommandLine, BadValuesAreEscapedInMessages) {
    const auto message = usage_error({"--pid", "\x1b[2J"});
    EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
    EXPECT_NE(message.find("\\x1b[2J"), std::string::npos) << message;
}

TEST(CommandLine, HelpAndVersionAreInfo) {
    auto help = parse({"--help"});
    ASSERT_TRUE(std::holds_alternative<InfoRequest>(help));
    EXPECT_NE(std::get<InfoRequest>(help).text.find("--imds"), std::string::npos);
    auto version = parse({"--version"});
    ASSERT_TRUE(std::holds_alternative<InfoRequest>(version));
    EXPECT_EQ(std::get<InfoRequest>(version).text.rfind("connsnoop ", 0), 0U);
}

}  // namespace
}  // namespace connsnoop

namespace connsnoop {
namespace {

TEST(CommandLine, UdpAddsTheUdpHooksAndKeepsTheFilters) {
    const auto options = parse_ok({"--udp", "--port", "53", "--comm", "dig"});
    EXPECT_TRUE(options.tracer.udp_sends);
    EXPECT_FALSE(options.tracer.dns_capture);
    EXPECT_EQ(options.tracer.filters.destination_ports, (std::vector<PortRange>{{53, 53}}));
    EXPECT_EQ(options.tracer.filters.comms, (std::vector<std::string>{"dig"}));
    EXPECT_FALSE(parse_ok({}).tracer.udp_sends);
}

TEST(CommandLine, UdpRefusesWhatHasNoMeaningForADatagram) {
    EXPECT_EQ(usage_error({"--udp", "--outcome"}),
              "--udp does not take --outcome: a UDP send has no handshake whose outcome could be followed");
    EXPECT_EQ(usage_error({"--udp", "--failed"}),
              "--udp does not take --failed: a UDP send has no handshake whose outcome could be followed");
    EXPECT_EQ(usage_error({"--udp", "--metrics", "127.0.0.1:9100"}),
              "--metrics does not take --udp: its counters are TCP connect attempts and HTTP requests");
}

TEST(CommandLine, DnsAndTopByQname) {
    EXPECT_TRUE(parse_ok({"--dns", "--dst", "169.254.169.253"}).tracer.dns_capture);
    const auto top = parse_ok({"top", "--by", "qname"});
    EXPECT_EQ(top.group_by, GroupBy::qname);
    EXPECT_TRUE(top.tracer.dns_capture);  // queries are what is grouped
    EXPECT_FALSE(top.tracer.http_capture);
    EXPECT_EQ(usage_error({"top", "--dns"}), "top ranks DNS queries only with --by qname");
    EXPECT_EQ(usage_error({"top", "--udp", "--by", "qname"}),
              "top --by qname ranks requests or queries, not UDP sends: drop --udp");
    EXPECT_EQ(usage_error({"top", "--by", "qname", "--metrics", "127.0.0.1:9100"}),
              "--metrics does not take --dns (or --by qname): its counters are TCP connect attempts and HTTP requests");
    EXPECT_EQ(usage_error({"--dns", "--imds-v1"}), "--dns does not take --imds-v1: that reports HTTP requests only");
}

}  // namespace
}  // namespace connsnoop
