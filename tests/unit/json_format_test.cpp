#include "output/json_format.hpp"

#include <gtest/gtest.h>

#include "event_fixtures.hpp"

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
    const auto line = to_json_line(connect_to_json(event));
    EXPECT_EQ(
        line,
        R"({"type":"connect","time":"2026-11-28T22:40:46.123456Z","pid":4321,"tid":4322,"ppid":1,"uid":0,)"
        R"("user":"root","gid":0,"group":"root","comm":"curl","cmdline":"curl -s http://169.254.169.254/",)"
        R"("argv":["curl","-s","http://169.254.169.254/"],"argv_truncated":false,"family":"ipv4",)"
        R"("saddr":"10.0.0.5","sport":null,"daddr":"169.254.169.254","dport":80,"endpoint":"ec2-imds","cgroup_id":99,)"
        R"("netns":4026531840,"ns_pid":7,"pidns":4026532999,"exe":"/usr/bin/curl","cgroup":"/system.slice/docker-)" +
            std::string(64, 'a') + R"(.scope","container_id":")" + std::string(64, 'a') +
            R"(","container_runtime":"docker","pod_uid":"","qos_class":"","unit":"docker-)" + std::string(64, 'a') +
            R"(.scope","ancestry":[]})");
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
}

}  // namespace
}  // namespace connsnoop
