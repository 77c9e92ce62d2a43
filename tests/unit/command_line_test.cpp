#include <gtest/gtest.h>

#include <vector>

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

TEST(CommandLine, ImdsMeansBothAddressesOnPort80) {
    const auto options = parse_ok({"--imds"});
    ASSERT_EQ(options.tracer.filters.destinations.size(), 2U);
    EXPECT_EQ(options.tracer.filters.destinations[0].to_string(), "169.254.169.254/32");
    EXPECT_EQ(options.tracer.filters.destinations[1].to_string(), "fd00:ec2::254/128");
    EXPECT_EQ(options.tracer.filters.destination_ports, std::vector<std::uint16_t>{80});
}

TEST(CommandLine, RepeatableFiltersAccumulate) {
    const auto options =
        parse_ok({"--dst",    "10.0.0.0/8",   "--dst",   "fd00::/8",   "--port",  "443",       "--port", "80",
                  "--pid",    "12",           "--pid",   "34",         "--uid",   "0",         "--comm", "curl",
                  "--cgroup", "system.slice", "--netns", "4026531840", "--netns", "4026532000"});
    const auto& filters = options.tracer.filters;
    EXPECT_EQ(filters.destinations.size(), 2U);
    EXPECT_EQ(filters.destination_ports, (std::vector<std::uint16_t>{443, 80}));
    EXPECT_EQ(filters.pids, (std::vector<std::uint32_t>{12, 34}));
    EXPECT_EQ(filters.uids, (std::vector<std::uint32_t>{0}));
    EXPECT_EQ(filters.comm, "curl");
    EXPECT_EQ(filters.cgroup_path, "system.slice");
    EXPECT_EQ(filters.netns_inodes, (std::vector<std::uint32_t>{4026531840U, 4026532000U}));
}

TEST(CommandLine, OutputStopAndCaptureOptions) {
    const auto options = parse_ok({"-o", "json", "--time", "iso", "--wide", "--count", "5", "--duration", "1.5",
                                   "--argv-max", "512", "--ringbuf-size", "256K", "-v"});
    EXPECT_EQ(options.format, OutputFormat::json);
    EXPECT_EQ(options.time, TimeFormat::iso);
    EXPECT_TRUE(options.wide);
    EXPECT_EQ(*options.max_events, 5U);
    EXPECT_EQ(*options.duration, std::chrono::milliseconds(1500));
    EXPECT_EQ(options.tracer.argv_max, 512U);
    EXPECT_EQ(options.tracer.ringbuf_bytes, 256U << 10);
    EXPECT_TRUE(options.verbose);
    EXPECT_TRUE(options.tracer.verbose);
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
