// The link-local view's pure parts: interval differences of the kernel's
// counters, grouping against the budget, the alert that names who spent
// it, the text block, the metrics, and the command line.
#include <gtest/gtest.h>

#include <variant>

#include "aggregate/connect_metrics.hpp"
#include "aggregate/linklocal_report.hpp"
#include "cli/options.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/linklocal_counters.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/json_format.hpp"
#include "output/linklocal_format.hpp"
#include "output/prometheus_format.hpp"

namespace connsnoop {
namespace {

LinklocalCounter counter(std::uint32_t pid, const std::string& comm, std::uint16_t service,
                         LinklocalDirection direction, std::uint64_t packets, std::uint64_t bytes) {
    LinklocalCounter c;
    c.owner = {pid, 1000, 1000, 77, comm};
    c.service = service;
    c.protocol = LinklocalProtocol::udp;
    c.direction = direction;
    c.packets = packets;
    c.bytes = bytes;
    return c;
}

const std::vector<LinklocalService> kServices = {{"metadata", *parse_cidr("169.254.169.254")},
                                                 {"dns", *parse_cidr("169.254.169.253")}};

TEST(LinklocalSampler, ReportsTheDifferenceSinceTheLastRead) {
    LinklocalSampler sampler;
    auto first = sampler.take({counter(10, "dig", 1, LinklocalDirection::sent, 5, 300)}, 0, 1.0);
    ASSERT_EQ(first.traffic.size(), 1U);
    EXPECT_EQ(first.traffic[0].packets, 5U);
    auto second = sampler.take({counter(10, "dig", 1, LinklocalDirection::sent, 12, 720)}, 3, 1.0);
    ASSERT_EQ(second.traffic.size(), 1U);
    EXPECT_EQ(second.traffic[0].packets, 7U);
    EXPECT_EQ(second.traffic[0].bytes, 420U);
    EXPECT_EQ(second.uncounted_packets, 3U);
    EXPECT_EQ(second.traffic[0].process.comm, "dig");
    EXPECT_TRUE(second.traffic[0].owner_known);
    // unchanged: no row
    EXPECT_TRUE(sampler.take({counter(10, "dig", 1, LinklocalDirection::sent, 12, 720)}, 3, 1.0).traffic.empty());
    // deleted and made again in the kernel: counted from zero, never negative
    auto restarted = sampler.take({counter(10, "dig", 1, LinklocalDirection::sent, 2, 120)}, 3, 1.0);
    ASSERT_EQ(restarted.traffic.size(), 1U);
    EXPECT_EQ(restarted.traffic[0].packets, 2U);
}

TEST(LinklocalSampler, ForgetsCountersIdleForAMinuteOfReads) {
    LinklocalSampler sampler;
    const std::vector<LinklocalCounter> counters{counter(10, "dig", 1, LinklocalDirection::sent, 5, 300)};
    sampler.take(counters, 0, 1.0);
    for (int i = 0; i < LinklocalSampler::kIdleReadsBeforeForgetting - 1; ++i) sampler.take(counters, 0, 1.0);
    EXPECT_TRUE(sampler.take_idle_counters().empty());
    sampler.take(counters, 0, 1.0);
    const auto idle = sampler.take_idle_counters();
    ASSERT_EQ(idle.size(), 1U);
    EXPECT_EQ(idle[0].owner.pid, 10U);
    EXPECT_TRUE(sampler.take_idle_counters().empty());
}

LinklocalSample sample_of(const std::vector<LinklocalCounter>& counters, double seconds = 1.0) {
    LinklocalSampler sampler;
    return sampler.take(counters, 0, seconds);
}

TEST(LinklocalReport, GroupsSumsAndSortsByPacketsSent) {
    const auto sample = sample_of({
        counter(10, "dig", 1, LinklocalDirection::sent, 5, 300),
        counter(10, "dig", 1, LinklocalDirection::received, 5, 500),
        counter(20, "flood", 1, LinklocalDirection::sent, 900, 54000),
        counter(30, "dig", 0, LinklocalDirection::sent, 7, 420),
        counter(0, "", 0, LinklocalDirection::received, 2, 104),
    });
    auto report = build_linklocal_report(sample, GroupBy::pid, kServices, 1024);
    ASSERT_EQ(report.rows.size(), 4U);
    EXPECT_EQ(report.rows[0].key, "20");
    EXPECT_EQ(report.rows[1].key, "30");
    EXPECT_EQ(report.rows[2].key, "10");
    EXPECT_EQ(report.rows[2].received, (LinklocalFlow{5, 500}));
    EXPECT_EQ(report.rows[3].key, kUnknownOwnerKey);
    EXPECT_FALSE(report.rows[3].owner_known);
    EXPECT_EQ(report.sent, (LinklocalFlow{912, 54720}));
    EXPECT_EQ(report.received, (LinklocalFlow{7, 604}));

    report = build_linklocal_report(sample, GroupBy::comm, kServices, 1024);
    ASSERT_EQ(report.rows.size(), 3U);
    EXPECT_EQ(report.rows[1].key, "dig");
    EXPECT_EQ(report.rows[1].processes, 2U);
    ASSERT_EQ(report.rows[1].services.size(), 2U);  // metadata and dns, in service order
    EXPECT_EQ(report.rows[1].services[0].service, 0);
    EXPECT_EQ(report.rows[1].services[1].sent, (LinklocalFlow{5, 300}));
}

TEST(LinklocalAlert, FiresOnceNamingTheFewestThatCrossedTheLineThenResolves) {
    LinklocalAlertWatch watch(50);  // 512 pps of 1024
    auto quiet = build_linklocal_report(sample_of({counter(10, "dig", 1, LinklocalDirection::sent, 100, 1)}),
                                        GroupBy::pid, kServices, 1024);
    EXPECT_FALSE(watch.check(quiet));
    EXPECT_FALSE(quiet.alert_firing);

    auto loud = build_linklocal_report(sample_of({
                                           counter(10, "dig", 1, LinklocalDirection::sent, 100, 1),
                                           counter(20, "flood", 1, LinklocalDirection::sent, 600, 1),
                                           counter(30, "curl", 0, LinklocalDirection::sent, 40, 1),
                                       }),
                                       GroupBy::pid, kServices, 1024);
    const auto fired = watch.check(loud);
    ASSERT_TRUE(fired);
    EXPECT_TRUE(fired->firing);
    EXPECT_EQ(fired->spenders, std::vector<std::string>{"20"});
    EXPECT_TRUE(loud.alert_firing);
    EXPECT_NE(format_linklocal_alert(*fired, loud).find("spent by 20 (flood)"), std::string::npos)
        << format_linklocal_alert(*fired, loud);
    EXPECT_FALSE(watch.check(loud)) << "still firing: no second notice";

    // Two that only together cross the line are both named, largest first.
    LinklocalAlertWatch shared(50);
    auto two = build_linklocal_report(sample_of({
                                          counter(10, "a", 1, LinklocalDirection::sent, 300, 1),
                                          counter(20, "b", 1, LinklocalDirection::sent, 400, 1),
                                          counter(30, "c", 1, LinklocalDirection::sent, 10, 1),
                                      }),
                                      GroupBy::pid, kServices, 1024);
    EXPECT_EQ(shared.check(two)->spenders, (std::vector<std::string>{"20", "10"}));

    const auto resolved = watch.check(quiet);
    ASSERT_TRUE(resolved);
    EXPECT_FALSE(resolved->firing);
    EXPECT_EQ(linklocal_alert_to_json(*resolved, quiet)["state"], "resolved");
}

TEST(LinklocalFormat, FitsTheWidthAndEscapesNames) {
    auto sample = sample_of({counter(10, "evil\x1b[2J", 1, LinklocalDirection::sent, 2048, 4096)}, 2.0);
    sample.traffic[0].process.argv = {"/bin/evil", "\x1b]0;title\x07"};
    const auto report = build_linklocal_report(sample, GroupBy::pid, kServices, 1024);
    const auto lines = format_linklocal_block(report, 80);
    ASSERT_GE(lines.size(), 5U);
    EXPECT_NE(lines[0].find("1024.0 pkt/s of 1024 budget"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("100%"), std::string::npos) << lines[0];
    for (const auto& line : lines) {
        EXPECT_LE(display_width(line), 80U) << line;
        EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
        EXPECT_EQ(line.find('\x07'), std::string::npos) << line;
    }
    EXPECT_NE(lines[4].find("dns/udp 1024"), std::string::npos) << lines[4];
    const auto json = linklocal_to_json(report);
    EXPECT_EQ(json["rows"][0]["pid"], 10);
    EXPECT_EQ(json["rows"][0]["sent_pps"], 1024.0);
    EXPECT_EQ(json["total"]["sent_packets"], 2048);
}

TEST(LinklocalMetrics, SeriesPerServiceWayProtocolAndKeyWithEscapedLabels) {
    ConnectMetrics metrics(MetricsConfig{MetricsKey::comm, {}, 1000});
    ConnectEvent owner;
    owner.comm = "a\"b\\c";  // escaped for the terminal, then as a label value, as every series
    metrics.record_linklocal(owner, true, {"", "dns", "sent", "udp"}, 10, 600);
    metrics.record_linklocal(owner, true, {"", "dns", "sent", "udp"}, 5, 300);
    metrics.record_linklocal(owner, false, {"", "metadata", "received", "tcp"}, 1, 52);
    metrics.update_linklocal_rate(1024, 15);
    const auto text = format_prometheus(metrics.snapshot(), "test");
    EXPECT_NE(text.find("connsnoop_linklocal_packets_total{service=\"dns\",direction=\"sent\",protocol=\"udp\","
                        "comm=\"a\\\"b\\\\\\\\c\"} 15\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("connsnoop_linklocal_bytes_total{service=\"metadata\",direction=\"received\",protocol="
                        "\"tcp\",comm=\"unknown\"} 52\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("connsnoop_linklocal_budget_pps 1024\n"), std::string::npos) << text;
    // Without the linklocal view, no linklocal series at all.
    ConnectMetrics plain(MetricsConfig{});
    EXPECT_EQ(format_prometheus(plain.snapshot(), "test").find("linklocal"), std::string::npos);
}

DnsQueryEvent query(std::uint32_t pid, const std::string& destination, const std::string& name) {
    DnsQueryEvent q;
    q.sender.pid = pid;
    q.sender.destination = parse_cidr(destination)->network;
    q.sender.destination_port = 53;
    q.name = name;
    return q;
}

TEST(LinklocalQueries, CountsQueriesToTheServicesByName) {
    LinklocalQueryCounter counter(kServices);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(counter.record(query(10, "169.254.169.253", "a.example")));
    EXPECT_TRUE(counter.record(query(11, "169.254.169.253", "a.example")));
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(counter.record(query(12, "169.254.169.253", "b.example")));
    EXPECT_TRUE(counter.record(query(12, "169.254.169.254", "b.example")));  // odd, but to a service
    // Another resolver spends no budget: not counted.
    EXPECT_FALSE(counter.record(query(10, "127.0.0.53", "a.example")));
    EXPECT_TRUE(counter.record(query(13, "169.254.169.253", "a\\\\b\\032c.example")));

    const auto rows = counter.take();
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].qname, "b.example");
    EXPECT_EQ(rows[0].queries, 6U);
    EXPECT_EQ(rows[0].processes, 1U);
    const std::vector<std::pair<std::uint16_t, std::uint64_t>> b_services = {{0, 1}, {1, 5}};
    EXPECT_EQ(rows[0].services, b_services);
    EXPECT_EQ(rows[1].qname, "a.example");
    EXPECT_EQ(rows[1].queries, 4U);
    EXPECT_EQ(rows[1].processes, 2U);
    EXPECT_EQ(rows[2].queries, 1U);
    EXPECT_TRUE(counter.take().empty()) << "each interval starts anew";
}

TEST(LinklocalQueries, ReportShowsNamesBesideTheHostTotalUnescapedTwice) {
    LinklocalQueryCounter queries(kServices);
    for (int i = 0; i < 600; ++i) queries.record(query(20, "169.254.169.253", "flood.example"));
    queries.record(query(21, "169.254.169.253", "we\\\\ird\\027.example"));
    auto report = build_linklocal_report(sample_of({counter(20, "flood", 1, LinklocalDirection::sent, 700, 42000),
                                                    counter(21, "dig", 1, LinklocalDirection::sent, 1, 60)},
                                                   1.0),
                                         GroupBy::qname, kServices, 1024);
    EXPECT_TRUE(report.rows.empty()) << "packets cannot be told apart by name";
    EXPECT_EQ(report.sent.packets, 701U);
    report.queries = queries.take();
    report.query_total = 601;

    const auto lines = format_linklocal_block(report, 120);
    ASSERT_EQ(lines.size(), 6U);
    EXPECT_NE(lines[0].find("701.0 pkt/s"), std::string::npos) << lines[0];
    EXPECT_NE(lines[3].find("601.0 queries/s, 59% of the budget"), std::string::npos) << lines[3];
    EXPECT_NE(lines[4].find("600   58.6%     1  dns 600"), std::string::npos) << lines[4];
    EXPECT_TRUE(lines[4].ends_with(" flood.example")) << lines[4];
    EXPECT_TRUE(lines[5].ends_with(" we\\\\ird\\027.example")) << lines[5];

    const auto json = linklocal_to_json(report);
    EXPECT_EQ(json["group_by"], "qname");
    EXPECT_EQ(json["query_total"], 601);
    EXPECT_EQ(json["queries"][0]["qname"], "flood.example");
    EXPECT_EQ(json["queries"][0]["queries"], 600);
    EXPECT_EQ(json["queries"][0]["budget_share"], 0.586);
    EXPECT_EQ(json["queries"][0]["services"][0]["service"], "dns");
    EXPECT_EQ(json["queries"][1]["qname"], "we\\\\ird\\027.example");
    EXPECT_NE(to_json_line(json).find(R"("qname":"we\\\\ird\\027.example")"), std::string::npos)
        << "JSON escaping only: one backslash in the name is two in the JSON text";

    LinklocalAlertWatch watch(50);
    const auto alert = watch.check(report);
    ASSERT_TRUE(alert);
    EXPECT_EQ(alert->spenders, std::vector<std::string>{"flood.example"});
    EXPECT_NE(format_linklocal_alert(*alert, report).find("spent by flood.example"), std::string::npos);
    EXPECT_EQ(linklocal_alert_to_json(*alert, report)["spenders"][0]["queries"], 600);
}

ParsedCommandLine parse(std::vector<const char*> args) {
    args.insert(args.begin(), "connsnoop");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST(LinklocalCommandLine, DefaultsServicesBudgetAndGrouping) {
    const auto parsed = parse({"linklocal", "--dst", "10.0.0.2", "--alert", "80", "--budget", "500"});
    const auto* options = std::get_if<Options>(&parsed);
    ASSERT_NE(options, nullptr) << std::get<UsageError>(parsed).message;
    EXPECT_EQ(options->mode, SessionMode::linklocal);
    EXPECT_FALSE(options->tracer.trace_connects);
    ASSERT_EQ(options->tracer.linklocal_services.size(), 7U);
    EXPECT_EQ(options->tracer.linklocal_services[2].name, "dns");
    EXPECT_EQ(options->tracer.linklocal_services[6].name, "10.0.0.2/32");
    EXPECT_TRUE(options->tracer.filters.destinations.empty());
    EXPECT_EQ(options->group_by, GroupBy::pid);
    EXPECT_EQ(options->linklocal.alert_percent, 80);
    EXPECT_FALSE(options->alert_rate);
    EXPECT_EQ(options->linklocal.budget_pps, 500);

    const auto custom = parse({"linklocal", "--service", "resolver=10.1.2.3", "--by", "comm"});
    ASSERT_NE(std::get_if<Options>(&custom), nullptr);
    ASSERT_EQ(std::get<Options>(custom).tracer.linklocal_services.size(), 1U);
    EXPECT_EQ(std::get<Options>(custom).group_by, GroupBy::comm);

    const auto qname = parse({"linklocal", "--by", "qname"});
    ASSERT_NE(std::get_if<Options>(&qname), nullptr) << std::get<UsageError>(qname).message;
    EXPECT_EQ(std::get<Options>(qname).group_by, GroupBy::qname);
    EXPECT_TRUE(std::get<Options>(qname).tracer.dns_capture) << "the queries are what is grouped";
    EXPECT_EQ(std::get<Options>(qname).tracer.ringbuf_bytes, 4U << 20) << "queries come through the ring buffer";
}

TEST(LinklocalCommandLine, RefusesWhatMeansNothingHere) {
    for (const auto& args :
         std::vector<std::vector<const char*>>{{"linklocal", "--port", "53"},
                                               {"linklocal", "--outcome"},
                                               {"linklocal", "--http"},
                                               {"linklocal", "--count", "5"},
                                               {"linklocal", "--cgroup", "system.slice"},
                                               {"linklocal", "--by", "dest"},
                                               {"linklocal", "--service", "nameless"},
                                               {"linklocal", "--budget", "0"},
                                               {"linklocal", "--dns"},
                                               {"linklocal", "--udp"},
                                               {"linklocal", "--by", "qname", "--metrics", "127.0.0.1:9100"},
                                               {"--budget", "10"}}) {
        const auto parsed = parse(args);
        EXPECT_NE(std::get_if<UsageError>(&parsed), nullptr) << args.back();
    }
    // Its rows are no event table: --columns would be taken and ignored.
    const auto columns = parse({"linklocal", "--columns", "pid"});
    ASSERT_NE(std::get_if<UsageError>(&columns), nullptr);
    EXPECT_EQ(std::get<UsageError>(columns).message,
              "linklocal does not take --columns: its columns follow the terminal width");
}

}  // namespace
}  // namespace connsnoop
