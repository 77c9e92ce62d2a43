// Root integration tests: real connections in a private network namespace,
// traced by the real binary, asserted event by event.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kRenamedTitle = "perform-queued-tasks-manager send-welcome-email";

class ImdsTraceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-it");
        server_ = start_standin_server(
            *namespace_, {"169.254.169.254:80", "[fd00:ec2::254]:80", "169.254.169.253:80", "169.254.169.254:8080"});
    }
    static void TearDownTestSuite() {
        server_.reset();
        namespace_.reset();
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    // Runs a client in the namespace to completion; returns its PID.
    static pid_t run_client(std::vector<std::string> command) {
        ChildProcess client(namespace_->exec(std::move(command)));
        const pid_t pid = client.pid();
        client.wait(15s);
        return pid;
    }

    // Every IMDS client, exactly, and nothing else; hook_options choose the
    // tracepoint variant, hook is the one the summary must name.
    static void expect_every_imds_client_reported(const std::vector<std::string>& hook_options,
                                                  const std::string& hook);

    static inline std::unique_ptr<NetworkNamespace> namespace_;
    static inline std::unique_ptr<ChildProcess> server_;
};

TEST_F(ImdsTraceTest, ReportsEveryImdsClientWithItsFullCommandLineAndNothingElse) {
    expect_every_imds_client_reported({}, "tp_btf");
}

// The fallback for kernels that refuse tp_btf reads the task and the socket
// through bpf_probe_read_kernel instead: the same events, field for field.
TEST_F(ImdsTraceTest, TheRawTracepointFallbackReportsTheSameEvents) {
    expect_every_imds_client_reported({"--hook", "raw_tp"}, "raw_tp");
}

void ImdsTraceTest::expect_every_imds_client_reported(const std::vector<std::string>& hook_options,
                                                      const std::string& hook) {
    std::vector<std::string> options = {"--imds", "-o", "json"};
    options.insert(options.end(), hook_options.begin(), hook_options.end());
    auto tracer = start_connsnoop(options);
    const std::string script = support_dir() + "/fetch-instance-credentials";
    const std::string curl_v4_url = "http://169.254.169.254/latest/meta-data/instance-id";
    const std::string curl_v6_url = "http://[fd00:ec2::254]/latest/meta-data/";

    // (a) a short-lived client that exits at once
    const pid_t curl_v4 = run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", curl_v4_url});
    // (b) a long-running process that renamed itself
    ChildProcess renamed(
        namespace_->exec({"perl", "-e",
                          std::string("$| = 1; $0 = '") + kRenamedTitle +
                              "'; use IO::Socket::INET; my $s = IO::Socket::INET->new(PeerAddr => '169.254.169.254', "
                              "PeerPort => 80) or die \"connect: $!\"; print \"connected\\n\"; sleep 60;"}));
    ASSERT_TRUE(renamed.wait_for_stdout("connected", 10s)) << renamed.err();
    // (c) a script whose name is longer than the 15-byte comm
    const pid_t long_script = run_client({script, "--role", "web-frontend"});
    // (d) IPv6
    const pid_t curl_v6 = run_client({"curl", "-s", "-g", "-o", "/dev/null", "--max-time", "5", curl_v6_url});
    // a dual-stack (AF_INET6) socket reaching the IPv4 address through ::ffff:169.254.169.254
    const pid_t mapped = run_client({"/usr/bin/python3", "-c",
                                     "import socket; s = socket.socket(socket.AF_INET6); "
                                     "s.connect(('::ffff:169.254.169.254', 80)); s.close()"});
    // (e) destinations that must not appear: other address, other ports, refused ports
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.253/"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254:8080/"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://127.0.0.1:80/"});
    run_client({"curl", "-s", "-g", "-o", "/dev/null", "--max-time", "5", "http://[fd00:ec2::254]:8080/"});

    const auto records = stop_and_parse(tracer);
    renamed.send_signal(SIGKILL);

    std::map<pid_t, json> connects;
    for (const auto& record : records) {
        ASSERT_TRUE(record.contains("type")) << record.dump();
        if (record["type"] == "connect") {
            const pid_t pid = record["pid"].get<pid_t>();
            EXPECT_FALSE(connects.contains(pid)) << "two events for pid " << pid << ": " << record.dump();
            connects[pid] = record;
        }
    }
    ASSERT_EQ(connects.size(), 5U) << tracer.out();

    const auto expect_event = [&](pid_t pid, const std::vector<std::string>& argv, const std::string& comm,
                                  const std::string& family, const std::string& daddr) {
        ASSERT_TRUE(connects.contains(pid)) << "no event for pid " << pid << " (" << argv[0] << "): " << tracer.out();
        const auto& event = connects[pid];
        std::string cmdline;
        for (const auto& arg : argv) cmdline += (cmdline.empty() ? "" : " ") + arg;
        EXPECT_EQ(event["argv"].get<std::vector<std::string>>(), argv);
        EXPECT_EQ(event["cmdline"], cmdline);
        EXPECT_EQ(event["comm"], comm);
        EXPECT_EQ(event["family"], family);
        EXPECT_EQ(event["daddr"], daddr);
        EXPECT_EQ(event["dport"], 80);
        EXPECT_EQ(event["tid"], pid);
        EXPECT_EQ(event["ppid"], getpid());
        EXPECT_EQ(event["uid"], 0);
        EXPECT_EQ(event["user"], "root");
        EXPECT_EQ(event["netns"], namespace_->inode());
        EXPECT_EQ(event["argv_truncated"], false);
        EXPECT_NE(event["cgroup_id"], 0);
        EXPECT_EQ(event["time"].get<std::string>().size(), std::string("2026-11-28T22:40:46.123456Z").size());
    };
    expect_event(curl_v4, {"curl", "-s", "-o", "/dev/null", "--max-time", "5", curl_v4_url}, "curl", "ipv4",
                 "169.254.169.254");
    expect_event(renamed.pid(), {kRenamedTitle}, "perform-queued-", "ipv4", "169.254.169.254");
    expect_event(long_script, {"/usr/bin/perl", script, "--role", "web-frontend"}, "fetch-instance-", "ipv4",
                 "169.254.169.254");
    expect_event(curl_v6, {"curl", "-s", "-g", "-o", "/dev/null", "--max-time", "5", curl_v6_url}, "curl", "ipv6",
                 "fd00:ec2::254");
    expect_event(mapped,
                 {"/usr/bin/python3", "-c",
                  "import socket; s = socket.socket(socket.AF_INET6); "
                  "s.connect(('::ffff:169.254.169.254', 80)); s.close()"},
                 "python3", "ipv4", "169.254.169.254");

    ASSERT_FALSE(records.empty());
    const auto& summary = records.back();
    EXPECT_EQ(summary["type"], "summary");
    EXPECT_EQ(summary["events"], 5);
    EXPECT_EQ(summary["lost"], 0);
    EXPECT_EQ(summary["hook"], hook);
}

TEST_F(ImdsTraceTest, TableRowsReachAPipeAtOnce) {
    auto tracer = start_connsnoop({"--imds", "--ancestry", "1"});
    const pid_t curl = run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    // connsnoop is still running: the row must already be in the pipe.
    EXPECT_TRUE(tracer.wait_for_stdout(std::to_string(curl), 5s)) << tracer.out();
    EXPECT_TRUE(
        tracer.wait_for_stdout("curl -s -o /dev/null --max-time 5 http://169.254.169.254/ ← connsnoop_integ\n", 1s))
        << tracer.out();
    EXPECT_NE(tracer.out().find(" 169.254.169.254:80 "), std::string::npos) << tracer.out();
    tracer.send_signal(SIGTERM);
    EXPECT_EQ(tracer.wait(10s), 0);
    EXPECT_NE(tracer.err().find("connsnoop: 1 event, 0 lost"), std::string::npos) << tracer.err();
}

TEST_F(ImdsTraceTest, FiltersByDestinationPidAndComm) {
    auto by_address = start_connsnoop({"--dst", "169.254.169.253", "--port", "80", "-o", "json", "--count", "1"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    const pid_t wanted = run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.253/"});
    ASSERT_EQ(by_address.wait(10s), 0) << by_address.err();  // --count 1 ends it
    const auto first = json::parse(by_address.out_lines().at(0));
    EXPECT_EQ(first["pid"], wanted);
    EXPECT_EQ(first["daddr"], "169.254.169.253");

    auto by_comm = start_connsnoop({"--imds", "--comm", "python3", "-o", "json", "--count", "1"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    const pid_t python =
        run_client({"/usr/bin/python3", "-c", "import socket; socket.create_connection(('169.254.169.254', 80))"});
    ASSERT_EQ(by_comm.wait(10s), 0) << by_comm.err();
    EXPECT_EQ(json::parse(by_comm.out_lines().at(0))["pid"], python);

    auto by_pid = start_connsnoop({"--imds", "--pid", "1", "-o", "json", "--duration", "2"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    ASSERT_EQ(by_pid.wait(10s), 0) << by_pid.err();
    const auto lines = by_pid.out_lines();
    ASSERT_EQ(lines.size(), 1U) << by_pid.out();  // only the summary
    EXPECT_EQ(json::parse(lines[0])["type"], "summary");
}

// The kernel reads the caller's uid and gid itself (plain loads from its
// credentials, not the helper): a uid and a gid that differ from each other and
// from root's show that each lands in its own field and that --uid matches it.
TEST_F(ImdsTraceTest, UidAndGidAreTheCallersOwnAndTheUidFilterMatchesThem) {
    auto tracer = start_connsnoop({"--imds", "--uid", "65534", "-o", "json", "--count", "1"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    const pid_t nobody = run_client({"setpriv", "--reuid=65534", "--regid=4242", "--clear-groups", "/usr/bin/python3",
                                     "-c", "import socket; socket.create_connection(('169.254.169.254', 80))"});
    ASSERT_EQ(tracer.wait(10s), 0) << tracer.err();
    const auto event = json::parse(tracer.out_lines().at(0));
    EXPECT_EQ(event["pid"], nobody);
    EXPECT_EQ(event["uid"], 65534);
    EXPECT_EQ(event["gid"], 4242);
}

// --imds covers the container-credential and other clouds' endpoints, and
// JSON names the endpoint reached.
TEST_F(ImdsTraceTest, ImdsCoversEveryMetadataEndpointAndNamesIt) {
    const std::vector<std::string> extra{"169.254.170.2", "169.254.170.23", "100.100.100.200"};
    for (const auto& address : extra) namespace_->run({"ip", "addr", "add", address + "/32", "dev", "lo"});
    namespace_->run({"ip", "-6", "addr", "add", "fd00:ec2::23/128", "dev", "lo", "nodad"});
    auto servers = start_standin_server(
        *namespace_, {"169.254.170.2:80", "169.254.170.23:80", "[fd00:ec2::23]:80", "100.100.100.200:80"});
    auto tracer = start_connsnoop({"--imds", "-o", "json"});
    const std::vector<std::pair<std::string, std::string>> expected{
        {"169.254.169.254", "ec2-imds"},         {"169.254.170.2", "ecs-task-credentials"},
        {"169.254.170.23", "eks-pod-identity"},  {"fd00:ec2::23", "eks-pod-identity"},
        {"100.100.100.200", "alibaba-metadata"},
    };
    for (const auto& [address, name] : expected) {
        const std::string host = address.find(':') == std::string::npos ? address : "[" + address + "]";
        run_client({"curl", "-s", "-g", "-o", "/dev/null", "--max-time", "5", "http://" + host + "/"});
    }
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.253/"});  // none of them
    std::vector<std::pair<std::string, std::string>> seen;
    for (const auto& record : stop_and_parse(tracer)) {
        if (record["type"] == "connect") seen.emplace_back(record["daddr"], record["endpoint"]);
    }
    EXPECT_EQ(seen, expected);
}

// v4-mapped connects are reported as IPv4; a v4-mapped filter is mapped the same way.
TEST_F(ImdsTraceTest, V4MappedDestinationFilterMatches) {
    auto tracer = start_connsnoop({"--dst", "::ffff:169.254.169.254", "-o", "json"});
    const pid_t plain = run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    const pid_t mapped = run_client({"/usr/bin/python3", "-c",
                                     "import socket; s = socket.socket(socket.AF_INET6); "
                                     "s.connect(('::ffff:169.254.169.254', 80)); s.close()"});
    std::vector<pid_t> seen;
    for (const auto& record : stop_and_parse(tracer)) {
        if (record["type"] == "connect") seen.push_back(record["pid"].get<pid_t>());
    }
    EXPECT_EQ(seen, (std::vector<pid_t>{plain, mapped}));
}

// --not-comm and --not-dst drop in the kernel what the other filters let through.
TEST_F(ImdsTraceTest, ExclusionsDropInTheKernel) {
    auto tracer = start_connsnoop(
        {"--dst", "169.254.169.0/24", "--not-dst", "169.254.169.253", "--not-comm", "perl", "-o", "json"});
    const pid_t curl = run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.253/"});      // --not-dst
    run_client({"perl", "-MIO::Socket::INET", "-e", "IO::Socket::INET->new('169.254.169.254:80')"});  // --not-comm
    std::vector<pid_t> seen;
    for (const auto& record : stop_and_parse(tracer)) {
        if (record["type"] == "connect") seen.push_back(record["pid"].get<pid_t>());
    }
    EXPECT_EQ(seen, std::vector<pid_t>{curl});
}

// --comm repeated is "any of", matched in the kernel; --port takes ranges.
TEST_F(ImdsTraceTest, RepeatedCommAndPortRangesFilterInTheKernel) {
    auto tracer = start_connsnoop({"--dst", "169.254.169.254", "--port", "79-80", "--port", "8080", "--comm", "curl",
                                   "--comm", "python3", "-o", "json"});
    const pid_t curl = run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"});
    const pid_t python =
        run_client({"/usr/bin/python3", "-c", "import socket; socket.create_connection(('169.254.169.254', 8080))"});
    run_client({"perl", "-MIO::Socket::INET", "-e", "IO::Socket::INET->new('169.254.169.254:80')"});  // not a comm
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254:81/"});   // not a port
    std::vector<std::pair<pid_t, int>> seen;
    for (const auto& record : stop_and_parse(tracer)) {
        if (record["type"] == "connect") seen.emplace_back(record["pid"].get<pid_t>(), record["dport"].get<int>());
    }
    EXPECT_EQ(seen, (std::vector<std::pair<pid_t, int>>{{curl, 80}, {python, 8080}}));
}

// Two namespaces make the same connection (same address, port and command
// line): --netns tells them apart in the kernel, by inode or by `ip netns`
// name, and takes several namespaces as "any of".
TEST_F(ImdsTraceTest, NetnsFilterTellsNamespacesMakingTheSameConnectionApart) {
    NetworkNamespace other("connsnoop-it-other");
    auto other_server = start_standin_server(other, {"169.254.169.254:80"});
    const std::string first_inode = std::to_string(namespace_->inode());

    auto first_only = start_connsnoop({"--imds", "-o", "json", "--netns", first_inode});
    auto other_only = start_connsnoop({"--imds", "-o", "json", "--netns", other.name()});
    auto both = start_connsnoop({"--imds", "-o", "json", "--netns", first_inode, "--netns", other.name()});
    EXPECT_NE(first_only.err().find("netns " + first_inode), std::string::npos) << first_only.err();
    EXPECT_NE(other_only.err().find("netns " + std::to_string(other.inode())), std::string::npos) << other_only.err();

    const std::vector<std::string> curl{"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/"};
    const pid_t in_first = run_client(curl);
    ChildProcess in_other_client(other.exec(curl));
    const pid_t in_other = in_other_client.pid();
    ASSERT_EQ(in_other_client.wait(15s), 0) << in_other_client.err();

    const auto connect_pids = [](ChildProcess& tracer) {
        std::map<pid_t, std::uint32_t> netns_by_pid;
        for (const auto& record : stop_and_parse(tracer)) {
            if (record["type"] == "connect") netns_by_pid[record["pid"].get<pid_t>()] = record["netns"];
        }
        return netns_by_pid;
    };
    using Seen = std::map<pid_t, std::uint32_t>;
    EXPECT_EQ(connect_pids(first_only), (Seen{{in_first, namespace_->inode()}}));
    EXPECT_EQ(connect_pids(other_only), (Seen{{in_other, other.inode()}}));
    EXPECT_EQ(connect_pids(both), (Seen{{in_first, namespace_->inode()}, {in_other, other.inode()}}));
}

}  // namespace
}  // namespace connsnoop::testing
