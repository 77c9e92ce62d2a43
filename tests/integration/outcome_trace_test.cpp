// Root integration tests for --outcome/--failed: each fate produced by the
// real kernel in a private network namespace, asserted with the process
// (exact PID and command line), the result, the errno and the latency.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kOverloaded = "169.254.169.253";  // the stalled stand-in: SYNs dropped
constexpr const char* kUnroutable = "192.0.2.1";        // TEST-NET-1: no route in the namespace
constexpr const char* kUnroutableV6 = "2001:db8::1";    // documentation prefix: no route either

class OutcomeTraceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-oc");
        // One SYN retry: an unanswered attempt gives up after about 3 s.
        namespace_->run({"sysctl", "-qw", "net.ipv4.tcp_syn_retries=1"});
        server_ = std::make_unique<ChildProcess>(
            namespace_->exec({"python3", support_dir() + "/imds_standin.py", "169.254.169.254:80"}));
        ASSERT_TRUE(server_->wait_for_stdout("ready", 10s)) << server_->err();
        overloaded_ = std::make_unique<ChildProcess>(namespace_->exec(
            {"python3", support_dir() + "/imds_standin.py", "--overloaded", std::string(kOverloaded) + ":80"}));
        ASSERT_TRUE(overloaded_->wait_for_stdout("ready", 10s)) << overloaded_->err();
    }
    static void TearDownTestSuite() {
        overloaded_.reset();
        server_.reset();
        namespace_.reset();
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    static ChildProcess start_connsnoop(std::vector<std::string> args) {
        for (const char* dst : {kImdsV4, kOverloaded, kUnroutable, kUnroutableV6}) {
            args.insert(args.end(), {"--dst", dst});
        }
        ChildProcess tracer(connsnoop_command(std::move(args)));
        EXPECT_TRUE(tracer.wait_for_stderr("following outcomes", 10s)) << tracer.err();
        return tracer;
    }

    // Runs a Python client in the namespace to completion; returns its PID.
    static pid_t run_python(const std::string& code) {
        ChildProcess client(namespace_->exec({kPython, "-c", code}));
        const pid_t pid = client.pid();
        EXPECT_EQ(client.wait(20s), 0) << client.err();
        return pid;
    }

    // Stops the tracer; returns the connect records and the summary. A
    // "pending" record announcing an attempt that hangs (its fate follows
    // with the same attempt_id) is left out unless `with_announcements`.
    static std::pair<std::vector<json>, json> stop_and_parse(ChildProcess& tracer, bool with_announcements = false) {
        std::this_thread::sleep_for(300ms);
        tracer.send_signal(SIGINT);
        EXPECT_EQ(tracer.wait(10s), 0) << tracer.err();
        std::vector<json> connects;
        json summary;
        for (const auto& line : tracer.out_lines()) {
            auto record = json::parse(line, nullptr, false);
            EXPECT_FALSE(record.is_discarded()) << "not JSON: " << line;
            if (record.is_discarded()) continue;
            if (record["type"] == "connect") connects.push_back(record);
            if (record["type"] == "summary") summary = record;
        }
        if (!with_announcements) {
            std::erase_if(connects, [&](const json& record) {
                return record["result"] == "pending" && !record["attempt_id"].is_null() &&
                       std::count_if(connects.begin(), connects.end(), [&](const json& other) {
                           return other["attempt_id"] == record["attempt_id"];
                       }) > 1;
            });
        }
        return {connects, summary};
    }

    static void expect_process(const json& record, pid_t pid, const std::string& code) {
        EXPECT_EQ(record["pid"], pid) << record.dump();
        EXPECT_EQ(record["tid"], pid);
        EXPECT_EQ(record["ppid"], getpid());
        EXPECT_EQ(record["comm"], "python3");
        EXPECT_EQ(record["argv"], (std::vector<std::string>{kPython, "-c", code}));
        EXPECT_EQ(record["cmdline"], std::string(kPython) + " -c " + code);
        EXPECT_EQ(record["netns"], namespace_->inode());
    }

    static void expect_latency_between(const json& record, std::uint64_t low_us, std::uint64_t high_us) {
        ASSERT_TRUE(record["latency_us"].is_number_unsigned()) << record.dump();
        const auto latency = record["latency_us"].get<std::uint64_t>();
        EXPECT_GE(latency, low_us) << record.dump();
        EXPECT_LT(latency, high_us) << record.dump();
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
    static inline std::unique_ptr<ChildProcess> server_;
    static inline std::unique_ptr<ChildProcess> overloaded_;
};

TEST_F(OutcomeTraceTest, EstablishedRefusedAndTimedOutAttemptsWithTheirLatency) {
    auto tracer = start_connsnoop({"--outcome", "-o", "json"});
    const std::string established_code =
        "import socket; s = socket.create_connection(('169.254.169.254', 80)); s.close()";
    const std::string refused_code =
        "import socket\ntry:\n    socket.create_connection(('169.254.169.254', 9))\n"
        "except ConnectionRefusedError:\n    pass";
    const std::string timeout_code =
        "import socket\ntry:\n    socket.create_connection(('169.254.169.253', 80))\n"
        "except TimeoutError:\n    pass";
    const pid_t established = run_python(established_code);
    const pid_t refused = run_python(refused_code);
    const pid_t timed_out = run_python(timeout_code);
    const auto [connects, summary] = stop_and_parse(tracer);

    ASSERT_EQ(connects.size(), 3U) << tracer.out();
    // Written when the fate is known, so in the order the fates were.
    const auto& ok = connects[0];
    expect_process(ok, established, established_code);
    EXPECT_EQ(ok["result"], "established");
    EXPECT_TRUE(ok["errno"].is_null());
    expect_latency_between(ok, 1, 1'000'000);
    EXPECT_TRUE(ok["sport"].is_number_unsigned()) << "the outcome carries the ephemeral port";
    EXPECT_EQ(ok["daddr"], "169.254.169.254");
    EXPECT_EQ(ok["dport"], 80);

    const auto& rst = connects[1];
    expect_process(rst, refused, refused_code);
    EXPECT_EQ(rst["result"], "refused");
    EXPECT_EQ(rst["errno"], "ECONNREFUSED");
    expect_latency_between(rst, 1, 1'000'000);
    EXPECT_EQ(rst["dport"], 9);

    const auto& lost = connects[2];
    expect_process(lost, timed_out, timeout_code);
    EXPECT_EQ(lost["result"], "timeout");
    EXPECT_EQ(lost["errno"], "ETIMEDOUT");
    expect_latency_between(lost, 2'000'000, 10'000'000);  // SYN + one retry: about 3 s
    EXPECT_EQ(lost["daddr"], kOverloaded);

    EXPECT_EQ(summary["events"], 3);
    EXPECT_EQ(summary["results"]["established"], 1);
    EXPECT_EQ(summary["results"]["refused"], 1);
    EXPECT_EQ(summary["results"]["timeout"], 1);
    EXPECT_EQ(summary["results"]["pending"], 0);
    EXPECT_EQ(summary["not_followed"], 0);
    EXPECT_NE(tracer.err().find("results: 1 established, 1 refused, 1 timeout; 0 outcomes not followed"),
              std::string::npos)
        << tracer.err();
}

TEST_F(OutcomeTraceTest, ConnectCallsThatFailBeforeAnySynCarryTheirErrno) {
    // One ephemeral port in the namespace: hold it, and the next connect()
    // to the same destination has none left. Restored even when an assertion fails.
    namespace_->run({"sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 40000"});
    struct RestorePortRange {
        ~RestorePortRange() {
            run_command(namespace_->exec({"sysctl", "-qw", "net.ipv4.ip_local_port_range=32768 60999"}));
        }
    } restore_port_range;
    auto tracer = start_connsnoop({"--outcome", "-o", "json"});
    const std::string exhausted_code =
        "import socket\nheld = socket.create_connection(('169.254.169.254', 80))\ntry:\n"
        "    socket.create_connection(('169.254.169.254', 80))\nexcept OSError as e:\n"
        "    assert e.errno == 99, e";
    const std::string unreachable_code =
        "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80))\nexcept OSError as e:\n"
        "    assert e.errno == 101, e";
    const std::string unreachable_v6_code =
        "import socket\ntry:\n    socket.create_connection(('2001:db8::1', 443))\nexcept OSError as e:\n"
        "    assert e.errno == 101, e";
    const pid_t exhausted = run_python(exhausted_code);
    const pid_t unreachable = run_python(unreachable_code);
    const pid_t unreachable_v6 = run_python(unreachable_v6_code);
    const auto [connects, summary] = stop_and_parse(tracer);

    ASSERT_EQ(connects.size(), 4U) << tracer.out();
    expect_process(connects[0], exhausted, exhausted_code);
    EXPECT_EQ(connects[0]["result"], "established");
    EXPECT_EQ(connects[0]["sport"], 40000);

    const auto& no_port = connects[1];
    expect_process(no_port, exhausted, exhausted_code);
    EXPECT_EQ(no_port["result"], "failed");
    EXPECT_EQ(no_port["errno"], "EADDRNOTAVAIL");
    EXPECT_TRUE(no_port["latency_us"].is_null()) << "no SYN left: " << no_port.dump();
    EXPECT_EQ(no_port["daddr"], "169.254.169.254");
    EXPECT_EQ(no_port["dport"], 80);

    const auto& no_route = connects[2];
    expect_process(no_route, unreachable, unreachable_code);
    EXPECT_EQ(no_route["result"], "failed");
    EXPECT_EQ(no_route["errno"], "ENETUNREACH");
    EXPECT_TRUE(no_route["latency_us"].is_null());
    EXPECT_EQ(no_route["daddr"], kUnroutable);
    EXPECT_EQ(no_route["dport"], 80);
    EXPECT_EQ(no_route["family"], "ipv4");
    EXPECT_EQ(no_route["saddr"], "0.0.0.0");
    EXPECT_TRUE(no_route["sport"].is_null()) << "no port was chosen: " << no_route.dump();

    const auto& no_route_v6 = connects[3];
    expect_process(no_route_v6, unreachable_v6, unreachable_v6_code);
    EXPECT_EQ(no_route_v6["result"], "failed");
    EXPECT_EQ(no_route_v6["errno"], "ENETUNREACH");
    EXPECT_EQ(no_route_v6["family"], "ipv6");
    EXPECT_EQ(no_route_v6["daddr"], kUnroutableV6);
    EXPECT_EQ(no_route_v6["dport"], 443);

    EXPECT_EQ(summary["results"]["established"], 1);
    EXPECT_EQ(summary["results"]["failed"], 3);
}

TEST_F(OutcomeTraceTest, NonBlockingConnectIsFollowedToItsRealOutcome) {
    auto tracer = start_connsnoop({"--outcome", "-o", "json"});
    // connect_ex returns EINPROGRESS (115): not a failure; the SYN is answered later.
    const std::string code =
        "import select, socket\ns = socket.socket()\ns.setblocking(False)\n"
        "assert s.connect_ex(('169.254.169.254', 80)) == 115\nselect.select([], [s], [], 5)\n"
        "assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0";
    const pid_t client = run_python(code);
    const auto [connects, summary] = stop_and_parse(tracer);

    ASSERT_EQ(connects.size(), 1U) << tracer.out();
    expect_process(connects[0], client, code);
    EXPECT_EQ(connects[0]["result"], "established");
    EXPECT_TRUE(connects[0]["errno"].is_null());
    expect_latency_between(connects[0], 1, 1'000'000);
    EXPECT_EQ(summary["results"]["failed"], 0);
}

TEST_F(OutcomeTraceTest, FailedShowsOnlyAttemptsThatDidNotEstablishButCountsAll) {
    auto tracer = start_connsnoop({"--failed"});
    run_python("import socket; socket.create_connection(('169.254.169.254', 80)).close()");
    const pid_t refused = run_python(
        "import socket\ntry:\n    socket.create_connection(('169.254.169.254', 9))\nexcept OSError:\n    pass");
    std::this_thread::sleep_for(300ms);
    tracer.send_signal(SIGINT);
    ASSERT_EQ(tracer.wait(10s), 0) << tracer.err();

    const auto lines = tracer.out_lines();
    ASSERT_EQ(lines.size(), 2U) << tracer.out();  // header and the refused attempt
    EXPECT_NE(lines[0].find("RESULT"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("LATENCY"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find(std::to_string(refused)), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find(" 169.254.169.254:9 "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find(" refused "), std::string::npos) << lines[1];
    EXPECT_NE(tracer.err().find("results: 1 established, 1 refused;"), std::string::npos) << tracer.err();
}

// The port each SYN left from, as the client saw it, is on its outcome: also
// for attempts that timed out or were abandoned (the kernel has released the
// port by then).
TEST_F(OutcomeTraceTest, TimedOutAndAbortedAttemptsCarryTheirSynPort) {
    auto tracer = start_connsnoop({"--outcome", "-o", "json"});
    const std::string code =
        "import select, socket, time\n"
        "def start():\n    s = socket.socket(); s.setblocking(False)\n"
        "    assert s.connect_ex(('169.254.169.253', 80)) == 115\n    print(s.getsockname()[1], flush=True)\n"
        "    return s\n"
        "abandoned = start(); time.sleep(0.3); abandoned.close()\n"
        "waiting = start(); select.select([], [waiting], [], 10)\n"
        "assert waiting.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 110";
    ChildProcess client(namespace_->exec({kPython, "-c", code}));
    ASSERT_EQ(client.wait(20s), 0) << client.err();
    const auto ports = client.out_lines();
    ASSERT_EQ(ports.size(), 2U) << client.out();
    const auto [connects, summary] = stop_and_parse(tracer);

    ASSERT_EQ(connects.size(), 2U) << tracer.out();
    EXPECT_EQ(connects[0]["result"], "aborted");
    EXPECT_EQ(connects[0]["sport"], std::stoi(ports[0])) << connects[0].dump();
    EXPECT_EQ(connects[1]["result"], "timeout");
    EXPECT_EQ(connects[1]["sport"], std::stoi(ports[1])) << connects[1].dump();

    // Without --outcome the record is written before the port is chosen: null, not 0.
    ChildProcess plain(connsnoop_command({"-o", "json", "--dst", kImdsV4}));
    ASSERT_TRUE(plain.wait_for_stderr("tracing TCP connects", 10s)) << plain.err();
    run_python("import socket; socket.create_connection(('169.254.169.254', 80)).close()");
    const auto [plain_connects, plain_summary] = stop_and_parse(plain);
    ASSERT_EQ(plain_connects.size(), 1U) << plain.out();
    EXPECT_TRUE(plain_connects[0]["sport"].is_null()) << plain_connects[0].dump();
}

TEST_F(OutcomeTraceTest, FailedAlsoWritesAttemptsThatWereNotFollowed) {
    auto tracer = start_connsnoop({"--failed", "-o", "json", "--max-in-flight", "1"});
    const std::string code =
        "import socket, threading\ndef attempt():\n    try:\n        socket.create_connection(('169.254.169.253', "
        "80))\n"
        "    except TimeoutError:\n        pass\nthreads = [threading.Thread(target=attempt) for _ in range(2)]\n"
        "[t.start() for t in threads]\n[t.join() for t in threads]";
    run_python(code);
    const auto [connects, summary] = stop_and_parse(tracer);
    ASSERT_EQ(connects.size(), 2U) << tracer.out();
    EXPECT_EQ(connects[0]["result"], "untracked") << "its fate is unknown: it may have failed";
    EXPECT_EQ(connects[1]["result"], "timeout");
    EXPECT_EQ(summary["results"]["untracked"], 1);
}

// A dropped SYN takes long to time out: the attempt is shown as pending
// while it hangs, and its fate follows with the same attempt_id.
TEST_F(OutcomeTraceTest, HangingAttemptIsShownWhileItHangs) {
    auto tracer = start_connsnoop({"--outcome", "-o", "json"});
    const std::string code =
        "import socket\ntry:\n    socket.create_connection(('169.254.169.253', 80))\nexcept TimeoutError:\n    pass";
    ChildProcess client(namespace_->exec({kPython, "-c", code}));  // about 3 s in SYN_SENT
    ASSERT_TRUE(tracer.wait_for_stdout(R"("result":"pending")", 2500ms))
        << "not shown while it hangs: " << tracer.out();
    ASSERT_EQ(client.wait(20s), 0) << client.err();
    const auto [connects, summary] = stop_and_parse(tracer, true);

    ASSERT_EQ(connects.size(), 2U) << tracer.out();
    expect_process(connects[0], client.pid(), code);
    EXPECT_EQ(connects[0]["result"], "pending");
    EXPECT_TRUE(connects[0]["latency_us"].is_null());
    EXPECT_EQ(connects[1]["result"], "timeout");
    ASSERT_TRUE(connects[0]["attempt_id"].is_number_unsigned()) << connects[0].dump();
    EXPECT_EQ(connects[1]["attempt_id"], connects[0]["attempt_id"]);
    EXPECT_EQ(summary["results"]["pending"], 0) << "the fate is counted, not the announcement";
    EXPECT_EQ(summary["results"]["timeout"], 1);
}

TEST_F(OutcomeTraceTest, AttemptsStillConnectingAtTheEndAreWrittenAsPending) {
    auto tracer = start_connsnoop({"--outcome", "-o", "json"});
    const std::string code = "import socket; socket.create_connection(('169.254.169.253', 80))";
    ChildProcess client(namespace_->exec({kPython, "-c", code}));  // its SYNs are dropped: ~3 s in SYN_SENT
    std::this_thread::sleep_for(500ms);
    const auto [connects, summary] = stop_and_parse(tracer);

    ASSERT_EQ(connects.size(), 1U) << tracer.out();
    expect_process(connects[0], client.pid(), code);
    EXPECT_EQ(connects[0]["result"], "pending");
    EXPECT_TRUE(connects[0]["errno"].is_null());
    EXPECT_TRUE(connects[0]["latency_us"].is_null());
    EXPECT_EQ(summary["results"]["pending"], 1);
}

TEST_F(OutcomeTraceTest, AttemptsBeyondTheInFlightMapAreReportedAsNotFollowed) {
    auto tracer = start_connsnoop({"--outcome", "-o", "json", "--max-in-flight", "1"});
    // Two attempts in flight at once (both wait for the overloaded stand-in):
    // the map holds one; the other is reported at once as not followed.
    const std::string code =
        "import socket, threading\ndef attempt():\n    try:\n        socket.create_connection(('169.254.169.253', "
        "80))\n"
        "    except TimeoutError:\n        pass\nthreads = [threading.Thread(target=attempt) for _ in range(2)]\n"
        "[t.start() for t in threads]\n[t.join() for t in threads]";
    const pid_t client = run_python(code);
    const auto [connects, summary] = stop_and_parse(tracer);

    ASSERT_EQ(connects.size(), 2U) << tracer.out();
    EXPECT_EQ(connects[0]["result"], "untracked") << "written at once, before the followed one timed out";
    EXPECT_TRUE(connects[0]["latency_us"].is_null());
    EXPECT_EQ(connects[1]["result"], "timeout");
    for (const auto& record : connects) {
        EXPECT_EQ(record["pid"], client);
        EXPECT_EQ(record["argv"], (std::vector<std::string>{kPython, "-c", code}));
    }
    EXPECT_EQ(summary["not_followed"], 1);
    EXPECT_EQ(summary["results"]["untracked"], 1);
    EXPECT_EQ(summary["results"]["timeout"], 1);
    EXPECT_NE(tracer.err().find("1 outcome not followed (in-flight map full)"), std::string::npos) << tracer.err();
}

}  // namespace
}  // namespace connsnoop::testing
