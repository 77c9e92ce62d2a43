#include "enrich/ancestry.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace connsnoop {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

// A directory laid out like /proc: real files, parsed by the real code.
class AncestryResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        proc_ = fs::temp_directory_path() / ("connsnoop-proc-" + std::to_string(getpid()));
        fs::create_directories(proc_);
    }
    void TearDown() override { fs::remove_all(proc_); }
    void add_process(std::uint32_t pid, const std::string& comm, std::uint32_t ppid, std::uint64_t start_ticks,
                     const std::string& cmdline) {
        const auto dir = proc_ / std::to_string(pid);
        fs::create_directories(dir);
        std::ofstream(dir / "stat") << pid << " (" << comm << ") S " << ppid
                                    << " 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 " << start_ticks
                                    << " 1000 100 18446744073709551615\n";
        std::ofstream(dir / "cmdline", std::ios::binary) << cmdline;
    }
    static std::uint64_t ns_for_ticks(std::uint64_t ticks) {
        return ticks * (1'000'000'000ULL / static_cast<std::uint64_t>(sysconf(_SC_CLK_TCK)));
    }
    fs::path proc_;
};

TEST_F(AncestryResolverTest, FollowsParentLinksWithFullCommandLines) {
    add_process(300, "python3", 200, 5000, "python3\0fetch.py\0--once\0"s);
    add_process(200, "bash", 1, 4000, "bash\0-c\0run it\0"s);
    add_process(1, "init (custom)", 0, 1, "/sbin/init\0"s);
    AncestryResolver resolver(nullptr, proc_.string());
    const auto chain = resolver.resolve({{300, 0}}, 4);
    ASSERT_EQ(chain.size(), 3U);
    EXPECT_EQ(chain[0], (AncestorProcess{300, "python3", {"python3", "fetch.py", "--once"}, false}));
    EXPECT_EQ(chain[1], (AncestorProcess{200, "bash", {"bash", "-c", "run it"}, false}));
    EXPECT_EQ(chain[2].comm, "init (custom)");  // parentheses inside comm are parsed right
    EXPECT_EQ(resolver.resolve({{300, 0}}, 1).size(), 1U);
}

TEST_F(AncestryResolverTest, AReusedPidIsNotTakenForTheParent) {
    add_process(300, "imposter", 1, 9999, "imposter\0"s);
    AncestryResolver resolver(nullptr, proc_.string());
    // The kernel saw PID 300 started at tick 5000; /proc's PID 300 started later.
    EXPECT_TRUE(resolver.resolve({{300, ns_for_ticks(5000)}}, 4).empty());
    EXPECT_EQ(resolver.resolve({{300, ns_for_ticks(9999)}}, 4).at(0).comm, "imposter");
}

TEST_F(AncestryResolverTest, KernelChainIsUsedBeforeParentLinks) {
    add_process(300, "python3", 200, 5000, "python3\0"s);
    add_process(250, "sh", 1, 4500, "sh\0"s);  // reparented since: /proc says 200, the kernel saw 250
    AncestryResolver resolver(nullptr, proc_.string());
    const auto chain = resolver.resolve({{300, ns_for_ticks(5000)}, {250, ns_for_ticks(4500)}}, 4);
    ASSERT_EQ(chain.size(), 2U);
    EXPECT_EQ(chain[1].comm, "sh");
}

}  // namespace
}  // namespace connsnoop
