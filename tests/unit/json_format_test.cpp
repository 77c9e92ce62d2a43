#include "output/json_format.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <ctime>
#include <functional>
#include <random>

#include "event_fixtures.hpp"
#include "output/time_format.hpp"

namespace connsnoop {
namespace {

TEST(JsonFormat, ConnectRecordHasTheDocumentedFields) {
    auto event = fixtures::sample_event();
    event.group = "root";
    event.ns_pid = 7;
    event.pidns = 4026532999U;
    event.exe = "/usr/bin/curl";
    event.cgroup_path = "/system.slice/docker-" + std::string(64, 'a') + ".scope";
    event.container_id = std::string(64, 'a');
    event.container_runtime = "docker";
    event.unit = "docker-" + std::string(64, 'a') + ".scope";
    const auto line = connect_json_line(event);
    EXPECT_EQ(
        line,
        R"({"type":"connect","time":"2026-11-28T22:40:46.123456Z","pid":4321,"tid":4322,"ppid":1,"uid":0,)"
        R"("user":"root","gid":0,"group":"root","comm":"curl","cmdline":"curl -s http://169.254.169.254/",)"
        R"("argv":["curl","-s","http://169.254.169.254/"],"argv_truncated":false,"family":"ipv4",)"
        R"("saddr":"10.0.0.5","sport":null,"daddr":"169.254.169.254","dport":80,"proto":"tcp","endpoint":"ec2-imds","cgroup_id":99,)"
        R"("netns":4026531840,"ns_pid":7,"pidns":4026532999,"exe":"/usr/bin/curl","cgroup":"/system.slice/docker-)" +
            std::string(64, 'a') + R"(.scope","container_id":")" + std::string(64, 'a') +
            R"(","container_runtime":"docker","pod_uid":"","qos_class":"","unit":"docker-)" + std::string(64, 'a') +
            R"(.scope","ancestry":[]})");
    // The document view is the same record.
    EXPECT_EQ(to_json_line(connect_to_json(event)), line);
}

TEST(JsonFormat, AncestryIpv6AndOutcomeFields) {
    auto event = fixtures::sample_event({"", "x", "", "y"});  // joined as ps does: no leading space
    event.destination = *IpAddress::parse("fd00:ec2::254");
    event.source = *IpAddress::parse("::1");
    event.ancestry = {{10, "python3", {"python3", "fetch.py"}, false}, {9, "\x1bsh", {"sh", "-c", "a\"b"}, true}};
    event.outcome = ConnectOutcome{ConnectResult::refused, ECONNREFUSED, 1'234'567};
    EXPECT_EQ(
        connect_json_line(event),
        R"({"type":"connect","time":"2026-11-28T22:40:46.123456Z","pid":4321,"tid":4322,"ppid":1,"uid":0,)"
        R"("user":"root","gid":0,"group":"","comm":"curl","cmdline":"x  y","argv":["","x","","y"],)"
        R"("argv_truncated":false,"family":"ipv6","saddr":"::1","sport":null,"daddr":"fd00:ec2::254",)"
        R"("dport":80,"proto":"tcp","endpoint":"ec2-imds","cgroup_id":99,"netns":4026531840,"ns_pid":0,"pidns":0,"exe":"","cgroup":"",)"
        R"("container_id":"","container_runtime":"","pod_uid":"","qos_class":"","unit":"",)"
        R"("ancestry":[{"pid":10,"comm":"python3","cmdline":"python3 fetch.py","exited":false},)"
        R"({"pid":9,"comm":"\u001bsh","cmdline":"sh -c a\"b","exited":true}],)"
        R"("attempt_id":null,"result":"refused","errno":"ECONNREFUSED","latency_us":1234})");
    event.outcome = ConnectOutcome{ConnectResult::failed, 0, std::nullopt};
    event.attempt_id = 17;
    event.source_port = 40000;
    const auto failed = connect_json_line(event);
    EXPECT_TRUE(failed.ends_with(R"("attempt_id":17,"result":"failed","errno":null,"latency_us":null})")) << failed;
    EXPECT_NE(failed.find(R"("sport":40000,)"), std::string::npos) << failed;
}

// --ancestry short: each ancestor as pid and comm, no command line, in
// connect and http records alike.
TEST(JsonFormat, ShortAncestorsArePidAndCommOnly) {
    auto event = fixtures::sample_event();
    event.ancestry = {{10, "python3", {"python3", std::string(2000, 'x')}, false}, {9, "\x1bsh", {"sh"}, true}};
    const auto line = connect_json_line(event, AncestorDetail::pid_and_comm);
    EXPECT_NE(line.find(R"("ancestry":[{"pid":10,"comm":"python3"},{"pid":9,"comm":"\u001bsh"}]})"), std::string::npos)
        << line;
    EXPECT_LT(line.size(), 1000U);
    EXPECT_EQ(to_json_line(connect_to_json(event, AncestorDetail::pid_and_comm)), line);
    HttpRequestEvent request;
    request.connection = event;
    request.method = "GET";
    const auto http = http_json_line(request, AncestorDetail::pid_and_comm);
    EXPECT_NE(http.find(R"("ancestry":[{"pid":10,"comm":"python3"},{"pid":9,"comm":"\u001bsh"}],"http")"),
              std::string::npos)
        << http;
    // The default stays full.
    EXPECT_NE(connect_json_line(event).find(R"({"pid":9,"comm":"\u001bsh","cmdline":"sh","exited":true})"),
              std::string::npos);
}

// The writer keeps the rendered array of the last chains it saw, keyed by
// the chain's identity: a chain freed and another made in its place (often
// at the same address) is rendered anew, and so is the same chain with
// another detail.
TEST(JsonFormat, RenderedAncestryFollowsTheChainNotItsAddress) {
    auto event = fixtures::sample_event();
    for (int i = 0; i < 12; ++i) {
        const std::string name = "p" + std::to_string(i);
        event.ancestry = {{10, name, {name, "arg"}, i % 2 == 0}};
        const std::string full = R"("ancestry":[{"pid":10,"comm":")" + name + R"(","cmdline":")" + name +
                                 R"( arg","exited":)" + (i % 2 == 0 ? "true" : "false") + "}]}";
        const std::string brief = R"("ancestry":[{"pid":10,"comm":")" + name + R"("}]})";
        for (int again = 0; again < 2; ++again) {
            EXPECT_TRUE(connect_json_line(event).ends_with(full)) << connect_json_line(event);
            EXPECT_TRUE(connect_json_line(event, AncestorDetail::pid_and_comm).ends_with(brief));
        }
    }
    event.ancestry.clear();
    EXPECT_TRUE(connect_json_line(event).ends_with(R"("ancestry":[]})"));
}

// The process's fields ("uid" to "argv_truncated", "exe" to "unit") are kept
// rendered with the values they were rendered from: an event that differs
// from the one before in any one of them shows its own value.
TEST(JsonFormat, RenderedProcessFieldsFollowEveryField) {
    auto base = fixtures::sample_event({"python3", "fetch.py", "--region", "eu"});
    base.user = "www-data";
    base.group = "www-data";
    base.exe = "/usr/bin/python3";
    base.cgroup_path = "/system.slice/fetch.service";
    base.unit = "fetch.service";
    const std::vector<std::function<void(ConnectEvent&)>> changes = {
        [](ConnectEvent& e) { e.uid = 33; },
        [](ConnectEvent& e) { e.gid = 33; },
        [](ConnectEvent& e) { e.argv_truncated = true; },
        [](ConnectEvent& e) { e.user = "www-datb"; },
        [](ConnectEvent& e) { e.group = "www-datb"; },
        [](ConnectEvent& e) { e.comm = "python4"; },
        [](ConnectEvent& e) { e.comm = "py"; },
        [](ConnectEvent& e) { e.argv[0] = "python4"; },
        [](ConnectEvent& e) { e.argv[3] = "us"; },
        [](ConnectEvent& e) { e.argv.pop_back(); },
        [](ConnectEvent& e) { e.argv.clear(); },
        [](ConnectEvent& e) { e.exe = "/usr/bin/python4"; },
        [](ConnectEvent& e) { e.cgroup_path = "/system.slice/fetcx.service"; },
        [](ConnectEvent& e) { e.container_id = "abc"; },
        [](ConnectEvent& e) { e.container_runtime = "docker"; },
        [](ConnectEvent& e) { e.pod_uid = "uid"; },
        [](ConnectEvent& e) { e.qos_class = "burstable"; },
        [](ConnectEvent& e) { e.unit = "fetcx.service"; },
    };
    const auto expect_fields = [](const ConnectEvent& event) {
        const auto line = connect_json_line(event);
        const auto parsed = nlohmann::json::parse(line);
        EXPECT_EQ(parsed["uid"], event.uid) << line;
        EXPECT_EQ(parsed["gid"], event.gid) << line;
        EXPECT_EQ(parsed["user"], event.user) << line;
        EXPECT_EQ(parsed["group"], event.group) << line;
        EXPECT_EQ(parsed["comm"], event.comm) << line;
        EXPECT_EQ(parsed["cmdline"], command_line(event)) << line;
        EXPECT_EQ(parsed["argv"], event.argv) << line;
        EXPECT_EQ(parsed["argv_truncated"], event.argv_truncated) << line;
        EXPECT_EQ(parsed["exe"], event.exe) << line;
        EXPECT_EQ(parsed["cgroup"], event.cgroup_path) << line;
        EXPECT_EQ(parsed["container_id"], event.container_id) << line;
        EXPECT_EQ(parsed["container_runtime"], event.container_runtime) << line;
        EXPECT_EQ(parsed["pod_uid"], event.pod_uid) << line;
        EXPECT_EQ(parsed["qos_class"], event.qos_class) << line;
        EXPECT_EQ(parsed["unit"], event.unit) << line;
        return line;
    };
    const auto first = expect_fields(base);
    for (const auto& change : changes) {
        auto changed = base;
        change(changed);
        expect_fields(changed);
        EXPECT_EQ(connect_json_line(base), first);
    }
}

TEST(JsonFormat, UnreadableArgvShowsTheCommInBrackets) {
    auto event = fixtures::sample_event({});
    EXPECT_NE(connect_json_line(event).find(R"("cmdline":"[curl]","argv":[],)"), std::string::npos);
}

TEST(JsonFormat, HttpRecordHasTheDocumentedFields) {
    HttpRequestEvent request;
    request.connection = fixtures::sample_event();
    request.connection.outcome = ConnectOutcome{ConnectResult::established, 0, 1000};  // not the request's
    request.method = "GET";
    request.path = "/latest/meta-data/\xff";
    request.version = "HTTP/1.1";
    request.headers = kHttpHeaderHost | kHttpHeaderUserAgent;
    request.user_agent = "curl/7.88";
    request.writes = 2;
    const auto line = http_json_line(request);
    EXPECT_TRUE(line.starts_with(R"({"type":"http","time":"2026-11-28T22:40:46.123456Z","pid":4321,)")) << line;
    EXPECT_TRUE(line.ends_with(
        R"("unit":"","ancestry":[],"http":{"method":"GET","path":"/latest/meta-data/\\xff","version":"HTTP/1.1",)"
        R"("headers_present":["Host","User-Agent"],"user_agent":"curl/7.88","path_truncated":false,)"
        R"("user_agent_truncated":false,"head_incomplete":false,"writes":2},"imds":{"version":"imdsv1"}})"))
        << line;
    EXPECT_EQ(to_json_line(http_to_json(request)), line);
}

TEST(TimeFormat, ArithmeticMatchesGmtimeAcrossTheCalendar) {
    using std::chrono::microseconds;
    using std::chrono::system_clock;
    const auto gmtime_text = [](std::int64_t micros) {
        const auto seconds = static_cast<std::time_t>(micros / 1'000'000);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char text[64];
        std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
        char fraction[16];
        std::snprintf(fraction, sizeof(fraction), ".%06lldZ", static_cast<long long>(micros % 1'000'000));
        return std::string(text) + fraction;
    };
    std::vector<std::int64_t> seconds = {0,
                                         59,
                                         86'399,
                                         86'400,
                                         951'782'400 /* 2000-02-29 */,
                                         951'868'800,
                                         4'107'542'400 /* 2100-03-01 */,
                                         7'258'118'399 /* 2199-12-31 */};
    // system_clock counts nanoseconds in 64 bits: it ends in 2262.
    std::mt19937_64 random(42);
    for (int i = 0; i < 100'000; ++i) seconds.push_back(static_cast<std::int64_t>(random() % 9'000'000'000ULL));
    for (const auto second : seconds) {
        // Twice in the same second: the date worked out once is reused.
        for (int same_second = 0; same_second < 2; ++same_second) {
            const std::int64_t micros = second * 1'000'000 + static_cast<std::int64_t>(random() % 1'000'000);
            ASSERT_EQ(format_iso8601_utc(system_clock::time_point(microseconds(micros))), gmtime_text(micros))
                << micros;
        }
    }
}

// Numbers are written digit pairs at a time, their length from their bit
// length: every power of ten and its neighbours, and the largest values.
TEST(JsonFormat, NumbersAtEveryLength) {
    auto event = fixtures::sample_event();
    std::vector<std::uint64_t> values = {0, 1, 9, 10, 11, 99, 100, 101, 18'446'744'073'709'551'615ULL};
    for (std::uint64_t power = 10; power <= 1'000'000'000'000'000'000ULL; power *= 10) {
        values.insert(values.end(), {power - 1, power, power + 1, 2 * power - 1});
    }
    values.push_back(10'000'000'000'000'000'000ULL);
    for (const auto value : values) {
        event.cgroup_id = value;
        event.pid = static_cast<std::uint32_t>(value);
        event.destination_port = static_cast<std::uint16_t>(value);
        const auto line = connect_json_line(event);
        EXPECT_NE(line.find(",\"cgroup_id\":" + std::to_string(value) + ","), std::string::npos) << line;
        EXPECT_NE(line.find("\"pid\":" + std::to_string(event.pid) + ","), std::string::npos) << line;
        EXPECT_NE(line.find("\"dport\":" + std::to_string(event.destination_port) + ","), std::string::npos) << line;
    }
    event.source = *IpAddress::parse("0.9.10.255");
    event.destination = *IpAddress::parse("100.99.1.200");
    const auto line = connect_json_line(event);
    EXPECT_NE(line.find(R"("saddr":"0.9.10.255","sport":null,"daddr":"100.99.1.200",)"), std::string::npos) << line;
}

// Only strings make room for themselves; the fixed text between two of
// them (keys, numbers, addresses) relies on json_format.cpp's kFixedRoom
// (2048 bytes). The longest record's whole fixed text stays under half.
TEST(JsonFormat, TheFixedTextOfAnyRecordIsUnderHalfItsRoom) {
    constexpr std::size_t kHalfTheFixedRoom = 1024;
    ConnectEvent event;  // every string empty, every number at its widest
    event.wall_time = std::chrono::system_clock::time_point(std::chrono::microseconds(9'000'000'000'999'999));
    event.pid = event.tid = event.ppid = event.uid = event.gid = event.netns = event.ns_pid = event.pidns = ~0U;
    event.cgroup_id = ~0ULL;
    event.source = *IpAddress::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    event.destination = *IpAddress::parse("fd00:ec2::254");
    event.source_port = event.destination_port = 65535;
    event.destination_port = 80;
    event.argv_truncated = true;
    event.attempt_id = ~0ULL;
    event.outcome = ConnectOutcome{ConnectResult::untracked, ECONNREFUSED, ~0ULL};
    const auto connect = connect_json_line(event);
    EXPECT_LT(connect.size(), kHalfTheFixedRoom) << connect;
    HttpRequestEvent request;
    request.connection = event;
    request.writes = ~0U;
    const auto http = http_json_line(request);
    EXPECT_LT(http.size() - connect.size(), kHalfTheFixedRoom) << http;
}

// Lists of empty strings are no fixed text: each makes room for itself.
TEST(JsonFormat, ThousandsOfEmptyStringsAndWorstCaseEscapesFit) {
    auto event = fixtures::sample_event(std::vector<std::string>(20000, ""));
    event.ancestry = {{10, "", std::vector<std::string>(5000, ""), false}};
    auto parsed = connect_to_json(event);  // aborts if the room ran out
    EXPECT_EQ(parsed["argv"].size(), 20000U);
    EXPECT_EQ(parsed["cmdline"], "");
    // Every byte of every string at its longest escape (\u0001, 6 bytes).
    const std::string controls(3000, '\x01');
    event = fixtures::sample_event(std::vector<std::string>(40, controls));
    event.comm = event.user = event.group = event.exe = event.cgroup_path = event.container_id =
        event.container_runtime = event.pod_uid = event.qos_class = event.unit = controls;
    event.ancestry = {{10, controls, {controls, controls}, false}, {9, controls, {controls}, true}};
    parsed = connect_to_json(event);
    EXPECT_EQ(parsed["argv"][39], controls);
    EXPECT_EQ(parsed["unit"], controls);
    EXPECT_EQ(parsed["ancestry"][1]["cmdline"], controls);
    EXPECT_EQ(parsed["cmdline"].get<std::string>().size(), 40 * controls.size() + 39);
}

// Lines are built in one buffer kept from line to line: appended to what
// the caller's string holds, nothing of a longer line before shows after.
TEST(JsonFormat, LinesAppendAndALongLineLeavesNothingBehind) {
    std::string batch = "earlier line\n";
    append_connect_json(batch, fixtures::sample_event({std::string(20'000, 'x')}));
    const auto long_size = batch.size();
    batch += '\n';
    append_connect_json(batch, fixtures::sample_event());
    EXPECT_TRUE(batch.starts_with("earlier line\n{\"type\":\"connect\""));
    EXPECT_EQ(batch.substr(long_size + 1), connect_json_line(fixtures::sample_event()));
}

TEST(JsonFormat, HostileBytesStayOneValidLine) {
    const auto line = to_json_line(connect_to_json(fixtures::sample_event({"\x1b[2J\n\"}{\xff\xfe", "ok"})));
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    const auto parsed = nlohmann::json::parse(line);  // throws if invalid
    EXPECT_EQ(parsed["argv"][0], "\x1b[2J\n\"}{\\xff\\xfe");
    EXPECT_EQ(parsed["cmdline"], "\x1b[2J\n\"}{\\xff\\xfe ok");
}

TEST(JsonFormat, LostAndSummaryRecords) {
    const auto time = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'905'646'000'001));
    EXPECT_EQ(to_json_line(lost_to_json({time, 7, 19})),
              R"({"type":"lost","time":"2026-11-28T22:40:46.000001Z","count":7,"total":19})");
    EXPECT_EQ(to_json_line(summary_to_json({time, 5, 1, 0, 2.5, "tp_btf"})),
              R"({"type":"summary","time":"2026-11-28T22:40:46.000001Z","events":5,"lost":1,"malformed":0,)"
              R"("duration_s":2.5,"hook":"tp_btf","lost_output":0})");
    EXPECT_EQ(to_json_line(lost_output_to_json(time, 2, 7, ENOSPC)),
              R"({"type":"lost_output","time":"2026-11-28T22:40:46.000001Z","count":2,"total":7,)"
              R"("error":"No space left on device"})");
}

}  // namespace
}  // namespace connsnoop
