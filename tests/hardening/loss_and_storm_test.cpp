// Loss is never silent, and storms are survived in bounded memory: the real
// binary against connect-storm, isolated in a cgroup of its own (so the
// count is exact) and a private network namespace.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "hardening_support.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
    const char* value = std::getenv(name);
    return value && *value ? std::stoull(value) : fallback;
}

// connect-storm's JSON line: connections and errors, both connect() calls the
// kernel saw start (CLOSE -> SYN_SENT), so both are events.
std::uint64_t attempts_made(const ChildProcess& storm) {
    const auto result = json::parse(storm.out());
    return result["connections"].get<std::uint64_t>() + result["errors"].get<std::uint64_t>();
}

// connsnoop with stdout to a file (or /dev/null), so a slow reader never
// stands in for a slow consumer.
ChildProcess start_connsnoop_to(const std::string& output, std::vector<std::string> args) {
    std::vector<std::string> command{"sh", "-c", "exec \"$@\" > \"$0\"", output};
    const auto connsnoop = connsnoop_command(std::move(args));
    command.insert(command.end(), connsnoop.begin(), connsnoop.end());
    ChildProcess tracer(command);
    EXPECT_TRUE(tracer.wait_for_stderr("tracing TCP connects", 10s)) << tracer.err();
    return tracer;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream file(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    return lines;
}

class LossAndStormTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace and a cgroup)";
    }
};

TEST_F(LossAndStormTest, TinyRingBufferLosesEventsAndSaysSoAsTheyHappenAndEveryConnectIsAccountedFor) {
    NetworkNamespace netns("connsnoop-loss");
    ScopedCgroup cgroup("connsnoop-loss");
    const std::string output = "/tmp/connsnoop-loss-" + std::to_string(getpid()) + ".jsonl";
    auto tracer =
        start_connsnoop_to(output, {"--cgroup", cgroup.relative_path(), "-o", "json", "--ringbuf-size", "4096"});

    ChildProcess storm(cgroup.exec(netns.exec({connect_storm_binary(), "--processes", "2", "--count", "10000"})));
    ASSERT_EQ(storm.wait(120s), 0) << storm.err();
    const auto attempts = attempts_made(storm);
    std::this_thread::sleep_for(300ms);
    tracer.send_signal(SIGINT);
    ASSERT_EQ(tracer.wait(20s), 0) << tracer.err();

    const auto lines = read_lines(output);
    std::remove(output.c_str());
    const auto records = parse_json_lines(lines);
    ASSERT_FALSE(records.empty());
    const auto connects = records_of_type(records, "connect");
    const auto losses = records_of_type(records, "lost");
    const auto& summary = records.back();
    ASSERT_EQ(summary["type"], "summary");

    ASSERT_FALSE(losses.empty()) << "a 4 KiB ring buffer under this load must overflow";
    std::uint64_t lost_sum = 0;
    for (const auto& loss : losses) {
        lost_sum += loss["count"].get<std::uint64_t>();
        EXPECT_EQ(loss["total"], lost_sum);
    }
    EXPECT_EQ(summary["lost"], lost_sum);
    EXPECT_EQ(summary["events"], connects.size());
    // The exact account: every connect() is printed or counted as lost.
    EXPECT_EQ(connects.size() + lost_sum, attempts) << "printed " << connects.size() << ", lost " << lost_sum;
    for (const auto& connect : connects) ASSERT_EQ(connect["comm"], "connect-storm") << connect.dump();

    // As they happen: a loss record comes before later connect records, not only at the end.
    std::size_t first_loss = lines.size();
    std::size_t last_connect = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (records[i]["type"] == "lost") first_loss = std::min(first_loss, i);
        if (records[i]["type"] == "connect") last_connect = i;
    }
    EXPECT_LT(first_loss, last_connect);
    EXPECT_NE(tracer.err().find("events lost (ring buffer full)"), std::string::npos) << tracer.err();
    EXPECT_NE(tracer.err().find(std::to_string(lost_sum) + " lost in"), std::string::npos) << tracer.err();
}

// A stop signal while connsnoop is blocked writing to a reader that has not
// read yet: the write resumes, every pending line is printed, exit 0.
TEST_F(LossAndStormTest, StopSignalWhileBlockedOnASlowReaderStillPrintsEverythingAndExitsZero) {
    NetworkNamespace netns("connsnoop-slow");
    ScopedCgroup cgroup("connsnoop-slow");
    ChildProcess tracer(connsnoop_command({"--cgroup", cgroup.relative_path(), "-o", "json"}));
    ASSERT_TRUE(tracer.wait_for_stderr("tracing TCP connects", 10s)) << tracer.err();
    // ~2,000 lines of JSON: far more than a pipe holds, and nobody reads it yet.
    ChildProcess storm(cgroup.exec(netns.exec({connect_storm_binary(), "--processes", "1", "--count", "2000"})));
    ASSERT_EQ(storm.wait(60s), 0) << storm.err();
    const auto attempts = attempts_made(storm);
    std::this_thread::sleep_for(300ms);
    tracer.send_signal(SIGTERM);
    ASSERT_EQ(tracer.wait(30s), 0) << tracer.err();  // reads the pipe while it waits

    const auto records = parse_json_lines(tracer.out_lines());
    ASSERT_FALSE(records.empty());
    const auto& summary = records.back();
    ASSERT_EQ(summary["type"], "summary");
    EXPECT_EQ(records_of_type(records, "connect").size(), summary["events"].get<std::size_t>());
    EXPECT_EQ(summary["events"].get<std::uint64_t>() + summary["lost"].get<std::uint64_t>(), attempts);
    EXPECT_EQ(tracer.err().find("error"), std::string::npos) << tracer.err();
}

// CI runs a short storm (CONNSNOOP_STORM_SECONDS, default 8); the full-size one
// is CONNSNOOP_STORM_CONNECTIONS=1000000 (see README, Reliability).
TEST_F(LossAndStormTest, StormOfShortConnectionsFromManyProcessesKeepsMemoryFlatAndAccountsForEveryConnect) {
    NetworkNamespace netns("connsnoop-storm");
    ScopedCgroup cgroup("connsnoop-storm");
    const auto processes = env_or("CONNSNOOP_STORM_PROCESSES", 8);
    const auto total = env_or("CONNSNOOP_STORM_CONNECTIONS", 0);
    const auto seconds = env_or("CONNSNOOP_STORM_SECONDS", 8);

    auto tracer = start_connsnoop_to("/dev/null", {"--cgroup", cgroup.relative_path(), "-o", "json"});
    std::vector<std::string> storm_command{connect_storm_binary(), "--processes", std::to_string(processes)};
    if (total != 0) {
        storm_command.insert(storm_command.end(), {"--count", std::to_string(total / processes)});
    } else {
        storm_command.insert(storm_command.end(), {"--duration", std::to_string(seconds)});
    }

    // RSS of connsnoop, sampled every 250 ms while the storm runs.
    std::vector<std::uint64_t> samples;
    std::atomic<bool> storm_over{false};
    std::thread sampler([&] {
        while (!storm_over) {
            if (const auto kib = resident_kib(tracer.pid())) samples.push_back(*kib);
            std::this_thread::sleep_for(250ms);
        }
    });
    const auto started = std::chrono::steady_clock::now();
    ChildProcess storm(cgroup.exec(netns.exec(storm_command)));
    const int storm_status = storm.wait(15min);
    const double storm_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    storm_over = true;
    sampler.join();
    ASSERT_EQ(storm_status, 0) << storm.err();
    const auto attempts = attempts_made(storm);

    std::this_thread::sleep_for(300ms);
    tracer.send_signal(SIGINT);
    ASSERT_EQ(tracer.wait(60s), 0) << "connsnoop did not survive the storm: " << tracer.err();

    // connsnoop: N events, M lost in S s
    std::smatch summary;
    const std::string err = tracer.err();
    ASSERT_TRUE(std::regex_search(err, summary, std::regex(R"(connsnoop: (\d+) events, (\d+) lost)"))) << err;
    const auto events = std::stoull(summary[1]);
    const auto lost = std::stoull(summary[2]);
    EXPECT_EQ(events + lost, attempts) << err;
    std::cout << "storm: " << attempts << " connections from " << processes << " processes in " << storm_seconds
              << " s; connsnoop printed " << events << ", lost " << lost << "; RSS samples (KiB):";
    for (auto kib : samples) std::cout << ' ' << kib;
    std::cout << std::endl;

    // Flat after warm-up: the first quarter of the run is warm-up; after it,
    // RSS may wander by allocator noise but not grow with the event count.
    ASSERT_GE(samples.size(), 8U);
    const std::vector<std::uint64_t> steady(samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 4),
                                            samples.end());
    const auto [low, high] = std::minmax_element(steady.begin(), steady.end());
    EXPECT_LE(*high - steady.front(), std::max<std::uint64_t>(1024, steady.front() / 10))
        << "RSS grew from " << steady.front() << " KiB to " << *high << " KiB (low " << *low << ")";
}

}  // namespace
}  // namespace connsnoop::testing
