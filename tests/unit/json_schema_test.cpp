// Every record kind connsnoop writes, made by the real formatting functions,
// validates against the documented schema (docs/record-schema.json); a
// record with a field of the wrong type does not.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "event_fixtures.hpp"
#include "output/event_writer.hpp"
#include "output/json_format.hpp"
#include "output/linklocal_format.hpp"
#include "output/top_format.hpp"

namespace connsnoop {
namespace {

namespace fs = std::filesystem;

struct Validation {
    int status = -1;
    std::string report;
};

Validation validate(const std::vector<std::string>& lines) {
    const fs::path records = fs::temp_directory_path() / ("connsnoop-schema-" + std::to_string(::getpid()) + ".jsonl");
    {
        std::ofstream out(records);
        for (const auto& line : lines) out << line << '\n';
    }
    const std::string command = std::string("python3 ") + CONNSNOOP_SOURCE_DIR + "/tests/support/validate_records.py " +
                                CONNSNOOP_SOURCE_DIR + "/docs/record-schema.json " + records.string() + " 2>&1";
    Validation result;
    if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) result.report.append(buffer, n);
        const int status = ::pclose(pipe);
        result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    fs::remove(records);
    return result;
}

const auto kTime = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'905'646'123'456));

std::vector<std::string> one_record_of_each_kind() {
    std::vector<std::string> lines;
    auto event = fixtures::sample_event();
    event.ancestry = {{1, "systemd", {"/sbin/init"}, false}};
    lines.push_back(to_json_line(connect_to_json(event)));  // a plain connect: sport null
    event.source_port = 40000;
    event.outcome = ConnectOutcome{ConnectResult::timeout, 110, 3'000'000'000ULL};
    lines.push_back(to_json_line(connect_to_json(event)));  // with --outcome
    event.outcome = ConnectOutcome{ConnectResult::untracked, 0, std::nullopt};
    lines.push_back(to_json_line(connect_to_json(event)));
    lines.push_back(to_json_line(connect_to_json(event, AncestorDetail::pid_and_comm)));  // --ancestry short

    HttpRequestEvent request;
    request.connection = fixtures::sample_event();
    request.method = "GET";
    request.path = "/latest/meta-data/";
    request.version = "HTTP/1.1";
    request.headers = kHttpHeaderHost | kHttpHeaderUserAgent;
    request.user_agent = "curl/7.88.1";
    request.writes = 1;
    lines.push_back(to_json_line(http_to_json(request)));
    request.connection.ancestry = {{1, "systemd", {"/sbin/init"}, true}};
    lines.push_back(to_json_line(http_to_json(request, AncestorDetail::pid_and_comm)));

    auto udp_send = fixtures::sample_event();
    udp_send.protocol = Protocol::udp;
    udp_send.destination_port = 53;
    udp_send.source_port = 41000;
    lines.push_back(to_json_line(connect_to_json(udp_send)));  // --udp

    DnsQueryEvent query;
    query.sender = udp_send;
    query.qtype = 28;
    query.qclass = 1;
    query.question_count = 1;
    query.header_flags = 0x0100;
    query.name = R"(a\027[31m.example)";
    lines.push_back(to_json_line(dns_to_json(query)));  // --dns
    query.qtype = 0;
    query.qclass = 0;
    query.name = ".";
    query.name_compressed = true;
    lines.push_back(to_json_line(dns_to_json(query)));

    lines.push_back(to_json_line(lost_to_json({kTime, 3, 5})));
    lines.push_back(to_json_line(lost_output_to_json(kTime, 2, 7, ENOSPC)));
    RunSummary summary{kTime, 5, 1, 0, 2.5, "tp_btf"};
    lines.push_back(to_json_line(summary_to_json(summary)));
    summary.outcomes = OutcomeSummary{};
    lines.push_back(to_json_line(summary_to_json(summary)));

    IntervalReport report;
    report.time = kTime;
    report.interval_seconds = 2;
    TalkerRow row;
    row.key = "curl -s http://169.254.169.254/";
    row.label = row.key;
    row.rate_1s = 45.55555555555556;
    row.attempts = 12;
    report.rows = {row};
    lines.push_back(to_json_line(report_to_json(report)));
    report.group_by = GroupBy::pid;
    report.rows[0].key = "1430";
    report.alert_rate = 10;
    report.alerting = {true};
    lines.push_back(to_json_line(report_to_json(report)));
    lines.push_back(to_json_line(alert_to_json({kTime, GroupBy::pid, 10, {"1430", "curl", 45.5, true}})));
    lines.push_back(to_json_line(alert_to_json({kTime, GroupBy::comm, 10, {"curl", "curl", 45.5, false}})));

    LinklocalSample sample;
    sample.time = kTime;
    sample.interval_seconds = 1;
    LinklocalTraffic traffic;
    traffic.process = fixtures::sample_event();
    traffic.owner_known = true;
    traffic.service = 1;
    traffic.packets = 1500;
    traffic.bytes = 90000;
    sample.traffic.push_back(traffic);
    traffic.direction = LinklocalDirection::received;
    sample.traffic.push_back(traffic);
    traffic.owner_known = false;
    traffic.protocol = LinklocalProtocol::tcp;
    sample.traffic.push_back(traffic);
    const std::vector<LinklocalService> services = {{"metadata", *parse_cidr("169.254.169.254")},
                                                    {"dns", *parse_cidr("fd00:ec2::253")}};
    for (const auto by : {GroupBy::pid, GroupBy::comm}) {
        auto linklocal = build_linklocal_report(sample, by, services, 1024);
        lines.push_back(to_json_line(linklocal_to_json(linklocal)));
        LinklocalAlertWatch watch(50);
        const auto alert = watch.check(linklocal);
        lines.push_back(to_json_line(linklocal_to_json(linklocal)));  // with alert_percent
        lines.push_back(to_json_line(linklocal_alert_to_json(*alert, linklocal)));
    }
    // --by qname: the query rows beside the host total, and an alert naming a query name.
    auto by_name = build_linklocal_report(sample, GroupBy::qname, services, 1024);
    by_name.queries = {{"flood.example", 1500, 1, {{1, 1500}}}};
    by_name.query_total = 1500;
    lines.push_back(to_json_line(linklocal_to_json(by_name)));
    LinklocalAlertWatch watch(50);
    const auto alert = watch.check(by_name);
    lines.push_back(to_json_line(linklocal_to_json(by_name)));
    lines.push_back(to_json_line(linklocal_alert_to_json(*alert, by_name)));
    return lines;
}

TEST(JsonSchema, EveryRecordKindValidates) {
    const auto lines = one_record_of_each_kind();
    const auto result = validate(lines);
    EXPECT_EQ(result.status, 0) << result.report;
    EXPECT_EQ(result.report, "");
}

// The README's complete one-line examples (the http record; those with "…"
// elided show a shape) are records of the documented schema too: an example
// missing a field (as the http one once lacked ns_pid and pidns) fails here.
TEST(JsonSchema, TheReadmeExamplesValidate) {
    std::ifstream readme(std::string(CONNSNOOP_SOURCE_DIR) + "/README.md");
    ASSERT_TRUE(readme) << "README.md";
    std::vector<std::string> examples;
    for (std::string line; std::getline(readme, line);) {
        const bool elided = line.find("…") != std::string::npos;  // "…Z": a shape, not a record
        if (line.starts_with(R"({"type":")") && !elided && nlohmann::json::accept(line)) examples.push_back(line);
    }
    ASSERT_GE(examples.size(), 1U);
    const auto result = validate(examples);
    EXPECT_EQ(result.status, 0) << result.report;
}

TEST(JsonSchema, AFieldOfTheWrongTypeIsCaught) {
    auto event = fixtures::sample_event();
    auto record = connect_to_json(event);
    record["sport"] = 0;     // still a port: fine
    record["pid"] = "4321";  // a string where a number is documented
    auto summary = summary_to_json(RunSummary{kTime, 5, 1, 0, 2.5, "tp_btf"});
    summary.erase("lost_output");  // a documented field missing
    auto extra = lost_to_json({kTime, 3, 5});
    extra["surprise"] = 1;  // an undocumented field
    event.ancestry = {{1, "systemd", {"/sbin/init"}, false}};
    auto half_short = connect_to_json(event, AncestorDetail::pid_and_comm);
    half_short["ancestry"][0]["exited"] = false;  // neither form: exited without cmdline
    const auto result =
        validate({to_json_line(record), to_json_line(summary), to_json_line(extra), to_json_line(half_short)});
    EXPECT_EQ(result.status, 1) << result.report;
    EXPECT_NE(result.report.find("line 1 (connect): $.pid"), std::string::npos) << result.report;
    EXPECT_NE(result.report.find("line 2 (summary)"), std::string::npos) << result.report;
    EXPECT_NE(result.report.find("line 3 (lost)"), std::string::npos) << result.report;
    EXPECT_NE(result.report.find("line 4 (connect): $.ancestry[0]"), std::string::npos) << result.report;
}

}  // namespace
}  // namespace connsnoop
