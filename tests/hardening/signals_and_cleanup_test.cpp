// Signals, closed pipes, and what stays in the kernel after connsnoop exits.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <thread>

#include "hardening_support.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::vector<std::string> kTargetFilter{"--dst", "169.254.169.253", "--port", "9"};

class SignalsAndCleanupTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() == 0) namespace_ = std::make_unique<NetworkNamespace>("connsnoop-sig");
    }
    static void TearDownTestSuite() { namespace_.reset(); }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    static ChildProcess start_connsnoop(std::vector<std::string> args) {
        args.insert(args.begin(), kTargetFilter.begin(), kTargetFilter.end());
        ChildProcess tracer(connsnoop_command(std::move(args)));
        EXPECT_TRUE(tracer.wait_for_stderr("tracing TCP connects", 10s)) << tracer.err();
        return tracer;
    }

    // A refused connect to the traced address: one event.
    static void connect_once() {
        ChildProcess client(
            namespace_->exec({"python3", "-c", "import socket; socket.socket().connect_ex(('169.254.169.253', 9))"}));
        client.wait(15s);
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
};

class StopSignalTest : public SignalsAndCleanupTest, public ::testing::WithParamInterface<int> {};

TEST_P(StopSignalTest, FlushesPendingEventsAndExitsZeroWithTheSummary) {
    auto tracer = start_connsnoop({"-o", "json"});
    // Frozen, connsnoop cannot read the ring buffer: the three records wait
    // there (the kernel writes them in connect()'s context), and the stop
    // signal is already pending when it resumes. It must print them anyway.
    tracer.send_signal(SIGSTOP);
    for (int i = 0; i < 3; ++i) connect_once();
    tracer.send_signal(GetParam());
    tracer.send_signal(SIGCONT);
    ASSERT_EQ(tracer.wait(10s), 0) << tracer.err();
    const auto records = parse_json_lines(tracer.out_lines());
    EXPECT_EQ(records_of_type(records, "connect").size(), 3U) << tracer.out();
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back()["type"], "summary");
    EXPECT_EQ(records.back()["events"], 3);
    EXPECT_NE(tracer.err().find("connsnoop: 3 events, 0 lost"), std::string::npos) << tracer.err();
}

INSTANTIATE_TEST_SUITE_P(Signals, StopSignalTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& param) {
                             return param.param == SIGINT ? std::string("SIGINT") : std::string("SIGTERM");
                         });

TEST_F(SignalsAndCleanupTest, ClosedPipeEndsItQuietlyWithExitZero) {
    for (const std::string format : {"table", "json"}) {
        std::string command = "\"$0\" \"$@\" | head -1; echo \"connsnoop exit status ${PIPESTATUS[0]}\"";
        std::vector<std::string> connsnoop_args{"-o", format};
        connsnoop_args.insert(connsnoop_args.end(), kTargetFilter.begin(), kTargetFilter.end());
        std::vector<std::string> argv{"bash", "-c", command};
        const auto connsnoop = connsnoop_command(connsnoop_args);
        argv.insert(argv.end(), connsnoop.begin(), connsnoop.end());
        ChildProcess pipeline(argv);
        ASSERT_TRUE(pipeline.wait_for_stderr("tracing TCP connects", 10s)) << pipeline.err();
        // connsnoop learns that head is gone at its next write: keep connecting until it has.
        bool ended = false;
        for (int i = 0; i < 50 && !ended; ++i) {
            connect_once();
            ended = pipeline.wait_for_stdout("connsnoop exit status", 200ms);
        }
        ASSERT_TRUE(ended) << pipeline.out() << pipeline.err();
        EXPECT_EQ(pipeline.wait(10s), 0);
        EXPECT_NE(pipeline.out().find("connsnoop exit status 0\n"), std::string::npos)
            << format << ": " << pipeline.out();
        EXPECT_EQ(pipeline.out_lines().size(), 2U) << pipeline.out();
        EXPECT_EQ(pipeline.err().find("error"), std::string::npos) << format << ": " << pipeline.err();
        EXPECT_EQ(pipeline.err().find("Broken pipe"), std::string::npos) << format << ": " << pipeline.err();
    }
}

struct ExitWay {
    std::string name;
    std::vector<std::string> args;
    int signal_number;  // 0: it ends by itself
    int expected_status;
};

void PrintTo(const ExitWay& way, std::ostream* out) { *out << way.name; }

class NothingLeftLoadedTest : public SignalsAndCleanupTest, public ::testing::WithParamInterface<ExitWay> {};

TEST_P(NothingLeftLoadedTest, NoProgramLinkOrMapOfConnsnoopStaysLoaded) {
    const auto before = loaded_bpf_objects();
    auto tracer = start_connsnoop(GetParam().args);
    const auto ours = connsnoop_objects_since(before);
    EXPECT_FALSE(ours.programs.empty()) << "bpftool shows no program of connsnoop while it runs";
    EXPECT_FALSE(ours.links.empty()) << "bpftool shows no link of connsnoop while it runs";
    EXPECT_FALSE(ours.maps.empty()) << "bpftool shows no map of connsnoop while it runs";

    if (GetParam().signal_number != 0) tracer.send_signal(GetParam().signal_number);
    EXPECT_EQ(tracer.wait(15s), GetParam().expected_status) << tracer.err();

    const auto left = still_loaded_after(ours, 10s);
    EXPECT_TRUE(left.programs.empty()) << left.programs.size() << " programs left, e.g. ID " << *left.programs.begin();
    EXPECT_TRUE(left.links.empty()) << left.links.size() << " links left, e.g. ID " << *left.links.begin();
    EXPECT_TRUE(left.maps.empty()) << left.maps.size() << " maps left, e.g. ID " << *left.maps.begin();
}

INSTANTIATE_TEST_SUITE_P(
    ExitWays, NothingLeftLoadedTest,
    ::testing::Values(ExitWay{"SIGINT", {}, SIGINT, 0},
                      ExitWay{"OutcomeAndHttpSIGKILL", {"--outcome", "--http"}, SIGKILL, 128 + SIGKILL},
                      ExitWay{"SIGTERM", {"-o", "json"}, SIGTERM, 0}, ExitWay{"SIGKILL", {}, SIGKILL, 128 + SIGKILL},
                      ExitWay{"SIGUSR1", {}, SIGUSR1, 128 + SIGUSR1}, ExitWay{"duration", {"--duration", "1"}, 0, 0}),
    [](const ::testing::TestParamInfo<ExitWay>& param) { return param.param.name; });

// Attach types of the programs in `bpftool cgroup tree`, by program id.
std::map<std::uint32_t, std::string> cgroup_programs() {
    const auto result = run_command({"bpftool", "cgroup", "tree", "-j"});
    EXPECT_EQ(result.status, 0) << result.err;
    std::map<std::uint32_t, std::string> programs;
    const auto tree = json::parse(result.out, nullptr, false);
    if (!tree.is_array()) return programs;
    for (const auto& cgroup : tree) {
        for (const auto& program : cgroup.value("programs", json::array())) {
            programs[program["id"].get<std::uint32_t>()] = program.value("attach_type", "");
        }
    }
    return programs;
}

TEST_F(SignalsAndCleanupTest, CgroupHooksLetConnectionsThroughAndLeaveWithConnsnoop) {
    const auto before = loaded_bpf_objects();
    auto tracer = start_connsnoop({"--outcome", "--http"});
    const auto ours = connsnoop_objects_since(before);
    std::set<std::string> attached;
    for (const auto& [id, type] : cgroup_programs()) {
        if (ours.programs.contains(id)) attached.insert(type);
    }
    EXPECT_EQ(attached, (std::set<std::string>{"cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_inet_egress"}));

    // Connections of every kind still work while the hooks are attached:
    // IPv4 and IPv6, with data both ways.
    ChildProcess client(namespace_->exec(
        {"python3", "-c",
         "import socket\nfor family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):\n"
         "    server = socket.socket(family); server.bind((host, 0)); server.listen()\n"
         "    client = socket.create_connection(server.getsockname()[:2], timeout=5)\n"
         "    peer, _ = server.accept(); client.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
         "    assert peer.recv(100).startswith(b'GET /'); peer.sendall(b'ok'); assert client.recv(2) == b'ok'\n"
         "print('connected')"}));
    EXPECT_EQ(client.wait(15s), 0) << client.err();
    EXPECT_EQ(client.out(), "connected\n");

    tracer.send_signal(SIGKILL);  // the worst way out: nothing of connsnoop runs after it
    tracer.wait(15s);
    const auto left = still_loaded_after(ours, 10s);
    EXPECT_TRUE(left.programs.empty()) << left.programs.size() << " programs left";
    for (const auto& [id, type] : cgroup_programs()) {
        EXPECT_FALSE(ours.programs.contains(id)) << "still attached: program " << id << " (" << type << ")";
    }
}

}  // namespace
}  // namespace connsnoop::testing
