#include "enrich/executable_paths.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "event_fixtures.hpp"

namespace connsnoop {
namespace {

namespace fs = std::filesystem;

// A directory laid out like /proc, with real exe symbolic links.
class ExecutablePathCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        proc_ = fs::temp_directory_path() / ("connsnoop-exe-" + std::to_string(getpid()));
        fs::create_directories(proc_);
    }
    void TearDown() override { fs::remove_all(proc_); }
    void point_exe(std::uint32_t pid, const std::string& target) {
        const auto dir = proc_ / std::to_string(pid);
        fs::create_directories(dir);
        fs::remove(dir / "exe");
        fs::create_symlink(target, dir / "exe");
    }
    static ConnectEvent event_of(std::uint32_t pid, std::uint64_t start, std::vector<std::string> argv) {
        auto event = fixtures::sample_event(std::move(argv));
        event.pid = pid;
        event.start_boottime_ns = start;
        return event;
    }
    fs::path proc_;
};

TEST_F(ExecutablePathCacheTest, ReadOncePerProgramNotPerEvent) {
    ExecutablePathCache cache(proc_.string());
    point_exe(300, "/usr/bin/curl");
    EXPECT_EQ(cache.path_of(event_of(300, 5000, {"curl", "-s"})), "/usr/bin/curl");
    // The link changes, but this process's program did not: the cached path
    // is the proof that no readlink was made for its next event.
    point_exe(300, "/usr/bin/wget");
    EXPECT_EQ(cache.path_of(event_of(300, 5000, {"curl", "-s"})), "/usr/bin/curl");
    // An exec keeps PID and start time and changes argv (and comm): read again.
    EXPECT_EQ(cache.path_of(event_of(300, 5000, {"wget", "-q"})), "/usr/bin/wget");
    // Another process with the reused PID: read again.
    point_exe(300, "/usr/bin/python3");
    EXPECT_EQ(cache.path_of(event_of(300, 9000, {"curl", "-s"})), "/usr/bin/python3");
}

// The program is told apart by every byte of comm and argv and by where the
// arguments split, whatever their lengths (the fingerprint reads words, and
// the last bytes of each argument apart).
TEST_F(ExecutablePathCacheTest, AnyChangeOfArgvIsAnotherProgram) {
    ExecutablePathCache cache(proc_.string());
    const std::vector<std::vector<std::string>> programs = {
        {"ab", "c"},       {"a", "bc"},       {"abc"},
        {"abd"},           {"a", "b", "c"},   {"0123456789abc"},
        {"0123456789abd"}, {"0123456789xbc"}, {"01234567", "89abc"},
        {"abcdefgh"},      {"abcdefgi"},      {"abcde"},
        {"abcdf"},         {"ab", "c", ""},
    };
    for (std::size_t i = 0; i < programs.size(); ++i) {
        const std::string exe = "/usr/bin/program-" + std::to_string(i);
        point_exe(600, exe);
        EXPECT_EQ(cache.path_of(event_of(600, 42, programs[i])), exe) << i;
    }
    // Each is remembered as its own: no further reads.
    point_exe(600, "/usr/bin/other");
    for (std::size_t i = 0; i < programs.size(); ++i) {
        EXPECT_EQ(cache.path_of(event_of(600, 42, programs[i])), "/usr/bin/program-" + std::to_string(i)) << i;
    }
}

TEST_F(ExecutablePathCacheTest, UnknownStartTimeIsReadEveryTimeAndAGoneProcessIsEmpty) {
    ExecutablePathCache cache(proc_.string());
    point_exe(400, "/bin/sh");
    EXPECT_EQ(cache.path_of(event_of(400, 0, {"sh"})), "/bin/sh");
    point_exe(400, "/bin/dash");
    EXPECT_EQ(cache.path_of(event_of(400, 0, {"sh"})), "/bin/dash");
    EXPECT_EQ(cache.path_of(event_of(401, 7, {"gone"})), "");
}

// A program that connects and then execs another (a shell's last command,
// a dropper that execs something innocent) must not be named by the
// program it became: /proc/PID/exe is read after the event, and a thread
// whose task name changed since may run another program now.
TEST_F(ExecutablePathCacheTest, AProcessThatExecedSinceIsNotNamedByItsNewProgram) {
    ExecutablePathCache cache(proc_.string());
    const auto name_thread = [&](std::uint32_t pid, std::uint32_t tid, const std::string& comm) {
        const auto dir = proc_ / std::to_string(pid) / "task" / std::to_string(tid);
        fs::create_directories(dir);
        std::ofstream(dir / "comm") << comm << "\n";
    };
    const auto event_of_thread = [](std::uint32_t pid, std::uint32_t tid, const std::string& comm) {
        auto event = event_of(pid, 77, {comm, "-c", "exec 3<>/dev/tcp/169.254.169.254/80; exec sleep 1"});
        event.tid = tid;
        event.comm = comm;
        return event;
    };
    point_exe(700, "/usr/bin/sleep");
    name_thread(700, 700, "sleep");
    EXPECT_EQ(cache.path_of(event_of_thread(700, 700, "bash")), "");
    EXPECT_EQ(cache.path_of(event_of_thread(700, 700, "sleep")), "/usr/bin/sleep");
    // A named thread of a process that did not exec: its own task name is compared.
    point_exe(710, "/usr/lib/jvm/bin/java");
    name_thread(710, 710, "java");
    name_thread(710, 712, "http-worker-3");
    EXPECT_EQ(cache.path_of(event_of_thread(710, 712, "http-worker-3")), "/usr/lib/jvm/bin/java");
}

TEST_F(ExecutablePathCacheTest, StaysBounded) {
    ExecutablePathCache cache(proc_.string());
    point_exe(500, "/usr/bin/curl");
    const auto first = event_of(500, 1, {"curl"});
    EXPECT_EQ(cache.path_of(first), "/usr/bin/curl");
    for (std::uint64_t start = 2; start <= ExecutablePathCache::kMaxEntries + 1; ++start) {
        (void)cache.path_of(event_of(500, start, {"curl"}));
    }
    // The first entry was dropped when the cache started over: read afresh.
    point_exe(500, "/usr/bin/wget");
    EXPECT_EQ(cache.path_of(first), "/usr/bin/wget");
}

}  // namespace
}  // namespace connsnoop
